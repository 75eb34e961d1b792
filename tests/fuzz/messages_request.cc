// Fuzz target: the Anthropic Messages request parser
// (frontend/anthropic/messages_request). The input is a request body. A body
// that parses must survive what happens to it next: the msgpack round trip
// to the worker (identical bytes after decode + re-encode) and the worker's
// tool planning; an error must be a 400 with a message, rendered in
// Anthropic's shape.
#include "frontend/anthropic/messages_request.h"

#include <string>
#include <string_view>

#include "common/protocol/codec.h"
#include "frontend/anthropic/errors.h"
#include "fuzz_util.h"
#include "worker/toolcalls/tool_plan.h"

using namespace qp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static frontend::anthropic::MessagesRequestParser parser;  // reused, as the frontend does
  std::string_view body(reinterpret_cast<const char*>(data), size);
  frontend::anthropic::MessagesRequest req;
  frontend::ApiError err;
  if (!parser.parse(body, frontend::anthropic::MessagesRequestParser::Mode::kMessages, &req,
                    &err)) {
    if (err.code != Code::kInvalidArgument) fuzz::fail("parse error with a non-400 code");
    if (err.message.empty()) fuzz::fail("parse error without a message");
    if (frontend::anthropic::error_body(err).empty()) fuzz::fail("empty error body");
    return 0;
  }
  if (req.requested_model.empty()) fuzz::fail("parsed without a model");
  std::string bytes = protocol::encode(req.job);
  protocol::JobRequest back;
  if (!protocol::decode(bytes, &back).ok()) fuzz::fail("encoded JobRequest does not decode");
  if (protocol::encode(back) != bytes) fuzz::fail("JobRequest round trip changed the bytes");
  auto plan = worker::toolcalls::plan_tools(back);
  (void)plan;
  return 0;
}
