#include "worker/toolcalls/xml_stream.h"

#include <algorithm>

#include <simdjson.h>

#include "worker/toolcalls/call_markup.h"
#include "worker/toolcalls/json_repair.h"
#include "worker/toolcalls/native_stream.h"

namespace qp::worker::toolcalls {
namespace {

constexpr std::string_view kToolCallOpen = "<tool_call>";
constexpr std::string_view kToolCallClose = "</tool_call>";
constexpr std::string_view kFunctionClose = "</function>";
constexpr std::string_view kResultClose = "</result>";
constexpr std::string_view kResultCloseEscaped = "&lt;/result&gt;";
constexpr std::string_view kThinkingTags[] = {"<thinking>", "<think>"};
constexpr std::string_view kThinkingCloseTags[] = {"</thinking>", "</think>"};
constexpr size_t kMaxGapAfterTag = 256;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Appends `text` with every "</result>" escaped.
void append_sanitized(std::string* out, std::string_view text) {
  size_t i = 0;
  while (true) {
    size_t p = text.find(kResultClose, i);
    if (p == std::string_view::npos) break;
    out->append(text.substr(i, p - i)).append(kResultCloseEscaped);
    i = p + kResultClose.size();
  }
  out->append(text.substr(i));
}

// Roo XML for one converted call.
void append_roo_param(std::string* out, std::string_view name, std::string_view value) {
  out->push_back('<');
  out->append(name).push_back('>');
  // Roo Code keeps `content` byte-exact minus one line break at each end.
  if (name == "content") {
    out->push_back('\n');
    out->append(value).push_back('\n');
  } else {
    out->append(value);
  }
  out->append("</").append(name).append(">\n");
}

}  // namespace

XmlStream::XmlStream(const ToolPlan& plan, StreamOptions options)
    : plan_(plan),
      opt_(std::move(options)),
      params_(&plan.catalog),
      tools_(plan.catalog.tools),
      roo_("", &params_) {}

size_t XmlStream::max_buffered_bytes() const {
  return opt_.max_call_bytes + opt_.xml_lookahead_bytes + kMaxTagName + kMaxGapAfterTag + 64;
}

void XmlStream::feed(std::string_view text, StreamOutput* out) {
  if (state_ == State::kDone || finished_) return;
  buf_.append(text);
  process(false, out);
}

void XmlStream::finish(StreamOutput* out) {
  if (finished_) return;
  finished_ = true;
  if (state_ != State::kDone) process(true, out);
  if (state_ == State::kUndecided) {
    if (!blank(pending_)) {
      wrap_pending(out);
      emit(kWrapClose, out);
    } else if (output_) {  // reasoning only: the result points to it
      std::string s(kWrapOpen);
      s.append(kPointerResult).append(kWrapClose);
      emit(s, out);
    }
  } else if (state_ == State::kWrapped) {
    emit(kWrapClose, out);
  }
  state_ = State::kDone;
  buf_.clear();
  pending_.clear();
}

void XmlStream::process(bool at_end, StreamOutput* out) {
  size_t pos = 0;
  while (state_ != State::kDone) {
    bool progressed = false;
    switch (state_) {
      case State::kUndecided:
        progressed = undecided_step(&pos, at_end, out);
        break;
      case State::kWrapped:
        progressed = wrapped_step(&pos, at_end, out);
        break;
      case State::kCall:
        progressed = call_step(&pos, at_end, out);
        break;
      case State::kDrift:
        progressed = drift_step(&pos, at_end, out);
        break;
      case State::kDone:
        break;
    }
    if (!progressed) break;
  }
  if (state_ == State::kDone) {
    buf_.clear();
  } else {
    buf_.erase(0, pos);
    erased_ += pos;
  }
}

void XmlStream::emit(std::string_view text, StreamOutput* out) {
  if (text.empty()) return;
  if (!blank(text)) output_ = true;
  out->add_text(text);
}

void XmlStream::take(std::string_view text, StreamOutput* out) {
  md_.consume(text);
  if (in_thinking_)
    emit(text, out);
  else
    pending_.append(text);
}

bool XmlStream::commit_if_long(StreamOutput* out) {
  if (in_thinking_ || pending_.size() <= opt_.xml_lookahead_bytes) return false;
  wrap_pending(out);
  state_ = State::kWrapped;
  return true;
}

void XmlStream::wrap_pending(StreamOutput* out) {
  size_t first = pending_.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) first = pending_.size();
  std::string s = pending_.substr(0, first);  // leading blank lines stay outside
  s.append(kWrapOpen);
  append_sanitized(&s, std::string_view(pending_).substr(first));
  pending_.clear();
  emit(s, out);
  // finish() adds kWrapClose after a final wrap; a commit streams on.
}

