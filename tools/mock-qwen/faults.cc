#include "tools/mock-qwen/faults.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/json/writer.h"

namespace qp::mock {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 13> kKindNames{{
    {FaultKind::kRateLimited, "rate_limited"},
    {FaultKind::kWafJson, "waf_json"},
    {FaultKind::kWafHtml, "waf_html"},
    {FaultKind::kUnauthorized, "unauthorized"},
    {FaultKind::kChatInProgress, "chat_in_progress"},
    {FaultKind::kInternalError, "internal_error"},
    {FaultKind::kModeration, "moderation"},
    {FaultKind::kMidStreamError, "mid_stream_error"},
    {FaultKind::kSlowFirstByte, "slow_first_byte"},
    {FaultKind::kDropMidStream, "drop_mid_stream"},
    {FaultKind::kEmptyAnswer, "empty_answer"},
    {FaultKind::kParseOutage, "parse_outage"},
    {FaultKind::kWafCaptcha, "waf_captcha"},
}};

bool endpoint_matches(FaultEndpoint fault_ep, FaultEndpoint request_ep) {
  bool chat = request_ep == FaultEndpoint::kCompletions || request_ep == FaultEndpoint::kChatsNew;
  return (fault_ep == FaultEndpoint::kAny && chat) || fault_ep == request_ep;
}

}  // namespace

std::string_view fault_kind_name(FaultKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<FaultKind> fault_kind_from_name(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string_view fault_endpoint_name(FaultEndpoint ep) {
  switch (ep) {
    case FaultEndpoint::kCompletions:
      return "completions";
    case FaultEndpoint::kChatsNew:
      return "chats_new";
    case FaultEndpoint::kAny:
      return "any";
    case FaultEndpoint::kFilesParse:
      return "files_parse";
    case FaultEndpoint::kFilesParseStatus:
      return "files_parse_status";
  }
  return "any";
}

std::optional<FaultEndpoint> fault_endpoint_from_name(std::string_view name) {
  if (name == "completions") return FaultEndpoint::kCompletions;
  if (name == "chats_new") return FaultEndpoint::kChatsNew;
  if (name == "any") return FaultEndpoint::kAny;
  if (name == "files_parse") return FaultEndpoint::kFilesParse;
  if (name == "files_parse_status") return FaultEndpoint::kFilesParseStatus;
  return std::nullopt;
}

bool fault_rejects(FaultKind kind) {
  switch (kind) {
    case FaultKind::kMidStreamError:
    case FaultKind::kSlowFirstByte:
    case FaultKind::kDropMidStream:
    case FaultKind::kEmptyAnswer:
      return false;
    default:
      return true;
  }
}

FaultHits FaultSet::fire(FaultEndpoint endpoint, std::string_view user, bool streaming) {
  FaultHits hits;
  auto applies = [&](const Fault& f) {
    return f.remaining != 0 && endpoint_matches(f.endpoint, endpoint) &&
           (f.user.empty() || f.user == user);
  };
  // A rejecting fault replaces the response: nothing else takes effect.
  for (auto& f : faults_) {
    if (!applies(f) || !fault_rejects(f.kind)) continue;
    hits.reject = f;
    if (f.remaining > 0) --f.remaining;
    break;
  }
  if (!hits.reject && streaming) {
    for (auto& f : faults_) {
      if (!applies(f) || fault_rejects(f.kind)) continue;
      switch (f.kind) {
        case FaultKind::kSlowFirstByte:
          hits.first_byte_delay_ms += f.delay_ms;
          break;
        case FaultKind::kMidStreamError:
          hits.error_after = hits.error_after < 0 ? f.after : std::min(hits.error_after, f.after);
          break;
        case FaultKind::kDropMidStream:
          hits.drop_after = hits.drop_after < 0 ? f.after : std::min(hits.drop_after, f.after);
          break;
        case FaultKind::kEmptyAnswer:
          hits.empty_answer = true;
          break;
        default:
          break;
      }
      if (f.remaining > 0) --f.remaining;
    }
  }
  faults_.erase(std::remove_if(faults_.begin(), faults_.end(),
                               [](const Fault& f) { return f.remaining == 0; }),
                faults_.end());
  return hits;
}

void FaultSet::append_json(std::string* out) const {
  json::Writer w(out);
  w.begin_array();
  for (const auto& f : faults_) {
    w.begin_object();
    w.field("kind", fault_kind_name(f.kind));
    w.field("endpoint", fault_endpoint_name(f.endpoint));
    if (!f.user.empty()) w.field("user", f.user);
    w.field("remaining", f.remaining);
    if (f.kind == FaultKind::kRateLimited) w.field("num", f.num);
    if (f.kind == FaultKind::kMidStreamError || f.kind == FaultKind::kDropMidStream) {
      w.field("after", f.after);
    }
    if (f.kind == FaultKind::kSlowFirstByte) w.field("delay_ms", f.delay_ms);
    w.end_object();
  }
  w.end_array();
}

}  // namespace qp::mock
