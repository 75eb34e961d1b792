#include <catch2/catch.hpp>

#include "frontend/admin/access.h"

using qp::frontend::ApiError;
using qp::frontend::admin::AdminAccess;
using qp::frontend::admin::is_loopback_host;

namespace {

qp::http::Request with_auth(const char* value) {
  qp::http::Request r;
  r.method = "GET";
  r.path = "/admin/v1/overview";
  if (value != nullptr) r.headers.push_back({"authorization", value});
  return r;
}

}  // namespace

TEST_CASE("loopback hosts", "[admin]") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.9.8.7"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("[::1]"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("LocalHost"));
  CHECK(is_loopback_host("::ffff:127.0.0.1"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("localhost.example.com"));
  CHECK_FALSE(is_loopback_host(""));
}

TEST_CASE("no admin key: open on loopback, off elsewhere", "[admin]") {
  AdminAccess local("", "127.0.0.1");
  CHECK(local.enabled());
  CHECK(local.why_disabled().empty());
  ApiError e;
  CHECK(local.check(with_auth(nullptr), &e));
  CHECK(local.check(with_auth("Bearer anything"), &e));
  CHECK_FALSE(local.is_admin_key(nullptr));

  AdminAccess open("", "0.0.0.0");
  CHECK_FALSE(open.enabled());
  CHECK(open.why_disabled().find("0.0.0.0") != std::string::npos);
  CHECK(open.why_disabled().find("QP_ADMIN_KEY") != std::string::npos);
  CHECK_FALSE(open.check(with_auth(nullptr), &e));
  CHECK(qp::frontend::http_status(e) == 404);
  CHECK(e.message == open.why_disabled());
}

TEST_CASE("admin key: required everywhere, compared exactly", "[admin]") {
  for (const char* host : {"127.0.0.1", "0.0.0.0"}) {
    AdminAccess a("s3cret-admin", host);
    CHECK(a.enabled());
    ApiError e;
    CHECK(a.check(with_auth("Bearer s3cret-admin"), &e));
    CHECK(a.check(with_auth("bearer   s3cret-admin "), &e));
    CHECK_FALSE(a.check(with_auth(nullptr), &e));
    CHECK(qp::frontend::http_status(e) == 401);
    CHECK(e.error_code == "invalid_api_key");
    CHECK_FALSE(a.check(with_auth("Bearer s3cret-admi"), &e));
    CHECK(e.message.find("s3cret") == std::string::npos);  // never echoed
    CHECK_FALSE(a.check(with_auth("Bearer s3cret-admin2"), &e));
    CHECK_FALSE(a.check(with_auth("Basic s3cret-admin"), &e));
    std::string good = "Bearer s3cret-admin";
    std::string bad = "Bearer sk-client";
    CHECK(a.is_admin_key(&good));
    CHECK_FALSE(a.is_admin_key(&bad));
  }
}
