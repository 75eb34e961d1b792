// The HTTP/1.1 requests the load generator sends, as raw bytes (pure).
//
// - OpenAI (through the gateway): POST /v1/chat/completions with one user
//   message; identical for every request, so built once per run.
// - Qwen web API (direct to mock-qwen): the same request shape the worker
//   sends (worker/qwen_requests.cc: browser-like headers, `Authorization:
//   Bearer` plus the `token` cookie, the full completion body with
//   feature_config), so the mock does the same work for either path. The
//   completion is rebuilt per request into caller-owned buffers (its chat id
//   and message ids change); after the first request no allocation happens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::bench {

struct OpenAiShape {
  std::string_view host;  // Host header value, "127.0.0.1:8080"
  std::string_view model;
  std::string_view prompt;
  bool stream = false;
  std::string_view api_key;  // empty: no Authorization header
};
std::string openai_request(const OpenAiShape& s);

struct QwenShape {
  std::string_view host;  // "127.0.0.1:8080"; Origin/Referer use http://host
  std::string_view model;
  std::string_view prompt;
  std::string_view jwt;
  std::string_view user_agent;
  std::string_view timezone;  // the worker's js_date_string() header
};

// POST /api/v2/chats/new. Overwrites *out.
void qwen_new_chat_request(const QwenShape& s, int64_t timestamp_ms, uint64_t seq,
                           std::string* out);
// POST /api/v2/chat/completions?chat_id=<chat_id>, stream:true, parent_id
// null. `seq` makes the message and request ids unique. Overwrites *out;
// *body is scratch space.
void qwen_completion_request(const QwenShape& s, std::string_view chat_id, int64_t timestamp_s,
                             uint64_t seq, std::string* body, std::string* out);

// The chat id in a chats/new success envelope ({"success":true,...,
// "data":{"id":"<id>"}}); empty if the body is anything else.
std::string_view new_chat_id(std::string_view body);

// A well-formed v4-looking UUID derived from (seq, salt), written to out[36].
void fake_uuid(uint64_t seq, uint32_t salt, char out[36]);

// A prompt of `words` words ("alpha beta gamma ..."): the mock echoes it as
// "You said: <prompt>", one token per word.
std::string prompt_of_words(int words);

}  // namespace qp::bench
