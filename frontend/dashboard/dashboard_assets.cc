#include "frontend/dashboard/dashboard_assets.h"

#include <utility>

#include "common/strings.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend::dashboard {
namespace {

http::Headers security_headers() {
  return {{"content-security-policy", std::string(kContentSecurityPolicy)},
          {"x-content-type-options", "nosniff"},
          {"referrer-policy", "no-referrer"},
          {"x-frame-options", "DENY"},
          {"cross-origin-opener-policy", "same-origin"}};
}

Reply error_reply(ApiError e) {
  Reply r;
  r.status = http_status(e);
  r.headers = security_headers();
  r.headers.push_back({"content-type", "application/json"});
  if (e.code == Code::kMethodNotAllowed) {
    r.headers.push_back({"allow", "GET, HEAD"});
    e.param.clear();
  }
  r.body = error_json(e);
  return r;
}

}  // namespace

bool is_dashboard_path(std::string_view path) {
  return path == "/dashboard" || path.rfind("/dashboard/", 0) == 0;
}

const Asset* find_asset(std::string_view path) {
  for (size_t i = 0; i < kAssetCount; ++i) {
    if (kAssets[i].path == path) return &kAssets[i];
  }
  return nullptr;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match;
  auto opaque = [](std::string_view t) {
    if (t.size() >= 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = strings::trim_blanks(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item == "*") return true;
    if (!item.empty() && opaque(item) == opaque(etag)) return true;
  }
  return false;
}

Reply answer(std::string_view method, std::string_view path, const std::string* if_none_match,
             std::string_view off_reason) {
  if (!off_reason.empty()) {
    return error_reply(ApiError{Code::kNotFound, std::string(off_reason), {}, "admin_disabled", 0});
  }
  if (method != "GET" && method != "HEAD") {
    return error_reply(
        ApiError{Code::kMethodNotAllowed,
                 "Method " + std::string(method) + " is not allowed for " + std::string(path) + ".",
                 "GET, HEAD",
                 {},
                 0});
  }
  Reply r;
  r.headers = security_headers();
  if (path == "/dashboard/") {
    r.status = 301;
    r.headers.push_back({"location", "/dashboard"});
    return r;
  }
  const Asset* a = find_asset(path);
  if (a == nullptr) {
    return error_reply(ApiError{Code::kNotFound,
                                "Unknown dashboard file: " + std::string(path) + ".",
                                {},
                                "unknown_url",
                                0});
  }
  r.headers.push_back({"etag", a->etag});
  r.headers.push_back({"cache-control", "no-cache"});
  if (if_none_match != nullptr && etag_matches(*if_none_match, a->etag)) {
    r.status = 304;
    return r;
  }
  r.headers.push_back({"content-type", a->content_type});
  r.body.assign(a->body);
  return r;
}

void serve(http::Exchange& ex, std::string_view off_reason) {
  const http::Request& req = ex.request();
  Reply r = answer(req.method, req.path, req.header("if-none-match"), off_reason);
  ex.respond(r.status, std::move(r.headers), std::move(r.body));
}

}  // namespace qp::frontend::dashboard