Match XmlStream::drift_start_at(std::string_view rest, bool at_end) {
  std::string_view name;
  size_t len = 0;
  Drift kind;
  Match m = match_literal(rest, kToolCallOpen);
  if (m == Match::kFull) {
    kind = Drift::kToolCall;
    len = kToolCallOpen.size();
  } else {
    Match f = match_function_tag(rest, &name, &len);
    if (f != Match::kFull) {
      bool partial = m == Match::kPartial || f == Match::kPartial;
      return partial && !at_end ? Match::kPartial : Match::kNone;
    }
    kind = Drift::kFunction;
  }
  size_t q = len;
  while (q < rest.size() && q - len <= kMaxGapAfterTag && is_space(rest[q])) ++q;
  if (q - len > kMaxGapAfterTag) return Match::kNone;
  if (q >= rest.size()) return at_end ? Match::kNone : Match::kPartial;
  char c = rest[q];
  if (!(c == '<' || c == '{' || c == '[' || (c == '`' && kind == Drift::kToolCall)))
    return Match::kNone;
  drift_ = kind;
  drift_name_.assign(name);
  opener_len_ = len;
  scanned_ = len;
  return Match::kFull;
}

bool XmlStream::undecided_step(size_t* pos, bool at_end, StreamOutput* out) {
  size_t i = *pos;
  while (true) {
    size_t lt = buf_.find('<', i);
    if (lt == std::string::npos) {
      take(std::string_view(buf_).substr(i), out);
      *pos = buf_.size();
      return commit_if_long(out);
    }
    take(std::string_view(buf_).substr(i, lt - i), out);
    if (commit_if_long(out)) {
      *pos = lt;
      return true;
    }
    std::string_view rest = std::string_view(buf_).substr(lt);
    std::string_view name;
    size_t len = 0;
    Match m = match_name_tag(rest, tools_, &name, &len);
    if (m == Match::kFull) {  // a Roo tool call: the text so far stays text
      emit(pending_, out);
      pending_.clear();
      roo_ = RooScanner(name, &params_);
      opener_len_ = scanned_ = len;
      call_streaming_ = false;
      *pos = lt;
      state_ = State::kCall;
      return true;
    }
    bool partial = m == Match::kPartial;
    // Reasoning at the start passes through without counting as text.
    const std::string_view* tags = in_thinking_ ? kThinkingCloseTags : kThinkingTags;
    bool may_think = in_thinking_ || blank(pending_);
    bool handled = false;
    for (int k = 0; may_think && k < 2; ++k) {
      std::string_view tag = tags[k];
      Match t = match_literal(rest, tag);
      if (t == Match::kFull) {
        if (!in_thinking_) {
          emit(pending_, out);
          pending_.clear();
        }
        md_.consume(tag);
        emit(tag, out);
        in_thinking_ = !in_thinking_;
        i = lt + tag.size();
        handled = true;
        break;
      }
      partial = partial || t == Match::kPartial;
    }
    if (handled) continue;
    if (!in_thinking_ && !md_.in_inline_code()) {
      Match d = drift_start_at(rest, at_end);
      // No closing tag follows within reach (an earlier block of this kind
      // found none): scanning for it again from every opener would be
      // quadratic, so such an opener is text.
      if (d == Match::kFull && erased_ + lt < no_closer_until_[static_cast<int>(drift_)])
        d = Match::kNone;
      if (d == Match::kFull) {
        *pos = lt;
        state_ = State::kDrift;
        return true;
      }
      partial = partial || d == Match::kPartial;
    }
    if (!in_thinking_) {  // held so a later wrap never sees half of a "</result>"
      partial = partial || match_literal(rest, kResultClose) == Match::kPartial;
    }
    if (partial && !at_end) {
      *pos = lt;
      return false;
    }
    take("<", out);
    i = lt + 1;
  }
}

