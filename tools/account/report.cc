#include "tools/account/report.h"

#include <algorithm>

#include <simdjson.h>

#include "tools/account/time_text.h"

namespace qp::account_tool {
namespace {

constexpr int64_t kSoonS = 24 * 3600;

Status bad_health(const std::string& what) {
  return error(Code::kInvalidArgument, "unexpected /health answer: " + what);
}

// A scalar as text (strings unquoted); false for arrays and objects.
bool scalar_text(simdjson::ondemand::value v, std::string* out) {
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      *out = std::string(s);
      return true;
    }
    case simdjson::ondemand::json_type::number:
    case simdjson::ondemand::json_type::boolean:
    case simdjson::ondemand::json_type::null: {
      std::string_view raw = simdjson::to_json_string(v);
      *out = std::string(raw);
      return true;
    }
    default:
      return false;
  }
}

simdjson::error_code read_account(simdjson::ondemand::object obj, HealthAccount* a) {
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return e;
    simdjson::ondemand::value v;
    if (auto e = f.value().get(v)) return e;
    if (key == "name") {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      a->name = std::string(s);
    } else if (key == "health") {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      a->health = std::string(s);
    } else if (key == "capacity") {
      if (auto e = v.get_uint64().get(a->capacity)) return e;
    } else if (key == "in_flight") {
      if (auto e = v.get_uint64().get(a->in_flight)) return e;
    } else if (key == "token_expires_in_s") {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      if (!is_null) {
        int64_t s = 0;
        if (auto e = v.get_int64().get(s)) return e;
        a->token_expires_in_s = s;
      }
    } else if (key != "token_expiring_soon") {
      std::string text;
      if (scalar_text(v, &text)) a->extra.emplace_back(std::string(key), text);
    }
  }
  return simdjson::SUCCESS;
}

std::string token_cell(const std::optional<int64_t>& in_s) {
  if (!in_s) return "-";
  if (*in_s <= 0) return "EXPIRED " + duration_text(-*in_s) + " ago";
  std::string s = "expires in " + duration_text(*in_s);
  if (*in_s < kSoonS) s += " (< 24 h!)";
  return s;
}

}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

Result<HealthReport> parse_health(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) {
    return bad_health("not a JSON object");
  }
  HealthReport r;
  for (auto f : root) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return bad_health("malformed JSON");
    simdjson::ondemand::value v;
    if (f.value().get(v)) return bad_health("malformed JSON");
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "status") {
      std::string_view s;
      e = v.get_string().get(s);
      r.status = std::string(s);
    } else if (key == "draining") {
      e = v.get_bool().get(r.draining);
    } else if (key == "broker") {
      simdjson::ondemand::object b;
      e = v.get_object().get(b);
      if (!e) {
        auto c = b.find_field_unordered("connected");
        if (c.error() != simdjson::NO_SUCH_FIELD) e = c.get_bool().get(r.broker_connected);
      }
    } else if (key == "workers") {
      e = v.get_uint64().get(r.workers);
    } else if (key == "queued") {
      e = v.get_uint64().get(r.queued);
    } else if (key == "in_flight") {
      e = v.get_uint64().get(r.in_flight);
    } else if (key == "accounts") {
      simdjson::ondemand::array arr;
      e = v.get_array().get(arr);
      if (!e) {
        for (auto item : arr) {
          simdjson::ondemand::object obj;
          if ((e = item.get_object().get(obj))) break;
          HealthAccount a;
          if ((e = read_account(obj, &a))) break;
          r.accounts.push_back(std::move(a));
        }
      }
    }
    if (e) return bad_health("field '" + std::string(key) + "': " + simdjson::error_message(e));
  }
  if (r.status.empty()) return bad_health("no \"status\" field");
  return r;
}

bool account_usable(const accounts::LoadedAccount& a, int64_t now_unix_s) {
  if (!a.status.ok()) return false;
  if (a.facts.token_expires_unix_s > 0 && a.facts.token_expires_unix_s <= now_unix_s) {
    return !a.account.email.empty();  // the worker signs in again
  }
  return true;
}

std::string list_text(const std::vector<accounts::LoadedAccount>& accounts,
                      const std::string& accounts_dir, const accounts::AccountDirListing& listing,
                      int64_t now_unix_s) {
  std::string out;
  if (accounts.empty()) {
    out += "qwenproxy: no account configured";
    out += accounts_dir.empty() ? std::string(" (no accounts directory)")
                                : " (accounts directory: " + accounts_dir +
                                      (listing.exists ? ")" : ", which does not exist)");
    out += "; add one with `qwenproxy account import NAME`\n";
  } else {
    std::vector<std::vector<std::string>> rows{{"ACCOUNT", "STATE", "TOKEN", "SOURCE"}};
    std::vector<std::string> problems;
    for (const auto& a : accounts) {
      std::string state, token = "-";
      if (!a.status.ok()) {
        state = "invalid";
        problems.push_back(a.account.name + ": " + a.status.message());
      } else {
        int64_t exp = a.facts.token_expires_unix_s;
        token = expiry_text(exp, now_unix_s);
        if (exp > 0 && exp <= now_unix_s) {
          state = a.account.email.empty() ? "expired" : "expired (will sign in)";
        } else if (exp > 0 && exp - now_unix_s < kSoonS) {
          state = "expiring";
        } else {
          state = "ok";
        }
        if (exp == 0 && !a.account.email.empty()) token = "none yet (signs in with email)";
      }
      rows.push_back({a.account.name, state, token, a.source.empty() ? "-" : a.source});
    }
    out += format_table(rows);
    for (const auto& p : problems) out += "  problem: " + p + "\n";
  }
  if (!listing.status.ok()) out += "  warning: " + listing.status.message() + "\n";
  for (const auto& f : listing.ignored) {
    out += "  warning: " + accounts_dir + "/" + f +
           " is ignored: an account name may contain only letters, digits, '-', '_' and '.'\n";
  }
  return out;
}

std::string status_text(const HealthReport& r, const std::string& url,
                        const std::vector<std::string>& configured_names) {
  std::string out = "qwenproxy: service " + r.status + (r.draining ? " (draining)" : "") + " at " +
                    url + ": broker " + (r.broker_connected ? "connected" : "NOT connected") +
                    ", " + std::to_string(r.workers) + " worker(s), " + std::to_string(r.queued) +
                    " queued, " + std::to_string(r.in_flight) + " in flight\n";
  std::vector<std::vector<std::string>> rows{{"ACCOUNT", "HEALTH", "IN FLIGHT", "TOKEN", "DETAIL"}};
  for (const auto& a : r.accounts) {
    std::string detail;
    for (const auto& [k, v] : a.extra) {
      if (!detail.empty()) detail += " ";
      detail += k + "=" + v;
    }
    rows.push_back({a.name, a.health,
                    std::to_string(a.in_flight) + "/" + std::to_string(a.capacity),
                    token_cell(a.token_expires_in_s), detail});
  }
  for (const auto& n : configured_names) {
    bool seen = std::any_of(r.accounts.begin(), r.accounts.end(),
                            [&](const HealthAccount& a) { return a.name == n; });
    if (!seen) rows.push_back({n, "no worker", "-", "-", "configured, but no worker reports it"});
  }
  if (rows.size() == 1) {
    out += "  no account reports to the broker\n";
  } else {
    out += format_table(rows);
  }
  return out;
}

}  // namespace qp::account_tool
