// Uploads of MockServer: POST getstsToken on both paths, the OSS stand-in
// that verifies the signed PUT and stores the bytes (oss_store.h), and the
// document parse step (files/parse, files/parse/status). The
// credentials are fresh random values per grant; the file_url is a
// signed-looking URL on this server, as the site's points at OSS.
#include <string>

#include <simdjson.h>

#include "common/ids.h"
#include "common/json/writer.h"
#include "common/log.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/requests.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

std::string sanitize_filename(std::string_view name) {
  std::string out;
  for (char c : utf8_prefix(name, 128)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? std::string("file") : out;
}

std::string oss_error(std::string_view code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>mock OSS refused the request</Message></Error>";
}

}  // namespace

void MockServer::handle_sts(http::Exchange& ex) {
  const http::Request& req = ex.request();
  Caller caller;
  if (!identify(ex, &caller)) return;
  std::string rid = ids_.uuid();
  auto parsed = parse_sts_request(req.body);
  if (!parsed.has_value()) {
    ex.respond(200, json_headers(), error_envelope(rid, kBadRequest, parsed.error().message()));
    return;
  }
  StsIssue issue;
  issue.file_id = ids_.uuid();
  issue.file_path = caller.owner + "/" + issue.file_id + "_" + sanitize_filename(parsed->filename);
  issue.access_key_id = "STS.mock" + ids::random_hex(12);
  issue.access_key_secret = ids::random_hex(20);
  issue.security_token = "CAISmock" + ids::random_hex(24);
  std::string host = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
  std::string file_url = "http://" + host + ":" + std::to_string(port()) + "/" + issue.file_path +
                         "?Expires=4102444800&OSSAccessKeyId=" + issue.access_key_id +
                         "&Signature=mock";
  std::string grant;
  json::Writer w(&grant);
  w.begin_object();
  w.field("access_key_id", issue.access_key_id);
  w.field("access_key_secret", issue.access_key_secret);
  w.field("security_token", issue.security_token);
  w.field("file_url", file_url);
  w.field("file_path", issue.file_path);
  w.field("file_id", issue.file_id);
  w.field("bucketname", kOssBucket);
  w.field("region", kOssRegion);
  if (config_.sts_wrapped) w.field("endpoint", std::string(kOssRegion) + ".aliyuncs.com");
  w.end_object();
  oss_.remember(std::move(issue));
  // Flat (R21, GO) by default; the older wrapped form on request.
  ex.respond(200, json_headers(), config_.sts_wrapped ? ok_envelope(rid, grant) : grant);
}

bool MockServer::file_fault(http::Exchange& ex, FaultEndpoint ep, const std::string& owner,
                            std::string_view rid) {
  FaultHits hits = faults_.fire(ep, owner, false);
  if (!hits.reject) return false;
  switch (hits.reject->kind) {
    case FaultKind::kParseOutage:
      ex.respond(200, json_headers(), parse_outage_envelope(rid, ep == FaultEndpoint::kFilesParse));
      break;
    case FaultKind::kWafCaptcha:
      ex.respond(200, html_headers(), waf_captcha_page());
      break;
    default:
      respond_fault(ex, *hits.reject, rid);
      break;
  }
  return true;
}

// The document parse step (docs/mock-qwen.md, "Upstream API"; the shapes are
// from peers' client code, not captures): {file_id} of a stored object in,
// {success:true, data:{file_id, status:"parsing"}} out; the file then parses
// over parse_polls status polls.
void MockServer::handle_file_parse(http::Exchange& ex) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  ++state_.counters.file_parses;
  std::string rid = ids_.uuid();
  if (file_fault(ex, FaultEndpoint::kFilesParse, caller.owner, rid)) return;
  std::string file_id;
  {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view id;
    const std::string& body = ex.request().body;
    if (!parser.parse(body.data(), body.size()).get(doc) && !doc["file_id"].get(id))
      file_id.assign(id);
  }
  if (file_id.empty() || !oss_.begin_parse(file_id)) {
    ex.respond(200, json_headers(),
               error_envelope(rid, kBadRequest, "Invalid input file_id is not exist."));
    return;
  }
  std::string data;
  json::Writer w(&data);
  w.begin_object().field("file_id", file_id).field("status", "parsing").end_object();
  ex.respond(200, json_headers(), ok_envelope(rid, data));
}

// {file_id_list:[…]} → {success:true, data:[{file_id, status}]}: "parsing"
// for the first parse_polls polls after files/parse, then "success"; a file
// whose parse never began is an error (invented, like the parse's).
void MockServer::handle_file_parse_status(http::Exchange& ex) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  ++state_.counters.file_parse_polls;
  std::string rid = ids_.uuid();
  if (file_fault(ex, FaultEndpoint::kFilesParseStatus, caller.owner, rid)) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array list;
  const std::string& body = ex.request().body;
  if (parser.parse(body.data(), body.size()).get(doc) || doc["file_id_list"].get(list)) {
    ex.respond(200, json_headers(),
               error_envelope(rid, kBadRequest, "Invalid input file_id_list is required."));
    return;
  }
  std::string data;
  json::Writer w(&data);
  w.begin_array();
  for (simdjson::dom::element e : list) {
    std::string_view id;
    if (e.get(id)) continue;
    std::string_view status = oss_.parse_poll(id, config_.parse_polls);
    if (status.empty()) {
      ex.respond(200, json_headers(),
                 error_envelope(rid, kBadRequest, "Invalid input file_id is not exist."));
      return;
    }
    w.begin_object().field("file_id", id).field("status", status).end_object();
  }
  w.end_array();
  ex.respond(200, json_headers(), ok_envelope(rid, data));
}

void MockServer::handle_oss(http::Exchange& ex) {
  const http::Request& req = ex.request();
  std::string key = req.path;
  while (!key.empty() && key.front() == '/') key.erase(0, 1);
  if (req.method == "PUT") {
    if (oss_failures_ < config_.oss_fail_puts) {
      ++oss_failures_;
      ex.respond(500, {{"content-type", "application/xml"}}, oss_error("InternalError"));
      return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& h : req.headers) headers.emplace_back(h.name, h.value);
    std::string code =
        oss_.put(key, headers, header_value(req, "content-md5"), header_value(req, "content-type"),
                 header_value(req, "date"), header_value(req, "authorization"), req.body);
    if (!code.empty()) {
      QP_INFO("mock.oss_refused").kv("code", code);
      ex.respond(403, {{"content-type", "application/xml"}}, oss_error(code));
      return;
    }
    ex.respond(200, {{"etag", "\"mock-etag\""}, {"x-oss-request-id", ids_.uuid()}}, "");
    return;
  }
  const std::string* bytes = oss_.find(key);
  if (bytes == nullptr) {
    ex.respond(404, {{"content-type", "application/xml"}}, oss_error("NoSuchKey"));
    return;
  }
  ex.respond(200, {{"content-type", "application/octet-stream"}}, *bytes);
}

}  // namespace qp::mock