bool XmlStream::wrapped_step(size_t* pos, bool at_end, StreamOutput* out) {
  size_t i = *pos;
  while (true) {
    size_t lt = buf_.find('<', i);
    if (lt == std::string::npos) {
      emit(std::string_view(buf_).substr(i), out);
      *pos = buf_.size();
      return false;
    }
    emit(std::string_view(buf_).substr(i, lt - i), out);
    std::string_view rest = std::string_view(buf_).substr(lt);
    std::string_view name;
    size_t len = 0;
    Match m = match_name_tag(rest, tools_, &name, &len);
    if (m == Match::kFull) {  // never a call inside the result: close it and stop here
      out->warnings.push_back("tools.xml_late_call: <" + std::string(name) +
                              "> after the text was wrapped; dropped");
      emit(kWrapClose, out);
      stopped_ = true;
      state_ = State::kDone;
      *pos = buf_.size();
      return true;
    }
    Match r = match_literal(rest, kResultClose);
    if (r == Match::kFull) {
      emit(kResultCloseEscaped, out);
      i = lt + kResultClose.size();
      continue;
    }
    if ((m == Match::kPartial || r == Match::kPartial) && !at_end) {
      *pos = lt;
      return false;
    }
    emit("<", out);
    i = lt + 1;
  }
}

bool XmlStream::call_step(size_t* pos, bool at_end, StreamOutput* out) {
  std::string_view block = std::string_view(buf_).substr(*pos);
  if (!call_streaming_) {
    // The call is held until it closes, so that one cut off inside a value
    // can still become text (a half-written command never runs).
    // Only the first max_call_bytes count, whatever the split.
    std::string_view window = block.substr(0, std::min(block.size(), opt_.max_call_bytes));
    RooScanner::Step s = roo_.scan(window.substr(scanned_), false);
    scanned_ += s.consumed;
    if (s.closed) {
      emit(block.substr(0, scanned_), out);
      *pos += scanned_;
      stopped_ = true;
      state_ = State::kDone;
      return true;
    }
    if (block.size() > opt_.max_call_bytes) {  // too long to hold: it streams from here on
      out->warnings.push_back("tools.xml_long_call: call longer than max_call_bytes streams");
      emit(block.substr(0, scanned_), out);
      *pos += scanned_;
      call_streaming_ = true;
      return true;
    }
    if (!at_end) return false;
    if (roo_.cut_in_value(block)) {
      out->warnings.push_back("tools.xml_truncated_call: cut off inside a value; wrapped as text");
      pending_.assign(block);
      wrap_pending(out);
      emit(kWrapClose, out);
      *pos = buf_.size();
      state_ = State::kDone;
      return true;
    }
    out->warnings.push_back("tools.xml_truncated_call: closed at the end of the answer");
    emit(block.substr(0, scanned_), out);
    emit(roo_.closing(block.substr(scanned_)), out);
    *pos = buf_.size();
    state_ = State::kDone;
    return true;
  }
  // Never at_end here: a closing tag cut off at the end is left over, so
  // closing() can complete it instead of repeating it.
  RooScanner::Step s = roo_.scan(block, false);
  emit(block.substr(0, s.consumed), out);
  *pos += s.consumed;
  if (s.closed) {
    stopped_ = true;
    state_ = State::kDone;
    return true;
  }
  if (!at_end) return false;
  out->warnings.push_back("tools.xml_truncated_call: closed at the end of the answer");
  emit(roo_.closing(std::string_view(buf_).substr(*pos)), out);
  *pos = buf_.size();
  state_ = State::kDone;
  return true;
}

