#include "tools/mock-qwen/oss_store.h"

#include "common/media/media.h"
#include "common/media/oss_signature.h"

namespace qp::mock {

void OssStore::remember(StsIssue issue) {
  if (grants_.size() >= kMaxGrants && !grant_order_.empty()) {
    grants_.erase(grant_order_.front());
    grant_order_.pop_front();
  }
  grant_order_.push_back(issue.access_key_id);
  std::string id = issue.access_key_id;
  grants_[id] = std::move(issue);
}

std::string OssStore::put(std::string_view key,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view content_md5, std::string_view content_type,
                          std::string_view date, std::string_view authorization, std::string body) {
  // Authorization: "OSS <access key id>:<signature>"
  if (authorization.substr(0, 4) != "OSS ") return "AccessDenied";
  std::string_view cred = authorization.substr(4);
  size_t colon = cred.rfind(':');
  if (colon == std::string_view::npos) return "AccessDenied";
  auto it = grants_.find(std::string(cred.substr(0, colon)));
  if (it == grants_.end()) return "InvalidAccessKeyId";
  const StsIssue& g = it->second;
  std::string_view token;
  for (const auto& [name, value] : headers) {
    if (name == "x-oss-security-token") token = value;
  }
  if (token != g.security_token || key != g.file_path || date.empty()) return "AccessDenied";
  media::OssSignInput in;
  in.verb = "PUT";
  in.content_md5 = content_md5;
  in.content_type = content_type;
  in.date = date;
  in.headers = headers;
  std::string resource = "/" + std::string(kOssBucket) + "/" + std::string(key);
  in.resource = resource;
  if (media::oss_signature(g.access_key_secret, in) != cred.substr(colon + 1))
    return "SignatureDoesNotMatch";
  auto old = objects_.find(std::string(key));
  if (old != objects_.end()) {
    bytes_ -= old->second.size();
    objects_.erase(old);
  }
  if (bytes_ + body.size() > kMaxBytes) return "EntityTooLarge";
  bytes_ += body.size();
  objects_[std::string(key)] = std::move(body);
  parsed_keys_.erase(std::string(key));  // new bytes: not parsed yet
  if (stored_ids_.size() < kMaxGrants) stored_ids_[g.file_id] = std::string(key);
  return {};
}

bool OssStore::has_file_id(std::string_view file_id) const {
  auto it = stored_ids_.find(std::string(file_id));
  return it != stored_ids_.end() && objects_.count(it->second) > 0;
}

bool OssStore::begin_parse(std::string_view file_id) {
  if (!has_file_id(file_id)) return false;
  if (parse_polls_.size() >= kMaxGrants) parse_polls_.clear();
  if (parsed_keys_.size() >= kMaxGrants) parsed_keys_.clear();
  parse_polls_[std::string(file_id)] = 0;
  parsed_keys_[stored_ids_.at(std::string(file_id))] = false;
  return true;
}

std::string_view OssStore::parse_poll(std::string_view file_id, int64_t parsing_polls) {
  auto it = parse_polls_.find(std::string(file_id));
  if (it == parse_polls_.end() || !has_file_id(file_id)) return {};
  int64_t n = ++it->second;
  if (parsing_polls < 0 || n <= parsing_polls) return "parsing";
  parsed_keys_[stored_ids_.at(it->first)] = true;
  return "success";
}

bool OssStore::stored_url(std::string_view url, bool* parsed) const {
  std::string_view key = key_of_url(url);
  if (key.empty() || find(key) == nullptr) return false;
  auto it = parsed_keys_.find(std::string(key));
  *parsed = it != parsed_keys_.end() && it->second;
  return true;
}

const std::string* OssStore::find(std::string_view key) const {
  auto it = objects_.find(std::string(key));
  return it == objects_.end() ? nullptr : &it->second;
}

std::string_view OssStore::key_of_url(std::string_view url) {
  size_t q = url.find('?');
  if (q != std::string_view::npos) url = url.substr(0, q);
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return {};
  return url.substr(slash + 1);
}

const std::string* OssStore::find_url(std::string_view url) const {
  std::string_view key = key_of_url(url);
  return key.empty() ? nullptr : find(key);
}

std::string OssStore::describe(std::string_view url) const {
  const std::string* bytes = find_url(url);
  return bytes == nullptr ? std::string() : describe_bytes(*bytes);
}

void OssStore::clear() {
  grants_.clear();
  grant_order_.clear();
  objects_.clear();
  stored_ids_.clear();
  parse_polls_.clear();
  parsed_keys_.clear();
  bytes_ = 0;
}

std::string prompt_with_media(std::string_view content,
                              const std::vector<std::pair<std::string, std::string>>& media,
                              const OssStore& store) {
  std::string out(content);
  for (const auto& [type, url] : media) {
    std::string what = store.describe(url);
    if (!out.empty()) out.push_back('\n');
    out += "[" + type + ": " + (what.empty() ? url : what) + "]";
  }
  return out;
}

std::string describe_bytes(std::string_view bytes) {
  media::Type t = media::sniff(bytes);
  std::string out(media::mime_of(t));
  uint32_t w = 0, h = 0;
  if (media::is_image(t) && media::image_size(bytes, t, &w, &h)) {
    out += " " + std::to_string(w) + "x" + std::to_string(h);
  } else {
    out += " " + std::to_string(bytes.size()) + " bytes";
  }
  return out;
}

}  // namespace qp::mock
