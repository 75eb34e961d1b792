// Fuzz target: the HTTP/1.1 request adapter (common/http/request_parser).
// The input is the byte stream of one client connection. It is fed whole,
// and again in pieces derived from the input; both runs must give the same
// requests and the same error, every feed must consume what it reports, and
// nothing may crash or leak.
#include <string>
#include <string_view>

#include "common/http/request_parser.h"
#include "fuzz_util.h"

using qp::http::RequestParser;

namespace {

constexpr size_t kMaxHeaderBytes = 4096;  // small limits, so the 413/431 paths are reached
constexpr size_t kMaxBodyBytes = 16384;

std::string run(const std::vector<std::string_view>& pieces) {
  RequestParser parser(kMaxHeaderBytes, kMaxBodyBytes);
  std::string log;
  for (std::string_view piece : pieces) {
    size_t off = 0;
    while (off < piece.size()) {
      auto step = parser.feed(piece.substr(off));
      if (step.consumed > piece.size() - off) qp::fuzz::fail("consumed more than fed");
      off += step.consumed;
      if (step.event == RequestParser::Event::kRequest) {
        auto r = parser.take_request();
        log += "REQ " + r.method + " " + r.target + " path=" + r.path + " query=" + r.query + " v" +
               std::to_string(r.http_major) + "." + std::to_string(r.http_minor) +
               (r.keep_alive ? " keep" : " close") + "\n";
        for (const auto& [name, value] : r.headers) log += "  " + name + ": " + value + "\n";
        log += "  body " + std::to_string(r.body.size()) + " " +
               std::to_string(qp::fuzz::fnv1a(r.body)) + "\n";
        (void)r.header("content-type");
        (void)r.query_param("a");
      } else if (step.event == RequestParser::Event::kError) {
        int s = parser.error_status();
        if (s != 400 && s != 413 && s != 431 && s != 505)
          qp::fuzz::fail("unexpected error status", std::to_string(s));
        if (parser.error_message().empty()) qp::fuzz::fail("error without a message");
        if (!parser.finished()) qp::fuzz::fail("error but not finished");
        return log + "ERR " + std::to_string(s) + "\n";
      } else {
        if (step.consumed != piece.size() - (off - step.consumed))
          qp::fuzz::fail("kNeedMore without consuming every byte");
        if (parser.wants_continue()) parser.continue_sent();
      }
      if (parser.finished()) break;
    }
    if (parser.finished()) break;
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string whole = run({in});
  std::string split = run(qp::fuzz::random_pieces(in));
  if (whole != split) qp::fuzz::fail("a split changed the result", whole + "---\n" + split);
  return 0;
}