bool XmlStream::drift_step(size_t* pos, bool at_end, StreamOutput* out) {
  std::string_view block = std::string_view(buf_).substr(*pos);
  bool capped = block.size() > opt_.max_call_bytes;
  std::string_view window = capped ? block.substr(0, opt_.max_call_bytes) : block;
  std::string_view closer = drift_ == Drift::kToolCall ? kToolCallClose : kFunctionClose;
  size_t from = scanned_ >= closer.size() ? scanned_ - closer.size() + 1 : 0;
  if (from < opener_len_) from = opener_len_;
  size_t e = window.find(closer, from);
  scanned_ = window.size();
  std::string_view inner, whole;
  if (e != std::string_view::npos) {
    inner = block.substr(opener_len_, e - opener_len_);
    whole = block.substr(0, e + closer.size());
  } else if (capped) {
    no_closer_until_[static_cast<int>(drift_)] = erased_ + *pos + window.size();
    return drift_failed("call block longer than max_call_bytes", pos, out);
  } else if (at_end) {
    no_closer_until_[static_cast<int>(drift_)] = UINT64_MAX;
    inner = block.substr(opener_len_);
    whole = block;
    if (cut_inside_value(inner))  // never execute a half-written value
      return drift_failed("call cut off inside a value", pos, out);
  } else {
    return false;
  }
  std::string why;
  if (!convert_drift(inner, out, &why)) return drift_failed(why, pos, out);
  stopped_ = e != std::string_view::npos;  // a cut-off answer is over anyway
  state_ = State::kDone;
  *pos += whole.size();
  return true;
}

bool XmlStream::drift_failed(const std::string& why, size_t* pos, StreamOutput* out) {
  // The block is text, and Roo Code will read it as such: scan it again
  // from the byte after its '<', so a tool tag inside is still seen.
  out->warnings.push_back("tools.call_as_text: " + why);
  take("<", out);
  *pos += 1;
  state_ = State::kUndecided;
  return true;
}

bool XmlStream::convert_drift(std::string_view inner, StreamOutput* out, std::string* why) {
  std::vector<RawCall> calls;
  if (drift_ == Drift::kToolCall) {
    if (!parse_tool_call_body(inner, nullptr, &calls, why)) return false;
  } else {
    RawCall c;
    if (!parse_function_body(drift_name_, inner, &c, why)) return false;
    calls.push_back(std::move(c));
  }
  const RawCall& c = calls.front();  // one tool per message
  std::string_view name = c.name;
  if (name.substr(0, kUpstreamPrefix.size()) == kUpstreamPrefix &&
      plan_.catalog.has_tool(name.substr(kUpstreamPrefix.size())))
    name.remove_prefix(kUpstreamPrefix.size());
  if (!plan_.catalog.has_tool(name)) {
    *why = "unknown tool '" + std::string(name.substr(0, 64)) + "'";
    return false;
  }
  std::string xml = "<";
  xml.append(name).append(">\n");
  if (c.has_json) {
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    std::string fixed = repair_json(c.json);
    if (p.parse(fixed).get(doc) || doc.get_object().get(obj)) {
      *why = "arguments are not a JSON object";
      return false;
    }
    for (auto field : obj) {
      std::string_view s;
      std::string value;
      if (!field.value.get_string().get(s))
        value.assign(s);
      else
        value = simdjson::minify(field.value);
      append_roo_param(&xml, field.key, value);
    }
  } else {
    for (const auto& prm : c.params) append_roo_param(&xml, prm.name, prm.value);
  }
  xml.append("</").append(name).push_back('>');
  // Roo Code must read exactly this one call: a value holding its own
  // closing tag would end the call early and leave the rest as more markup.
  RooScanner check(name, &params_);
  size_t opener = name.size() + 2;
  RooScanner::Step st = check.scan(std::string_view(xml).substr(opener), true);
  if (!st.closed || opener + st.consumed != xml.size()) {
    *why = "a value would end the Roo XML call early";
    return false;
  }
  emit(pending_, out);
  pending_.clear();
  emit(xml, out);
  return true;
}

}  // namespace qp::worker::toolcalls
