// Fuzz target: the upstream response path of a worker: the SSE parser
// (worker/sse_parser) fed in pieces derived from the input, and every event
// it yields interpreted (worker/qwen_events) as the worker does. The whole
// input and the split input must yield the same events, outcome, text and
// usage.
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "worker/qwen_events.h"
#include "worker/sse_parser.h"

using namespace qp::worker;

namespace {

constexpr size_t kMaxEventBytes = 64 * 1024;  // small, so the limit is reached

std::string run(const std::vector<std::string_view>& pieces) {
  SseParser sse(kMaxEventBytes);
  QwenEventInterpreter interp;
  std::string content, reasoning, log;
  EventOutcome outcome = EventOutcome::kContinue;
  auto drain = [&] {
    std::string_view ev;
    while (sse.next(&ev)) {
      log += "E" + std::to_string(ev.size()) + ":" + std::to_string(qp::fuzz::fnv1a(ev)) + "\n";
      if (outcome == EventOutcome::kContinue) outcome = interp.interpret(ev, &content, &reasoning);
    }
  };
  for (std::string_view p : pieces) {
    sse.feed(p);
    drain();
    if (sse.buffered_bytes() > 2 * kMaxEventBytes + 4096) qp::fuzz::fail("SSE buffer unbounded");
  }
  sse.finish();
  drain();
  log +=
      "status=" + sse.status().message() + " outcome=" + std::to_string(static_cast<int>(outcome));
  log += " content=" + content + " reasoning=" + reasoning;
  const auto& u = interp.usage();
  log += " usage=" + std::to_string(u.present) + "/" + std::to_string(u.input_tokens) + "/" +
         std::to_string(u.output_tokens) + "/" + std::to_string(u.total_tokens);
  log += " ids=" + interp.chat_id() + "/" + interp.parent_id() + "/" + interp.response_id();
  if (outcome == EventOutcome::kError) log += " failure=" + interp.failure().message;
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string whole = run({in});
  std::string split = run(qp::fuzz::random_pieces(in));
  if (whole != split) qp::fuzz::fail("a split changed the result", whole + "\n---\n" + split);
  return 0;
}
