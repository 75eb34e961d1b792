#include "tools/account/har_import.h"

#include <simdjson.h>

#include "common/config.h"

namespace qp::account_tool {
namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::object;

Status bad(const std::string& what) { return error(Code::kInvalidArgument, what); }

Status json_error(simdjson::error_code e) {
  return bad(std::string("not a valid HAR file: ") + simdjson::error_message(e));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// [{ "name": …, "value": … }, …] → callback(name, value).
template <class F>
simdjson::error_code name_values(simdjson::ondemand::value v, F&& each) {
  array arr;
  if (auto e = v.get_array().get(arr)) return e;
  for (auto item_r : arr) {
    object item;
    if (auto e = item_r.get_object().get(item)) return e;
    std::string_view name, value;
    bool has_name = false, has_value = false;
    for (auto f : item) {
      std::string_view key;
      if (auto e = f.unescaped_key().get(key)) return e;
      if (key == "name") {
        if (auto e = f.value().get_string().get(name)) return e;
        has_name = true;
      } else if (key == "value") {
        if (auto e = f.value().get_string().get(value)) return e;
        has_value = true;
      }
    }
    if (has_name && has_value) each(name, value);
  }
  return simdjson::SUCCESS;
}

struct Entry {
  Capture capture;
  std::string cookie_array;  // from request.cookies, used when there is no Cookie header
};

simdjson::error_code read_request(object req, Entry* out) {
  for (auto f : req) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return e;
    if (key == "method") {
      std::string_view m;
      if (auto e = f.value().get_string().get(m)) return e;
      out->capture.method = std::string(m);
    } else if (key == "url") {
      std::string_view u;
      if (auto e = f.value().get_string().get(u)) return e;
      out->capture.url = std::string(u);
    } else if (key == "headers") {
      auto e = name_values(f.value(), [&](std::string_view n, std::string_view v) {
        add_header(&out->capture, n, v);
      });
      if (e) return e;
    } else if (key == "cookies") {
      auto e = name_values(f.value(), [&](std::string_view n, std::string_view v) {
        if (!out->cookie_array.empty()) out->cookie_array += "; ";
        out->cookie_array.append(n);
        out->cookie_array += "=";
        out->cookie_array.append(v);
      });
      if (e) return e;
    }
  }
  return simdjson::SUCCESS;
}

}  // namespace

Result<Capture> parse_har(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(padded).get(doc)) return json_error(e);
  object root;
  if (auto e = doc.get_object().get(root)) return json_error(e);
  object log;
  if (root.find_field_unordered("log").get_object().get(log)) {
    return bad(
        "not a HAR file: there is no \"log\" object (export it with \"Save all as HAR\" / "
        "\"Export HAR\" in the network panel)");
  }
  array entries;
  if (log.find_field_unordered("entries").get_array().get(entries)) {
    return bad("not a HAR file: \"log\" has no \"entries\" array");
  }
  size_t index = 0, candidates = 0, best_index = 0;
  bool found = false;
  Capture best;
  for (auto entry_r : entries) {
    ++index;
    object entry;
    if (auto e = entry_r.get_object().get(entry)) return json_error(e);
    object req;
    auto req_r = entry.find_field_unordered("request");
    if (req_r.error() == simdjson::NO_SUCH_FIELD) continue;
    if (auto e = req_r.get_object().get(req)) return json_error(e);
    Entry got;
    if (auto e = read_request(req, &got)) return json_error(e);
    std::string host = url_host(got.capture.url);
    if (!(host == "qwen.ai" || ends_with(host, ".qwen.ai"))) continue;
    if (url_path(got.capture.url).rfind("/api/", 0) != 0) continue;
    ++candidates;
    if (got.capture.cookies.empty()) got.capture.cookies = got.cookie_array;
    if (got.capture.bearer.empty() && cookie_value(got.capture.cookies, "token").empty()) continue;
    best = std::move(got.capture);
    best_index = index;
    found = true;
  }
  if (!found) {
    if (candidates == 0) {
      return bad(
          "the HAR file has no request to a chat.qwen.ai API (/api/...): record it while "
          "sending a chat message on chat.qwen.ai");
    }
    return bad("none of the " + std::to_string(candidates) +
               " chat.qwen.ai API requests in the HAR file carries a session token (no "
               "Authorization header and no token cookie). Browsers export a sanitised HAR by "
               "default: use \"Export HAR (with sensitive data)\" in Chrome, or be logged in "
               "when recording");
  }
  best.format =
      "HAR file (entry " + std::to_string(best_index) + " of " + std::to_string(index) + ")";
  return best;
}

}  // namespace qp::account_tool
