#include "worker/toolcalls/native_stream.h"

#include <algorithm>

#include "common/ids.h"
#include "common/json/writer.h"
#include "worker/toolcalls/arguments.h"
#include "worker/toolcalls/call_markup.h"
#include "worker/toolcalls/xml_catalog.h"

namespace qp::worker::toolcalls {
namespace {

constexpr std::string_view kToolCallOpen = "<tool_call>";
constexpr std::string_view kToolCallClose = "</tool_call>";
constexpr std::string_view kFunctionClose = "</function>";
constexpr size_t kMaxGapAfterTag = 256;  // blanks between a call tag and its body
constexpr size_t kMaxHeldWhitespace = 4096;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string default_id() { return "call_" + ids::random_hex(24); }

std::vector<std::string> tag_names_of(const ToolSet& tools) {
  std::vector<std::string> names;
  for (const auto& t : tools.tools()) {
    names.push_back(t.name);
    names.push_back(ToolSet::upstream_name(t.name));
  }
  return names;
}

}  // namespace

bool NativeStream::ToolParams::is_param(std::string_view tool, std::string_view name) const {
  const Tool* t = tools_->find(tool);
  return t != nullptr && (t->parameters.property(name) != nullptr || is_roo_param_name(name));
}

NativeStream::NativeStream(const ToolPlan& plan, StreamOptions options)
    : plan_(plan),
      opt_(std::move(options)),
      params_(&plan.tools),
      tag_names_(tag_names_of(plan.tools)),
      roo_("", &params_),
      holding_(plan.must_call()) {
  if (!opt_.next_id) opt_.next_id = default_id;
}

std::string_view NativeStream::finish_reason() const {
  return calls_ > 0 ? std::string_view("tool_calls") : std::string_view();
}

size_t NativeStream::buffered_bytes() const {
  return buf_.size() + ws_.size() + call_ws_.size() + held_.size();
}

size_t NativeStream::max_buffered_bytes() const {
  return opt_.max_call_bytes + kMaxTagName + kMaxGapAfterTag + 64 + 2 * kMaxHeldWhitespace +
         opt_.max_held_text_bytes;
}

void NativeStream::feed(std::string_view text, StreamOutput* out) {
  if (state_ == State::kDone || finished_) return;
  buf_.append(text);
  process(false, out);
}

void NativeStream::finish(StreamOutput* out) {
  if (finished_) return;
  finished_ = true;
  if (state_ != State::kDone) process(true, out);
  ws_.clear();  // trailing whitespace is dropped
  buf_.clear();
  if (calls_ > 0) return;
  const Tool* completion = plan_.completion_tool();
  if (plan_.must_call()) {
    if (!had_text_) {
      held_.clear();
      return;  // an empty reply stays empty
    }
    if (holding_ && opt_.attempt == 0) {
      retry_wanted_ = true;
      held_.clear();
      return;
    }
    if (completion != nullptr) {
      // Held text goes into the call (shown once); text already streamed
      // (too long to hold) is pointed to instead of repeated.
      std::string args;
      json::Writer w(&args);
      w.begin_object()
          .field("result", holding_ ? std::string_view(held_) : kPointerResult)
          .end_object();
      held_.clear();
      holding_ = false;
      add_call(completion->name, std::move(args), out);
      out->warnings.push_back("tools.no_call: tool_choice requires a call; reply wrapped in " +
                              completion->name);
      return;
    }
    release_held(out);
    out->warnings.push_back("tools.no_call: tool_choice requires a call; reply returned as text");
    return;
  }
  if (plan_.roo && completion != nullptr && had_text_) {
    std::string args;
    json::Writer w(&args);
    w.begin_object().field("result", kPointerResult).end_object();
    add_call(completion->name, std::move(args), out);
  }
}

void NativeStream::process(bool at_end, StreamOutput* out) {
  size_t pos = 0;
  while (state_ != State::kDone) {
    bool progressed =
        state_ == State::kText ? text_step(&pos, at_end, out) : call_step(&pos, at_end, out);
    if (!progressed) break;
  }
  if (state_ == State::kDone)
    buf_.clear();
  else
    buf_.erase(0, pos);
}

Match NativeStream::call_start_at(size_t lt, bool at_end) {
  std::string_view rest = std::string_view(buf_).substr(lt);
  Kind kind;
  std::string_view name;
  size_t len = 0;
  Match m = match_literal(rest, kToolCallOpen);
  if (m == Match::kFull) {
    kind = Kind::kToolCall;
    len = kToolCallOpen.size();
  } else {
    Match f = match_function_tag(rest, &name, &len);
    if (f == Match::kFull) {
      kind = Kind::kFunction;
    } else {
      Match t = match_name_tag(rest, tag_names_, &name, &len);
      if (t == Match::kFull) {
        kind = Kind::kTag;
      } else {
        bool partial = m == Match::kPartial || f == Match::kPartial || t == Match::kPartial;
        return partial && !at_end ? Match::kPartial : Match::kNone;
      }
    }
  }
  // The byte after the tag (blanks skipped) must start a body.
  size_t q = len;
  while (q < rest.size() && q - len <= kMaxGapAfterTag && is_space(rest[q])) ++q;
  if (q - len > kMaxGapAfterTag) return Match::kNone;
  if (q >= rest.size()) return at_end ? Match::kNone : Match::kPartial;
  char c = rest[q];
  bool body = c == '<' || ((c == '{' || c == '[') && kind != Kind::kTag) ||
              (c == '`' && kind == Kind::kToolCall);
  if (!body) return Match::kNone;
  kind_ = kind;
  name_.assign(name);
  opener_len_ = len;
  scanned_ = len;
  if (kind == Kind::kTag) roo_ = RooScanner(name_, &params_);
  return Match::kFull;
}

bool NativeStream::text_step(size_t* pos, bool at_end, StreamOutput* out) {
  size_t start = *pos;
  size_t i = *pos;
  while (true) {
    size_t lt = buf_.find('<', i);
    if (lt == std::string::npos) {
      md_.consume(std::string_view(buf_).substr(i));
      emit_text(std::string_view(buf_).substr(start), out);
      *pos = buf_.size();
      return false;
    }
    md_.consume(std::string_view(buf_).substr(i, lt - i));
    if (!md_.in_inline_code()) {
      Match m = call_start_at(lt, at_end);
      if (m == Match::kPartial) {
        emit_text(std::string_view(buf_).substr(start, lt - start), out);
        *pos = lt;
        return false;
      }
      if (m == Match::kFull) {
        emit_text(std::string_view(buf_).substr(start, lt - start), out);
        call_ws_.swap(ws_);  // blanks before a call: dropped if it is one, else text again
        ws_.clear();
        *pos = lt;
        state_ = State::kCall;
        return true;
      }
    }
    md_.consume('<');
    i = lt + 1;
  }
}

bool NativeStream::call_step(size_t* pos, bool at_end, StreamOutput* out) {
  std::string_view block = std::string_view(buf_).substr(*pos);
  // Only the first max_call_bytes of a block count, whatever the split.
  bool capped = block.size() > opt_.max_call_bytes;
  std::string_view window = capped ? block.substr(0, opt_.max_call_bytes) : block;
  bool window_end = at_end && !capped;
  if (kind_ == Kind::kTag) {
    RooScanner::Step s = roo_.scan(window.substr(scanned_), window_end);
    scanned_ += s.consumed;
    if (s.closed) {
      size_t close_len = name_.size() + 3;
      end_call(block.substr(opener_len_, scanned_ - close_len - opener_len_),
               block.substr(0, scanned_), false, out);
      *pos += scanned_;
      return true;
    }
  } else {
    std::string_view closer = kind_ == Kind::kToolCall ? kToolCallClose : kFunctionClose;
    size_t from = scanned_ >= closer.size() ? scanned_ - closer.size() + 1 : 0;
    if (from < opener_len_) from = opener_len_;
    size_t e = window.find(closer, from);
    if (e != std::string_view::npos) {
      size_t end = e + closer.size();
      end_call(block.substr(opener_len_, e - opener_len_), block.substr(0, end), false, out);
      *pos += end;
      return true;
    }
    scanned_ = window.size();
  }
  if (capped) {  // too long for a call: its first max_call_bytes are text
    out->warnings.push_back("tools.call_as_text: call block longer than max_call_bytes");
    std::string_view text = block.substr(0, opt_.max_call_bytes);
    restore_call_ws();
    md_.consume(text);
    emit_text(text, out);
    *pos += text.size();
    state_ = State::kText;
    return true;
  }
  if (!at_end) return false;
  end_call(block.substr(opener_len_), block, true, out);  // cut off by the end of the answer
  *pos = buf_.size();
  return true;
}

void NativeStream::end_call(std::string_view inner, std::string_view block, bool truncated,
                            StreamOutput* out) {
  std::vector<RawCall> calls;
  std::string why;
  bool ok = true;
  if (truncated) {
    bool cut = kind_ == Kind::kTag ? roo_.cut_in_value(block) : cut_inside_value(inner);
    if (cut) {
      ok = false;
      why = "call cut off inside a value";
    } else if (kind_ == Kind::kTag) {  // "…src/x.cc</pa": the value is complete
      inner.remove_suffix(std::min(inner.size(), roo_.partial_close(block)));
    }
  }
  if (ok) {
    if (kind_ == Kind::kToolCall) {
      ok = parse_tool_call_body(inner, &params_, &calls, &why);
    } else {
      RawCall c;
      std::string_view body = inner;
      if (kind_ == Kind::kFunction) {
        ok = parse_function_body(name_, body, &c, &why);
      } else {
        ok = parse_tag_body(name_, body, params_, &c, &why);
      }
      if (ok) calls.push_back(std::move(c));
    }
  }
  if (ok) ok = accept(calls, out, &why);
  if (state_ != State::kDone) state_ = State::kText;
  if (ok) return;
  out->warnings.push_back("tools.call_as_text: " + why);
  md_.consume(block);
  restore_call_ws();
  emit_text(block, out);
}

bool NativeStream::accept(std::vector<RawCall>& calls, StreamOutput* out, std::string* why) {
  std::vector<std::pair<const Tool*, std::string>> good;
  for (const auto& c : calls) {
    const Tool* tool = plan_.tools.find(c.name);
    if (tool == nullptr) {
      *why = "unknown tool '" + c.name.substr(0, 64) + "'";
      return false;
    }
    if (plan_.choice.mode == ToolChoice::Mode::kNamed && tool->name != plan_.choice.name) {
      *why = "tool_choice names another tool than '" + tool->name + "'";
      return false;
    }
    std::string args, err;
    if (!build_arguments(*tool, c, &args, &err)) {
      *why = tool->name + " arguments: " + err;
      return false;
    }
    good.emplace_back(tool, std::move(args));
  }
  release_held(out);
  ws_.clear();
  call_ws_.clear();
  for (auto& [tool, args] : good) {
    add_call(tool->name, std::move(args), out);
    if (plan_.single_call()) {
      stopped_ = true;
      state_ = State::kDone;
      break;
    }
  }
  return true;
}

void NativeStream::add_call(const std::string& name, std::string args, StreamOutput* out) {
  out->add_call(calls_++, opt_.next_id(), name, std::move(args));
}

void NativeStream::release_held(StreamOutput* out) {
  holding_ = false;
  if (!held_.empty()) out->add_text(held_);
  held_.clear();
}

void NativeStream::restore_call_ws() {
  if (call_ws_.empty()) return;
  call_ws_.append(ws_);
  ws_.swap(call_ws_);
  call_ws_.clear();
}

void NativeStream::emit_text(std::string_view text, StreamOutput* out) {
  if (!had_text_) {  // content never starts with whitespace
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    if (text.empty()) return;
  }
  size_t k = text.find_last_not_of(" \t\r\n");
  if (k == std::string_view::npos) {
    ws_.append(text);
  } else {
    if (!ws_.empty()) sink(ws_, out);
    ws_.clear();
    sink(text.substr(0, k + 1), out);
    ws_.assign(text.substr(k + 1));
  }
  if (ws_.size() > kMaxHeldWhitespace) {  // keep only the last kMaxHeldWhitespace bytes
    size_t extra = ws_.size() - kMaxHeldWhitespace;
    sink(std::string_view(ws_).substr(0, extra), out);
    ws_.erase(0, extra);
  }
}

void NativeStream::sink(std::string_view text, StreamOutput* out) {
  if (text.empty()) return;
  if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) had_text_ = true;
  if (!holding_) {
    out->add_text(text);
    return;
  }
  held_.append(text);
  if (held_.size() > opt_.max_held_text_bytes) {  // too long to hold: stream it, no retry
    out->warnings.push_back("tools.hold_overflow: text released before a call arrived");
    release_held(out);
  }
}

}  // namespace qp::worker::toolcalls
