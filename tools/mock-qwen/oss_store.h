// The mock's stand-in for Alibaba OSS (docs/mock-qwen.md, "Upstream API"):
// issues STS credentials for one object each, verifies the V1 signature of the
// PUT that stores it (common/media/oss_signature.h, with x-oss-security-token),
// keeps the bytes (bounded) and describes what it holds for the model's answer
// ("image/png 37x23"). Pure: no HTTP; owned by the mock's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qp::mock {

inline constexpr std::string_view kOssBucket = "qwen-webui-prod";
inline constexpr std::string_view kOssRegion = "oss-accelerate";

struct StsIssue {
  std::string access_key_id;
  std::string access_key_secret;
  std::string security_token;
  std::string file_path;  // the object key
  std::string file_id;
};

class OssStore {
 public:
  OssStore() = default;

  // Credentials for one object at `file_path`. The oldest grants are
  // forgotten past a bound.
  void remember(StsIssue issue);

  // Verifies a PUT of `key` (the path without its leading '/') and stores
  // the body. Header names are lower-case. Returns "" on success, else the
  // OSS error code (AccessDenied, SignatureDoesNotMatch,
  // InvalidAccessKeyId, EntityTooLarge).
  std::string put(std::string_view key,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  std::string_view content_md5, std::string_view content_type,
                  std::string_view date, std::string_view authorization, std::string body);

  // True once the object of grant `file_id` was stored.
  bool has_file_id(std::string_view file_id) const;
  // The parse step: begin_parse() starts (or restarts) it for a stored
  // object (false if none); each parse_poll() answers "parsing" for the
  // first `parsing_polls` polls since (all of them when < 0), then
  // "success" and the object counts as parsed; "" for a file_id whose parse
  // never began.
  bool begin_parse(std::string_view file_id);
  std::string_view parse_poll(std::string_view file_id, int64_t parsing_polls);
  // True if `url` names an object stored here (its path, query ignored);
  // *parsed tells whether its parse step finished.
  bool stored_url(std::string_view url, bool* parsed) const;
  // The bytes stored at `key`, or null.
  const std::string* find(std::string_view key) const;
  // The bytes of the object that `url` names (its path, query ignored), or
  // null.
  const std::string* find_url(std::string_view url) const;
  // "image/png 37x23", "application/pdf 1234 bytes", … for the object that
  // `url` names (its path, query ignored); empty if none is stored there.
  std::string describe(std::string_view url) const;
  void clear();
  size_t objects() const { return objects_.size(); }

 private:
  // The object key of a URL on this server ("" if it has no path).
  static std::string_view key_of_url(std::string_view url);
  static constexpr size_t kMaxGrants = 10'000;
  static constexpr size_t kMaxBytes = 64 * 1024 * 1024;  // all objects together
  std::unordered_map<std::string, StsIssue> grants_;     // by access_key_id
  std::deque<std::string> grant_order_;
  std::unordered_map<std::string, std::string> objects_;     // key -> bytes
  std::unordered_map<std::string, std::string> stored_ids_;  // file_id -> key
  std::unordered_map<std::string, int64_t> parse_polls_;     // file_id -> polls so far
  std::unordered_map<std::string, bool> parsed_keys_;        // key -> parse finished
  size_t bytes_ = 0;
};

// The prompt the model answers: `content`, then one line per media item of
// the message, "[image: image/png 37x23]" for an object stored here, else
// "[image: <url>]" (a URL passed through, which the mock cannot fetch).
std::string prompt_with_media(std::string_view content,
                              const std::vector<std::pair<std::string, std::string>>& media,
                              const OssStore& store);

// A human description of bytes: "<mime> <w>x<h>" for images, else
// "<mime> <n> bytes".
std::string describe_bytes(std::string_view bytes);

}  // namespace qp::mock
