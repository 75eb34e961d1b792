// Fuzz target: the Responses API request parser
// (frontend/responses/responses_request). The input is a request body; its
// own `input` is also replayed as stored conversation items (the path a
// previous_response_id takes). A body that parses must survive what happens
// to it next: the msgpack round trip to the worker (identical bytes after
// decode + re-encode) and the worker's tool planning, and its canonical
// input items must parse again into the same messages; an error must be a
// 400 with a message.
#include "frontend/responses/responses_request.h"

#include <string>
#include <string_view>

#include "common/protocol/codec.h"
#include "fuzz_util.h"
#include "worker/toolcalls/tool_plan.h"

using namespace qp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static frontend::responses::ResponsesRequestParser parser;  // reused, as the frontend does
  std::string_view body(reinterpret_cast<const char*>(data), size);
  frontend::responses::ResponsesRequest req;
  frontend::ApiError err;
  if (!parser.parse(body, &req, &err)) {
    if (err.code != Code::kInvalidArgument) fuzz::fail("parse error with a non-400 code");
    if (err.message.empty()) fuzz::fail("parse error without a message");
    return 0;
  }
  if (req.job.model.empty()) fuzz::fail("parsed without a model");
  // The canonical items the store would keep parse back into the same messages.
  std::vector<protocol::ChatMessage> again;
  if (!parser.parse_items(req.input_items, &again, &err))
    fuzz::fail("canonical items do not parse");
  if (again.size() != req.input.size()) fuzz::fail("canonical items give other messages");
  for (size_t i = 0; i < again.size(); ++i) {
    if (again[i].role != req.input[i].role || again[i].content != req.input[i].content ||
        again[i].tool_calls != req.input[i].tool_calls)
      fuzz::fail("canonical items give other messages");
  }
  frontend::responses::finish(&req, {});
  std::string bytes = protocol::encode(req.job);
  protocol::JobRequest back;
  if (!protocol::decode(bytes, &back).ok()) fuzz::fail("encoded JobRequest does not decode");
  if (protocol::encode(back) != bytes) fuzz::fail("JobRequest round trip changed the bytes");
  auto plan = worker::toolcalls::plan_tools(back);
  (void)plan;
  return 0;
}
