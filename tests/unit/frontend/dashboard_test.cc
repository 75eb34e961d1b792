// The dashboard's embedded assets (frontend/dashboard): every file is served
// with the CSP and security headers and its content type, ETags give 304s,
// other methods 405, the page is off (404, saying why) where the admin
// surface is off (frontend/admin/access.h decides), and the HTML has no inline script, style or
// handler (the CSP would block them, so they would be dead code or a broken page).
#include <cctype>
#include <regex>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "frontend/dashboard/dashboard_assets.h"

using namespace qp;
using namespace qp::frontend::dashboard;

namespace {

std::string header(const Reply& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (h.name == name) return h.value;
  return {};
}

void check_security_headers(const Reply& r) {
  CHECK(header(r, "content-security-policy") ==
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  CHECK(header(r, "x-content-type-options") == "nosniff");
  CHECK(header(r, "referrer-policy") == "no-referrer");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

TEST_CASE("dashboard: the four assets are embedded and served with CSP and content type") {
  REQUIRE(kAssetCount == 4);
  const std::pair<const char*, const char*> expected[] = {
      {"/dashboard", "text/html; charset=utf-8"},
      {"/dashboard/app.js", "text/javascript; charset=utf-8"},
      {"/dashboard/charts.js", "text/javascript; charset=utf-8"},
      {"/dashboard/app.css", "text/css; charset=utf-8"}};
  std::set<std::string> etags;
  for (const auto& [path, type] : expected) {
    INFO(path);
    const Asset* a = find_asset(path);
    REQUIRE(a != nullptr);
    CHECK(a->body.size() > 100);
    for (const char* method : {"GET", "HEAD"}) {
      Reply r = answer(method, path, nullptr, "");
      CHECK(r.status == 200);
      check_security_headers(r);
      CHECK(header(r, "content-type") == type);
      CHECK(header(r, "etag") == a->etag);
      CHECK(header(r, "cache-control") == "no-cache");
      CHECK(r.body == a->body);
    }
    // Strong, quoted, distinct.
    std::string etag = a->etag;
    CHECK(std::regex_match(etag, std::regex("\"[0-9a-f]{32}\"")));
    etags.insert(etag);
  }
  CHECK(etags.size() == 4);
}

TEST_CASE("dashboard: If-None-Match gives 304 without a body, still with the CSP") {
  const Asset* a = find_asset("/dashboard/app.js");
  REQUIRE(a != nullptr);
  std::string tag = a->etag;
  for (std::string inm : {tag, "W/" + tag, "\"other\", " + tag, std::string("*")}) {
    INFO(inm);
    Reply r = answer("GET", "/dashboard/app.js", &inm, "");
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(header(r, "etag") == tag);
    check_security_headers(r);
  }
  std::string stale = "\"0123\"";
  CHECK(answer("GET", "/dashboard/app.js", &stale, "").status == 200);
  CHECK_FALSE(etag_matches("", tag));
  CHECK_FALSE(etag_matches(" , ", tag));
}

TEST_CASE("dashboard: redirect, unknown file, other methods") {
  Reply r = answer("GET", "/dashboard/", nullptr, "");
  CHECK(r.status == 301);
  CHECK(header(r, "location") == "/dashboard");
  check_security_headers(r);

  r = answer("GET", "/dashboard/secret.txt", nullptr, "");
  CHECK(r.status == 404);
  CHECK(header(r, "content-type") == "application/json");
  CHECK(r.body.find("\"unknown_url\"") != std::string::npos);
  check_security_headers(r);

  r = answer("POST", "/dashboard", nullptr, "");
  CHECK(r.status == 405);
  CHECK(header(r, "allow") == "GET, HEAD");
  CHECK(r.body.find("\"error\"") != std::string::npos);

  CHECK(is_dashboard_path("/dashboard"));
  CHECK(is_dashboard_path("/dashboard/app.js"));
  CHECK_FALSE(is_dashboard_path("/dashboards"));
  CHECK_FALSE(is_dashboard_path("/v1/dashboard"));
}

TEST_CASE("dashboard: off where the admin surface is off (404 saying why)") {
  const std::string why =
      "The admin API and dashboard are off: no admin key is configured and the frontend listens "
      "on 0.0.0.0, which is not a loopback address.";
  for (const char* path : {"/dashboard", "/dashboard/app.js", "/dashboard/"}) {
    INFO(path);
    Reply r = answer("GET", path, nullptr, why);
    CHECK(r.status == 404);
    CHECK(header(r, "content-type") == "application/json");
    CHECK(r.body.find("admin_disabled") != std::string::npos);
    CHECK(r.body.find("listens on 0.0.0.0") != std::string::npos);
    CHECK(r.body.find("<html") == std::string::npos);
    check_security_headers(r);
  }
}

TEST_CASE("dashboard: the HTML has no inline script, style or event handler") {
  const Asset* html = find_asset("/dashboard");
  REQUIRE(html != nullptr);
  std::string page = lower(html->body);
  // Every <script> has a src.
  size_t scripts = 0;
  for (size_t at = page.find("<script"); at != std::string::npos;
       at = page.find("<script", at + 1)) {
    size_t end = page.find('>', at);
    REQUIRE(end != std::string::npos);
    std::string tag = page.substr(at, end - at);
    INFO(tag);
    CHECK(tag.find(" src=") != std::string::npos);
    CHECK(page.compare(end + 1, 9, "</script>") == 0);  // nothing inline
    ++scripts;
  }
  CHECK(scripts == 2);
  CHECK(page.find("<style") == std::string::npos);
  CHECK(page.find("style=") == std::string::npos);
  CHECK_FALSE(std::regex_search(page, std::regex("\\son[a-z]+\\s*=")));
  CHECK(page.find("javascript:") == std::string::npos);
  // No resource from another origin (the page works offline).
  CHECK_FALSE(std::regex_search(page, std::regex("(src|href)=\"(https?:)?//")));
}

TEST_CASE("dashboard: the scripts have no eval-like constructs, markup injection or cookies") {
  for (const char* path : {"/dashboard/app.js", "/dashboard/charts.js"}) {
    INFO(path);
    const Asset* js = find_asset(path);
    REQUIRE(js != nullptr);
    std::string code(js->body);
    CHECK(code.find("eval(") == std::string::npos);
    CHECK(code.find("new Function") == std::string::npos);
    CHECK(code.find("innerHTML") == std::string::npos);  // text only: no markup injection
    CHECK(code.find("outerHTML") == std::string::npos);
    CHECK(code.find("document.cookie") == std::string::npos);
  }
  // The key lives in sessionStorage, never in localStorage.
  std::string app(find_asset("/dashboard/app.js")->body);
  CHECK(app.find("sessionStorage") != std::string::npos);
  CHECK(app.find("localStorage") == std::string::npos);
}
