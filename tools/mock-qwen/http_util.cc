#include "tools/mock-qwen/http_util.h"

#include <cstdlib>

#include "common/json/writer.h"

namespace qp::mock {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool starts_with_ci(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

bool is_json_request(const http::Request& req) {
  const std::string* ct = req.header("content-type");
  return ct != nullptr && starts_with_ci(*ct, "application/json");
}

std::string header_value(const http::Request& req, std::string_view name) {
  const std::string* v = req.header(name);
  return v == nullptr ? std::string() : *v;
}

std::string admin_error(std::string_view message) {
  std::string out;
  json::Writer(&out).begin_object().field("error", message).end_object();
  return out;
}

uint64_t parse_u64(const std::string& s, uint64_t fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  return (end != nullptr && *end == '\0') ? static_cast<uint64_t>(v) : fallback;
}

}  // namespace qp::mock
