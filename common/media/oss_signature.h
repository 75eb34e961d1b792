// Alibaba OSS request signature, V1 (the header form the upload step of the
// Qwen web API uses with STS credentials; docs/upstream.md "Images and files
// in"). Pure; HMAC-SHA1 from OpenSSL. Shared by the worker (signing its
// PUT) and the mock's OSS stand-in (verifying it).
//
//   Authorization = "OSS " + AccessKeyId + ":" + Signature
//   Signature = base64(HMAC-SHA1(AccessKeySecret,
//                 VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//                 CanonicalizedOSSHeaders CanonicalizedResource))
//
// CanonicalizedOSSHeaders: every x-oss-* header (the STS x-oss-security-token
// included), names lower-cased, sorted, "name:value\n" each, values trimmed.
// CanonicalizedResource: "/bucket/object" (no sub-resources here).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qp::media {

struct OssSignInput {
  std::string_view verb;  // "PUT"
  std::string_view content_md5;
  std::string_view content_type;
  std::string_view date;  // RFC 1123, GMT
  // Headers in any case and order; only x-oss-* ones are signed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view resource;  // "/bucket/object"
};

// The string that is signed (for tests and diagnostics).
std::string oss_string_to_sign(const OssSignInput& in);
// base64(HMAC-SHA1(secret, oss_string_to_sign(in))).
std::string oss_signature(std::string_view secret, const OssSignInput& in);
// "OSS <id>:<signature>".
std::string oss_authorization(std::string_view access_key_id, std::string_view secret,
                              const OssSignInput& in);
// An HTTP date (RFC 1123, GMT) for the Date header: "Sun, 06 Dec 2026 20:00:00 GMT".
std::string http_date(int64_t unix_s);

}  // namespace qp::media
