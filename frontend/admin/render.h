// JSON bodies of the admin API (docs/api.md, "Admin API"), rendered from
// plain inputs so they are unit-tested without a server. Every function
// appends through json::Writer; none of them sees a secret (account
// summaries carry names, health and expiry only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/writer.h"
#include "common/protocol/messages.h"
#include "frontend/admin/stats.h"
#include "frontend/request_observer.h"

namespace qp::frontend::admin {

// What the frontend adds to a broker account summary.
struct AccountExtras {
  HourTotals last_hour;
  const ErrorEntry* last_error = nullptr;  // nullptr: none
  int64_t now_unix_ms = 0;                 // a cooldown that ended before this is reported as null
};

// One account object: {"name","health","reason",...,"worker":{...}}.
void write_account(json::Writer& w, const protocol::AccountSummary& a, const AccountExtras& x);
// {"account","pid","uptime_s","restarts","instance"}.
void write_worker(json::Writer& w, const protocol::AccountSummary& a, std::string_view instance,
                  int64_t now_unix_ms);
// {"id","endpoint","model","account","key","stream","age_ms","chunks"}.
void write_live_request(json::Writer& w, const RequestRecord& r, int64_t now_unix_ms);
// An errors[] entry.
void write_error(json::Writer& w, const ErrorEntry& e);
// The request.start event's data.
void write_request_start(json::Writer& w, const RequestRecord& r);
// The request.end event's data.
void write_request_end(json::Writer& w, const RequestRecord& r, const RequestOutcome& out,
                       uint64_t end_ns);

struct Notice {
  std::string account;
  std::string kind;  // token_expiring | token_expired | unhealthy
  std::string message;
  int64_t expires_unix_s = 0;
};
// The console banner's notices for these accounts at `now_unix_s`: an account
// whose health is not ok; a token that expired, or expires within 24 h.
std::vector<Notice> account_notices(const std::vector<protocol::AccountSummary>& accounts,
                                    int64_t now_unix_s);
void write_notice(json::Writer& w, const Notice& n);

// Builds `event: <type>\ndata: <json>\n\n`. `json` has no newline.
void append_sse_event(std::string* out, std::string_view type, std::string_view json);

}  // namespace qp::frontend::admin
