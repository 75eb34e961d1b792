// Renders a job's CHUNK/DONE/ERROR as OpenAI Responses API output. Pure: no
// I/O; ResponsesCall (responses_call.h) writes what this appends.
//
// Output items, in the order the job produces them (a new item whenever the
// kind of delta changes):
//   reasoning      {id rs_…, summary:[{summary_text}]}   (thinking requested)
//   message        {id msg_…, role assistant, content:[{output_text}]}
//   function_call  {id fc_…, call_id, name, arguments, namespace?}
//
// Streaming (append_*), each event an `event:` line and a `data:` object
// with `type` and `sequence_number` (0, 1, 2…):
//   response.created, response.in_progress;
//   per item: response.output_item.added, then
//     reasoning: response.reasoning_summary_part.added,
//                response.reasoning_summary_text.delta…, .done,
//                response.reasoning_summary_part.done
//     message:   response.content_part.added, response.output_text.delta…,
//                response.output_text.done, response.content_part.done
//     function_call: response.function_call_arguments.delta…, .done
//   and response.output_item.done;
//   then response.completed, or response.incomplete (finish_reason length:
//   incomplete_details.reason "max_output_tokens"; content_filter:
//   "content_filter"); on a failure after the stream began: `error`, then
//   response.failed.
// Non-streaming (add + response_json): the same items in one Response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"
#include "frontend/responses/responses_request.h"

namespace qp::frontend::responses {

// What a Response echoes of its request.
struct ResponseEcho {
  std::string id;  // resp_…
  std::string model;
  int64_t created_at = 0;  // unix seconds
  std::string instructions;
  std::string previous_response_id;
  std::string tools;        // JSON array
  std::string tool_choice;  // JSON
  std::string text_format;  // JSON
  std::string metadata;     // JSON object
  std::string reasoning_effort, reasoning_summary;
  std::string user;
  bool parallel_tool_calls = true;
  bool store = true;
  bool thinking = false;  // render reasoning as reasoning items
  // text.format JSON and not streamed: the answer is returned without a
  // Markdown fence that hid the JSON, as every route returns it (and the
  // worker keys it: common/conversation/assistant_message.h).
  bool unfenced_json = false;
  double temperature = -1, top_p = -1;
  int64_t max_output_tokens = 0;
  int64_t input_tokens = 0;  // estimate until DONE reports Qwen's count
  // function name -> namespace (function_call items name it again)
  std::vector<std::pair<std::string, std::string>> namespaces;

  static ResponseEcho of(const ResponsesRequest& r, std::string id, int64_t created_at,
                         int64_t input_tokens);
};

class ResponseEvents {
 public:
  explicit ResponseEvents(ResponseEcho echo);

  // Streaming.
  void append_start(std::string* out);  // response.created + response.in_progress
  void append_chunk(std::string* out, const protocol::JobChunk& chunk);
  void append_done(std::string* out, const protocol::JobDone& done);
  void append_failed(std::string* out, const ApiError& e);

  // Non-streaming: accumulate (streaming accumulates as it renders).
  void add(const protocol::JobChunk& chunk);
  // Non-streaming, once the answer is complete (before response_json): with
  // echo().unfenced_json, the message text as conversation::AssistantMessage
  // returns it (json::returned_json_answer of the one message item).
  void end_answer();
  // The Response object: status completed / incomplete from done.
  std::string response_json(const protocol::JobDone& done) const;
  // This response's output as canonical input items (a JSON array), for the
  // store: message and function_call items (reasoning is not kept).
  std::string output_items() const;
  const ResponseEcho& echo() const { return echo_; }
  // Response.completed_at (unix seconds) of a finished response; default
  // created_at.
  void set_completed_at(int64_t unix_s) { completed_at_ = unix_s; }

 private:
  enum class Kind { kNone, kReasoning, kMessage, kCall };
  struct Item {
    Kind kind;
    std::string id;
    std::string text;  // reasoning summary, message text or call arguments
    std::string call_id, name, ns;
    int32_t tool_index = -1;
  };
  void event(std::string* out, std::string_view type);
  void end_event(std::string* out) const { out->append("}\n\n"); }
  void open(std::string* out, Kind kind, const protocol::ToolCallDelta* call);
  void close(std::string* out);
  Item& start_item(Kind kind, const protocol::ToolCallDelta* call);
  void write_item(std::string* out, const Item& item, bool done) const;
  void write_response(std::string* out, std::string_view status, const protocol::JobDone* done,
                      const ApiError* error) const;
  std::string item_id(const char* prefix) const;
  std::string_view namespace_of_(std::string_view name) const;

  ResponseEcho echo_;
  std::vector<Item> items_;
  Kind open_ = Kind::kNone;
  int64_t seq_ = 0;
  int64_t completed_at_ = 0;
};

}  // namespace qp::frontend::responses
