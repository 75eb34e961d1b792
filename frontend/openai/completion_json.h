// Serialises OpenAI chat.completion and chat.completion.chunk objects.
// The per-call constant prefix of every chunk is built once, so each streamed
// delta costs one escape-and-append into a reused buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/conversation/assistant_message.h"
#include "common/protocol/messages.h"

namespace qp::frontend {

inline constexpr std::string_view kSystemFingerprint = "fp_qwenproxy";

// One assembled tool call of a non-streaming answer (the assistant
// message's, common/conversation/assistant_message.h).
using ToolCall = conversation::ToolCall;

class CompletionJson {
 public:
  CompletionJson(std::string_view completion_id, std::string_view model, int64_t created_unix_s);

  // `data: {chunk with delta.role="assistant", content ""}\n\n`
  void append_role_event(std::string* out) const;
  // `data: {chunk with delta.content / delta.reasoning_content}\n\n`
  void append_delta_event(std::string* out, std::string_view content,
                          std::string_view reasoning) const;
  // `data: {chunk with delta.tool_calls:[one ChatCompletionMessageToolCallChunk]}\n\n`:
  // index, id, type and function.name (+ arguments) for a call's first delta
  // (non-empty id), index and function.arguments for the later ones.
  void append_tool_call_event(std::string* out, const protocol::ToolCallDelta& delta) const;
  // `data: {chunk with empty delta and finish_reason}\n\n`. json_valid >= 0
  // adds the extension field "qwen_json_valid" (response_format JSON modes);
  // a non-empty qwen_chat_id adds "qwen_chat_id" (the upstream chat, which a
  // client may pass back as the qwen_chat_id request field).
  // Web search sources go into that final delta as `annotations`
  // (append_annotations).
  void append_finish_event(std::string* out, std::string_view finish_reason, int json_valid = -1,
                           std::string_view qwen_chat_id = {},
                           const std::vector<protocol::SearchSource>& sources = {},
                           int64_t content_chars = 0,
                           const std::vector<protocol::MediaItem>& media = {}) const;
  // `data: {chunk with choices:[] and usage}\n\n` (stream_options.include_usage)
  void append_usage_event(std::string* out, const protocol::Usage& usage) const;
  static void append_done_event(std::string* out) { out->append("data: [DONE]\n\n"); }

  // The whole non-streaming chat.completion object. With tool calls,
  // message.tool_calls lists them and an empty content is null. Search
  // sources become message.annotations.
  std::string completion(std::string_view content, std::string_view reasoning,
                         std::string_view finish_reason, const protocol::Usage& usage,
                         std::string_view qwen_chat_id, int json_valid = -1,
                         const std::vector<ToolCall>& tool_calls = {},
                         const std::vector<protocol::SearchSource>& sources = {},
                         const std::vector<protocol::MediaItem>& media = {}) const;

 private:
  std::string chunk_prefix_;  // `{"id":…,"choices":[{"index":0,"delta":{` … up to the delta body
  std::string id_;
  std::string model_;
  int64_t created_;
};

void append_usage_object(std::string* out, const protocol::Usage& u);

// `"annotations":[{"type":"url_citation","url_citation":{"start_index":0,
// "end_index":N,"url":…,"title":…}},…]`. Qwen says which sources an answer
// used, not where: each citation spans the whole answer (start 0, end =
// content_chars, its length in Unicode code points, as OpenAI counts).
void append_annotations(std::string* out, const std::vector<protocol::SearchSource>& sources,
                        int64_t content_chars);

// Extension field of the image / video variants (docs/api.md "Images and
// video"): `"qwen_media":[{"type":"image","url":…},…]` on the message or
// the final delta.
void append_media(std::string* out, const std::vector<protocol::MediaItem>& media);

// Unicode code points in UTF-8 text (bytes that are not continuation bytes).
int64_t count_code_points(std::string_view text);

}  // namespace qp::frontend
