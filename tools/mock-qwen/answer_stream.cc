#include "tools/mock-qwen/answer_stream.h"

namespace qp::mock {

AnswerStream::AnswerStream(StreamSpec spec) : spec_(std::move(spec)) {
  usage_.input_tokens = spec_.input_tokens;
  if (spec_.research) research_steps_ = research_steps(spec_.research_topic, spec_.research_rounds);
  if (spec_.thinking == ThinkingFormat::kSummary) {
    std::string_view text = spec_.thinking_text;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      if (!line.empty() && line != "\r") summary_lines_.push_back(line);
      pos = nl + 1;
    }
  }
}

bool AnswerStream::fault_due(int64_t after) const {
  // A fault set beyond the end of the answer still fires, right before `finished`.
  return after >= 0 && !stopped_ && is_content(stage_) &&
         (content_events_ >= after || stage_ == Stage::kFinished);
}

EventKind AnswerStream::peek() const {
  if (fault_due(spec_.drop_after)) return EventKind::kDrop;
  if (fault_due(spec_.error_after)) return EventKind::kError;
  switch (stage_) {
    case Stage::kCreated:
      return EventKind::kCreated;
    case Stage::kSearchCall:
      return EventKind::kSearchCall;
    case Stage::kSearchResult:
      return EventKind::kSearchResult;
    case Stage::kResearch:
      return research_steps_[index_].kind == ResearchStep::Kind::kSites ? EventKind::kResearchSites
                                                                        : EventKind::kResearch;
    case Stage::kThinking:
      return spec_.thinking == ThinkingFormat::kSummary ? EventKind::kSummary : EventKind::kThink;
    case Stage::kAnswer:
      return EventKind::kAnswer;
    case Stage::kTrailer:
      return EventKind::kTrailer;
    case Stage::kFinished:
      return EventKind::kFinished;
    case Stage::kDone:
      return EventKind::kDone;
    case Stage::kEnd:
      return EventKind::kEnd;
  }
  return EventKind::kEnd;
}

void AnswerStream::settle() {
  while (true) {
    switch (stage_) {
      case Stage::kSearchCall:
      case Stage::kSearchResult:
        if (spec_.search && !stopped_) return;
        break;
      case Stage::kResearch:
        if (index_ < research_steps_.size() && !stopped_) return;
        break;
      case Stage::kThinking: {
        size_t n = spec_.thinking == ThinkingFormat::kDetail    ? spec_.thinking_ends.size()
                   : spec_.thinking == ThinkingFormat::kSummary ? summary_lines_.size()
                                                                : 0;
        if (index_ < n && !stopped_) return;
        break;
      }
      case Stage::kAnswer:
        if (index_ < spec_.answer_ends.size() && !stopped_) return;
        break;
      case Stage::kTrailer:
        if (index_ < 2 && !stopped_) return;
        break;
      case Stage::kDone:
        if (spec_.emit_done) return;
        break;
      case Stage::kCreated:
      case Stage::kFinished:
      case Stage::kEnd:
        return;
    }
    stage_ = static_cast<Stage>(static_cast<uint8_t>(stage_) + 1);
    index_ = 0;
  }
}

EventKind AnswerStream::next(std::string* out, int64_t now_s) {
  EventKind kind = peek();
  EventStyle style{spec_.variant_2026, spec_.response_id, now_s};
  switch (kind) {
    case EventKind::kDrop:
      stage_ = Stage::kEnd;
      return kind;
    case EventKind::kError:
      append_stream_error(out);
      stage_ = Stage::kEnd;
      return kind;
    case EventKind::kEnd:
      return kind;
    case EventKind::kCreated:
      append_created(out, spec_.chat_id, spec_.user_message_id, spec_.response_id);
      stage_ = Stage::kSearchCall;
      break;
    case EventKind::kSearchCall:
      append_search_call(out, spec_.search_query, style);
      stage_ = Stage::kSearchResult;
      ++content_events_;
      break;
    case EventKind::kSearchResult:
      if (spec_.search_format == SearchFormat::kWebSearchInfo)
        append_search_info(out, spec_.search_query, style);
      else
        append_search_result(out, spec_.search_query, style);
      stage_ = Stage::kResearch;
      ++content_events_;
      break;
    case EventKind::kResearch:
    case EventKind::kResearchSites: {
      const ResearchStep& step = research_steps_[index_];
      if (step.kind == ResearchStep::Kind::kPlan || step.kind == ResearchStep::Kind::kGoal)
        ++usage_.output_tokens;
      append_research_step(out, step, spec_.research_topic, usage_, style);
      ++index_;
      ++content_events_;
      break;
    }
    case EventKind::kThink: {
      uint32_t begin = index_ == 0 ? 0 : spec_.thinking_ends[index_ - 1];
      uint32_t end = spec_.thinking_ends[index_];
      ++usage_.output_tokens;
      append_delta(out, std::string_view(spec_.thinking_text).substr(begin, end - begin), "think",
                   usage_, style);
      ++index_;
      ++content_events_;
      break;
    }
    case EventKind::kSummary: {
      auto last = summary_lines_.begin() + static_cast<std::ptrdiff_t>(index_ + 1);
      std::vector<std::string_view> thoughts(summary_lines_.begin(), last);
      append_summary(out, spec_.summary_title, thoughts, style);
      ++index_;
      ++content_events_;
      break;
    }
    case EventKind::kAnswer: {
      uint32_t begin = index_ == 0 ? 0 : spec_.answer_ends[index_ - 1];
      uint32_t end = spec_.answer_ends[index_];
      ++usage_.output_tokens;
      std::string_view token = std::string_view(spec_.answer).substr(begin, end - begin);
      if (spec_.research && index_ == 0) {
        append_report_delta(out, token, spec_.research_topic, spec_.research_rounds, usage_, style);
      } else {
        append_delta(out, token, "answer", usage_, style);
      }
      ++index_;
      answer_sent_ = index_;
      ++content_events_;
      break;
    }
    case EventKind::kTrailer:
      if (index_ == 0) ++usage_.output_tokens;  // the capture counts one more token here
      append_delta(out, "", "answer", usage_, style);
      ++index_;
      ++content_events_;
      break;
    case EventKind::kFinished:
      append_finished(out, style);
      stage_ = Stage::kDone;
      index_ = 0;
      break;
    case EventKind::kDone:
      append_done(out);
      stage_ = Stage::kEnd;
      break;
  }
  settle();
  return kind;
}

void AnswerStream::append_keep_alive(std::string* out, int64_t now_s) const {
  qp::mock::append_keep_alive(out, spec_.chat_id, spec_.response_id, now_s);
}

void AnswerStream::stop() {
  if (stage_ == Stage::kCreated || stage_ >= Stage::kFinished) {
    stopped_ = true;  // response.created still goes first; finished follows
    return;
  }
  stopped_ = true;
  stage_ = Stage::kFinished;
  index_ = 0;
}

std::string_view AnswerStream::answer_sent() const {
  size_t n = answer_tokens_sent();
  if (n == 0) return {};
  return std::string_view(spec_.answer).substr(0, spec_.answer_ends[n - 1]);
}

}  // namespace qp::mock
