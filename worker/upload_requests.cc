#include "worker/upload_requests.h"

#include <cctype>

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/media/oss_signature.h"

namespace qp::worker {
namespace {

// Percent-encodes an object key for the URL path ('/' kept).
std::string encode_path(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// "Name: value" without CR/LF (values come from the STS answer).
std::string header(std::string_view name, std::string_view value) {
  std::string h(name);
  h.append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n') h.push_back(c);
  }
  return h;
}

}  // namespace

std::string_view sts_filetype(std::string_view mime) {
  auto starts = [&](std::string_view p) { return mime.substr(0, p.size()) == p; };
  if (starts("image/")) return "image";
  if (starts("video/")) return "video";
  if (starts("audio/")) return "audio";
  if (starts("application/")) return "document";
  return "file";
}

std::string sts_body(std::string_view filename, uint64_t filesize, std::string_view filetype) {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  w.field("filename", filename);
  w.field("filesize", static_cast<int64_t>(filesize));
  w.field("filetype", filetype);
  w.end_object();
  return out;
}

Result<StsGrant> parse_sts(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) {
    return error(Code::kUpstream, "Qwen's upload token answer is not a JSON object");
  }
  simdjson::dom::element grant = root;
  bool success = true;
  if (!root["success"].get(success)) {
    if (!success) return error(Code::kUpstream, "Qwen refused the upload token request");
    if (root["data"].get(grant) || !grant.is_object())
      return error(Code::kUpstream, "Qwen's upload token answer has no data object");
  }
  StsGrant g;
  for (auto [key, out, required] :
       {std::tuple{"access_key_id", &g.access_key_id, true},
        std::tuple{"access_key_secret", &g.access_key_secret, true},
        std::tuple{"security_token", &g.security_token, true},
        std::tuple{"file_url", &g.file_url, true}, std::tuple{"file_path", &g.file_path, true},
        std::tuple{"file_id", &g.file_id, false}, std::tuple{"bucketname", &g.bucket, true},
        std::tuple{"region", &g.region, false}, std::tuple{"endpoint", &g.endpoint, false}}) {
    std::string_view v;
    if (grant[key].get(v) || v.empty()) {
      if (required) {
        return error(Code::kUpstream, std::string("Qwen's upload token answer has no ") + key);
      }
      continue;
    }
    out->assign(v);
  }
  if (g.region.empty() && g.endpoint.empty())
    return error(Code::kUpstream, "Qwen's upload token answer has neither region nor endpoint");
  return g;
}

OssPut oss_put(const StsGrant& grant, std::string_view oss_endpoint, std::string_view content_type,
               std::string_view date) {
  OssPut put;
  std::string path = encode_path(grant.file_path);
  if (!oss_endpoint.empty()) {
    put.url.assign(oss_endpoint).append("/").append(path);
  } else {
    std::string host = grant.endpoint.empty() ? grant.region + ".aliyuncs.com" : grant.endpoint;
    put.url = "https://" + grant.bucket + "." + host + "/" + path;
  }
  media::OssSignInput in;
  in.verb = "PUT";
  in.content_type = content_type;
  in.date = date;
  in.headers = {{"x-oss-security-token", grant.security_token}};
  std::string resource = "/" + grant.bucket + "/" + grant.file_path;
  in.resource = resource;
  put.headers.push_back(header("Content-Type", content_type));
  put.headers.push_back(header("Date", date));
  put.headers.push_back(header("x-oss-security-token", grant.security_token));
  put.headers.push_back(header(
      "Authorization", media::oss_authorization(grant.access_key_id, grant.access_key_secret, in)));
  put.headers.emplace_back("Expect:");  // no 100-continue round trip
  return put;
}

}  // namespace qp::worker
