// Fuzz target: the multipart/form-data reader (common/http/multipart). The
// input is a Content-Type value, a newline, then the body. Invariants:
// nothing crashes, hangs or leaks; a failure has a message and no parts;
// every view lies inside the body; and the parts, written out again in the
// canonical form, parse back to the same parts.
#include "common/http/multipart.h"

#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"

namespace mp = qp::http::multipart;

namespace {

bool inside(std::string_view view, std::string_view whole) {
  if (view.empty()) return true;
  return view.data() >= whole.data() && view.data() + view.size() <= whole.data() + whole.size();
}

std::string serialise(const std::vector<mp::Part>& parts, std::string_view boundary) {
  std::string out;
  for (const mp::Part& p : parts) {
    out.append("--").append(boundary).append("\r\n");
    out.append("Content-Disposition: form-data; name=\"").append(p.name).append("\"");
    if (p.has_filename) out.append("; filename=\"").append(p.filename).append("\"");
    out.append("\r\n");
    if (!p.content_type.empty()) out.append("Content-Type: ").append(p.content_type).append("\r\n");
    out.append("\r\n").append(p.body).append("\r\n");
  }
  out.append("--").append(boundary).append("--\r\n");
  return out;
}

std::string describe(const std::vector<mp::Part>& parts) {
  std::string out;
  for (const mp::Part& p : parts) {
    out.append("[").append(p.name).append("|").append(p.has_filename ? "F:" : "-:");
    out.append(p.filename).append("|").append(p.content_type).append("|");
    out.append(std::to_string(p.body.size())).append(":");
    out.append(std::to_string(qp::fuzz::fnv1a(p.body))).append("]\n");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view content_type = in.substr(0, nl);
  // The body in its own buffer, so ASan sees a read past its end.
  std::string body(in.substr(nl + 1));
  auto boundary = mp::boundary_of(content_type);
  if (!boundary) {
    if (boundary.error().message().empty()) qp::fuzz::fail("boundary error without a message");
    return 0;
  }
  if (!inside(*boundary, content_type)) qp::fuzz::fail("boundary outside the Content-Type");
  mp::Limits limits;
  limits.max_parts = 8;  // small, so the bounds are reached
  limits.max_header_bytes = 256;
  std::vector<mp::Part> parts;
  qp::Status s = mp::parse(body, *boundary, &parts, limits);
  if (!s.ok()) {
    if (s.message().empty()) qp::fuzz::fail("parse error without a message");
    if (!parts.empty()) qp::fuzz::fail("parts left after an error");
    return 0;
  }
  if (parts.empty() || parts.size() > limits.max_parts) qp::fuzz::fail("part count out of bounds");
  for (const mp::Part& p : parts) {
    if (!inside(p.name, body) || !inside(p.filename, body) || !inside(p.content_type, body) ||
        !inside(p.body, body))
      qp::fuzz::fail("a view outside the body");
  }
  std::string again = serialise(parts, *boundary);
  std::vector<mp::Part> reparsed;
  mp::Limits wide = limits;
  wide.max_header_bytes = 2 * limits.max_header_bytes + 128;  // canonical headers can be longer
  qp::Status s2 = mp::parse(again, *boundary, &reparsed, wide);
  if (!s2.ok()) qp::fuzz::fail("the re-serialised parts do not parse", s2.message() + "\n" + again);
  if (describe(parts) != describe(reparsed))
    qp::fuzz::fail("the re-serialised parts differ",
                   describe(parts) + "---\n" + describe(reparsed));
  return 0;
}
