// The requests of the upload flow (docs/upstream.md, "Images and files in"),
// pure so every field is unit-tested:
//  1. POST /api/v1/files/getstsToken {filename, filesize, filetype} → STS
//     credentials and the object's path and URL, flat or wrapped in
//     {success, data};
//  2. PUT the bytes to Alibaba OSS at https://{bucket}.{endpoint}/{file_path}
//     (endpoint: the answer's `endpoint`, else "{region}.aliyuncs.com"; or
//     the upstream.oss_endpoint override), signed with OSS's V1 header
//     signature (common/media/oss_signature.h) including
//     x-oss-security-token;
//  3. the answer's file_url goes into the chat message (qwen_requests.h).
// The STS answer holds secrets (the key secret and the token): never log it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::worker {

struct StsGrant {
  std::string access_key_id;
  std::string access_key_secret;  // secret
  std::string security_token;     // secret
  std::string file_url;           // what the chat message references
  std::string file_path;          // the object key
  std::string file_id;
  std::string bucket;
  std::string region;    // e.g. "oss-accelerate"
  std::string endpoint;  // e.g. "oss-accelerate.aliyuncs.com" (wrapped form); may be empty
};

// `filetype` of the STS request: the MIME class ("image", "video", "audio",
// "document" for application/*, else "file").
std::string_view sts_filetype(std::string_view mime);
std::string sts_body(std::string_view filename, uint64_t filesize, std::string_view filetype);
// Flat {access_key_id, …} or {success:true, data:{…}}. An error envelope or
// a missing field is kUpstream (the message names the field, never a value).
Result<StsGrant> parse_sts(std::string_view body);

// The PUT request for `grant`: URL and headers (Content-Type, Date,
// x-oss-security-token, Authorization). `oss_endpoint` "scheme://host[:port]"
// replaces the host when set. `date` is an HTTP date (media::http_date()).
struct OssPut {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; holds secrets
};
OssPut oss_put(const StsGrant& grant, std::string_view oss_endpoint, std::string_view content_type,
               std::string_view date);

}  // namespace qp::worker
