// The event sequence of one streamed completion, as a pull iterator over
// byte-exact SSE events (sse_events.h). Pure: timing, holds, writes and
// sockets belong to the server (stream_runner.h), which calls next() when an
// event is due.
//
// Sequence (docs/mock-qwen.md, "The stream"):
//   response.created
//   [web_search call, web_search result]          when search
//   [research steps (research_events.h)]          when research (deep_research)
//   think deltas | thinking_summary events        when thinking
//   answer deltas, one token each, cumulative usage
//   two empty answer deltas, like the capture: the first counts one more
//     output token (end-of-sequence), the second repeats the usage
//   finished delta (no usage)
//   [DONE]                                        when emit_done
// A mid-stream error (error_after >= 0) replaces the rest of the stream by one
// error event once that many content events were sent; a drop (drop_after)
// does the same with kDrop, which tells the server to cut the connection.
// stop() jumps straight to `finished`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/mock-qwen/research_events.h"
#include "tools/mock-qwen/sse_events.h"

namespace qp::mock {

enum class ThinkingFormat : uint8_t { kNone, kDetail, kSummary };
// The two search formats (docs/mock-qwen.md, "The stream").
enum class SearchFormat : uint8_t { kFunctionCall, kWebSearchInfo };

struct StreamSpec {
  std::string chat_id;
  std::string user_message_id;  // U: response.created.parent_id
  std::string response_id;      // A: response.created.response_id
  int64_t input_tokens = 0;
  std::string answer;
  std::vector<uint32_t> answer_ends;
  ThinkingFormat thinking = ThinkingFormat::kNone;
  std::string thinking_text;
  std::vector<uint32_t> thinking_ends;  // kDetail: one think delta per token
  std::string summary_title;            // kSummary: one event per non-empty line
  bool search = false;
  std::string search_query;
  SearchFormat search_format = SearchFormat::kFunctionCall;
  // chat_type "deep_research": the research phases before the answer (the
  // report), whose first delta carries the references.
  bool research = false;
  std::string research_topic;
  int research_rounds = 2;
  bool variant_2026 = false;
  bool emit_done = false;
  int64_t error_after = -1;  // content events before the mid-stream error; -1 = never
  int64_t drop_after = -1;   // content events before the drop; -1 = never
};

enum class EventKind : uint8_t {
  kCreated,
  kSearchCall,
  kSearchResult,
  kResearch,       // a research step (planning, goals, round done)
  kResearchSites,  // the sources of a search round (after the silent "reading" step)
  kThink,
  kSummary,
  kAnswer,
  kTrailer,  // the empty typing deltas before `finished`
  kFinished,
  kDone,
  kError,  // mid-stream error event; the stream ends after it
  kDrop,   // nothing appended; the server must drop the connection
  kEnd,    // nothing appended; the stream is complete
};

class AnswerStream {
 public:
  explicit AnswerStream(StreamSpec spec);
  AnswerStream(const AnswerStream&) = delete;
  AnswerStream& operator=(const AnswerStream&) = delete;

  // Kind of the event next() will produce.
  EventKind peek() const;
  // Appends the next event to *out and advances. kDrop and kEnd append nothing.
  EventKind next(std::string* out, int64_t now_s);
  // Appends a 2026 response.info keep-alive (does not advance).
  void append_keep_alive(std::string* out, int64_t now_s) const;
  // Skips the remaining content: the next event is `finished`.
  void stop();

  bool stopped() const { return stopped_; }
  bool ended() const { return stage_ == Stage::kEnd; }
  const Usage& usage() const { return usage_; }
  size_t answer_tokens_sent() const { return answer_sent_; }
  // The answer text streamed so far (whole answer once finished).
  std::string_view answer_sent() const;
  const StreamSpec& spec() const { return spec_; }

 private:
  enum class Stage : uint8_t {
    kCreated,
    kSearchCall,
    kSearchResult,
    kResearch,
    kThinking,
    kAnswer,
    kTrailer,
    kFinished,
    kDone,
    kEnd
  };
  static bool is_content(Stage s) { return s >= Stage::kSearchCall && s <= Stage::kFinished; }
  // Moves stage_ forward past stages with nothing to send.
  void settle();
  bool fault_due(int64_t after) const;

  StreamSpec spec_;
  std::vector<std::string_view> summary_lines_;  // views into spec_.thinking_text
  std::vector<ResearchStep> research_steps_;     // empty unless spec_.research
  Stage stage_ = Stage::kCreated;
  size_t index_ = 0;  // position inside the current stage
  size_t answer_sent_ = 0;
  int64_t content_events_ = 0;
  bool stopped_ = false;
  Usage usage_;
};

}  // namespace qp::mock
