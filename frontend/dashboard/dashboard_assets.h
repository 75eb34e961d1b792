// The operator dashboard's static page (docs/dashboard.md): index.html,
// app.js, charts.js and app.css from this directory, compiled into the
// binary as byte arrays by embed_assets.cmake, served at GET/HEAD
// /dashboard and /dashboard/<file> (/dashboard/ redirects to /dashboard). No CDN and no file system
// access at run time.
//
// Every response on a /dashboard path carries the security headers below: a
// strict Content-Security-Policy (no inline script or style, connections to
// this origin only, no framing), nosniff and no-referrer. Assets have a
// strong ETag (SHA-256 prefix, computed at build time) and `Cache-Control:
// no-cache`, so a browser revalidates and gets 304 on If-None-Match.
//
// Access: the page follows the admin API's on/off rule (frontend/admin/
// access.h) but needs no key to load: it asks for the key and sends it as a
// bearer header to /admin/v1. When the admin surface is off the answer is a
// 404 with an OpenAI-shaped error saying why (AdminAccess::why_disabled()).
//
// Policy (answer) is pure and unit-tested; serve() only writes it out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/http/server.h"

namespace qp::frontend::dashboard {

struct Asset {
  std::string_view path;  // URL path, e.g. "/dashboard/app.js"
  std::string_view body;
  const char* content_type;
  const char* etag;  // strong, quoted: "\"0123...\""
};

// Generated (embed_assets.cmake).
extern const Asset kAssets[];
extern const size_t kAssetCount;

// The Content-Security-Policy every dashboard response carries.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

// True for "/dashboard" and anything under "/dashboard/".
bool is_dashboard_path(std::string_view path);
// The asset served at `path`, or nullptr.
const Asset* find_asset(std::string_view path);
// True if an If-None-Match header value (a list of entity tags, or "*")
// matches `etag` (weak comparison, as RFC 9110 asks for If-None-Match).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

struct Reply {
  int status = 200;
  http::Headers headers;
  std::string body;
};

// The answer to `method path` on a dashboard path. `off_reason` empty = the
// admin surface is on; otherwise the 404's message (why it is off).
Reply answer(std::string_view method, std::string_view path, const std::string* if_none_match,
             std::string_view off_reason);

// Writes answer() for the exchange's request.
void serve(http::Exchange& ex, std::string_view off_reason);

}  // namespace qp::frontend::dashboard
