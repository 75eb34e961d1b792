// Fuzz target: the OpenAI chat-completions request parser
// (frontend/openai/chat_request). The input is a request body. A body that
// parses must survive what happens to it next: the msgpack round trip to the
// worker (identical bytes after decode + re-encode) and the worker's tool
// planning (tools / tool_choice / system prompt detection).
#include "frontend/openai/chat_request.h"

#include <string>
#include <string_view>

#include "common/protocol/codec.h"
#include "fuzz_util.h"
#include "worker/toolcalls/tool_plan.h"

using namespace qp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static frontend::ChatRequestParser parser;  // reused, as the frontend does
  std::string_view body(reinterpret_cast<const char*>(data), size);
  frontend::ChatRequest req;
  frontend::ApiError err;
  if (!parser.parse(body, &req, &err)) {
    if (err.code != Code::kInvalidArgument) fuzz::fail("parse error with a non-400 code");
    if (err.message.empty()) fuzz::fail("parse error without a message");
    return 0;
  }
  std::string bytes = protocol::encode(req.job);
  protocol::JobRequest back;
  if (!protocol::decode(bytes, &back).ok()) fuzz::fail("encoded JobRequest does not decode");
  if (protocol::encode(back) != bytes) fuzz::fail("JobRequest round trip changed the bytes");
  auto plan = worker::toolcalls::plan_tools(back);
  (void)plan;
  return 0;
}
