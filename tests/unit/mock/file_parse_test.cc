// The mock's document parse step (docs/mock-qwen.md, "Upstream API"): the
// OSS stand-in's parse state (begin, "parsing" for parse_polls polls, then
// "success"; the parsed flag the completion check reads), the parse fault
// kinds and endpoints, and the knobs.
#include <string>

#include <catch2/catch.hpp>

#include "common/media/oss_signature.h"
#include "tools/mock-qwen/faults.h"
#include "tools/mock-qwen/mock_config.h"
#include "tools/mock-qwen/oss_store.h"

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity

namespace {

// Grants file `id` at u/<id>.txt and PUTs `body` there with a valid signature.
void store(OssStore* oss, const std::string& id, std::string body) {
  StsIssue g{"STS." + id, "secret-" + id, "CAIS" + id, "u/" + id + ".txt", id};
  oss->remember(g);
  std::string date = qp::media::http_date(1'800'000'000);
  qp::media::OssSignInput in;
  in.verb = "PUT";
  in.content_type = "text/plain";
  in.date = date;
  in.headers = {{"x-oss-security-token", g.security_token}};
  std::string resource = "/" + std::string(kOssBucket) + "/" + g.file_path;
  in.resource = resource;
  std::string auth = qp::media::oss_authorization(g.access_key_id, g.access_key_secret, in);
  REQUIRE(oss->put(g.file_path, in.headers, "", "text/plain", date, auth, std::move(body)).empty());
}

}  // namespace

TEST_CASE("the OSS stand-in parses a stored file over parse_polls polls", "[oss_parse]") {
  OssStore oss;
  const std::string url = "http://127.0.0.1:1/u/f1.txt?Expires=1&Signature=x";
  bool parsed = true;
  CHECK_FALSE(oss.stored_url(url, &parsed));
  CHECK_FALSE(oss.begin_parse("f1"));  // nothing stored yet
  store(&oss, "f1", "hello");
  REQUIRE(oss.stored_url(url, &parsed));
  CHECK_FALSE(parsed);
  CHECK(oss.parse_poll("f1", 2).empty());  // parse never began
  REQUIRE(oss.begin_parse("f1"));
  CHECK(oss.parse_poll("f1", 2) == "parsing");
  CHECK(oss.parse_poll("f1", 2) == "parsing");
  REQUIRE(oss.stored_url(url, &parsed));
  CHECK_FALSE(parsed);
  CHECK(oss.parse_poll("f1", 2) == "success");
  REQUIRE(oss.stored_url(url, &parsed));
  CHECK(parsed);
  // New bytes at the same key are not parsed yet.
  store(&oss, "f1", "other");
  REQUIRE(oss.stored_url(url, &parsed));
  CHECK_FALSE(parsed);
  // parse_polls 0: the first poll succeeds; < 0: never.
  store(&oss, "f2", "x");
  REQUIRE(oss.begin_parse("f2"));
  CHECK(oss.parse_poll("f2", 0) == "success");
  store(&oss, "f3", "x");
  REQUIRE(oss.begin_parse("f3"));
  for (int i = 0; i < 50; ++i) CHECK(oss.parse_poll("f3", -1) == "parsing");
  oss.clear();
  CHECK_FALSE(oss.stored_url(url, &parsed));
  CHECK(oss.parse_poll("f2", 0).empty());
}

TEST_CASE("parse fault kinds and endpoints", "[oss_parse]") {
  for (const char* name : {"parse_outage", "waf_captcha"}) {
    auto k = fault_kind_from_name(name);
    REQUIRE(k);
    CHECK(fault_kind_name(*k) == name);
    CHECK(fault_rejects(*k));
  }
  for (const char* name : {"files_parse", "files_parse_status"}) {
    auto ep = fault_endpoint_from_name(name);
    REQUIRE(ep);
    CHECK(fault_endpoint_name(*ep) == name);
  }
  FaultSet faults;
  // "any" stays the chat endpoints: a file endpoint is named explicitly.
  faults.add(Fault{FaultKind::kRateLimited, FaultEndpoint::kAny, "", -1});
  CHECK_FALSE(faults.fire(FaultEndpoint::kFilesParse, "u", false).reject);
  CHECK(faults.fire(FaultEndpoint::kCompletions, "u", false).reject);
  faults.clear();
  faults.add(Fault{FaultKind::kParseOutage, FaultEndpoint::kFilesParseStatus, "", 1});
  CHECK_FALSE(faults.fire(FaultEndpoint::kFilesParse, "u", false).reject);
  auto hit = faults.fire(FaultEndpoint::kFilesParseStatus, "u", false).reject;
  REQUIRE(hit);
  CHECK(hit->kind == FaultKind::kParseOutage);
  CHECK_FALSE(faults.fire(FaultEndpoint::kFilesParseStatus, "u", false).reject);  // next 1 only
}

TEST_CASE("parse knobs", "[oss_parse]") {
  MockConfig c;
  FaultSet faults;
  CHECK(c.parse_polls == 1);
  CHECK(c.require_parse);
  REQUIRE(apply_config_json(
              R"({"parse_polls": -1, "require_parse": false,
                  "faults": [{"kind": "waf_captcha", "endpoint": "files_parse"}]})",
              &c, &faults)
              .ok());
  CHECK(c.parse_polls == -1);
  CHECK_FALSE(c.require_parse);
  REQUIRE(faults.faults().size() == 1);
  CHECK(faults.faults()[0].endpoint == FaultEndpoint::kFilesParse);
  CHECK_FALSE(apply_config_json(R"({"parse_polls": -2})", &c, &faults).ok());
  CHECK_FALSE(apply_config_json(R"({"require_parse": 1})", &c, &faults).ok());
  std::string json;
  append_config_json(&json, c);
  CHECK(json.find(R"("parse_polls":-1)") != std::string::npos);
}
