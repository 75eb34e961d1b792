#include "common/media/oss_signature.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/media/media.h"
#include "common/strings.h"

namespace qp::media {

std::string oss_string_to_sign(const OssSignInput& in) {
  std::vector<std::pair<std::string, std::string>> oss;
  for (const auto& [name, value] : in.headers) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.rfind("x-oss-", 0) != 0) continue;
    oss.emplace_back(std::move(lower), std::string(strings::trim_blanks(value)));
  }
  std::sort(oss.begin(), oss.end());
  std::string s;
  s.append(in.verb).push_back('\n');
  s.append(in.content_md5).push_back('\n');
  s.append(in.content_type).push_back('\n');
  s.append(in.date).push_back('\n');
  for (const auto& [name, value] : oss) {
    s.append(name).push_back(':');
    s.append(value).push_back('\n');
  }
  s.append(in.resource);
  return s;
}

std::string oss_signature(std::string_view secret, const OssSignInput& in) {
  std::string data = oss_string_to_sign(in);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(md), n));
}

std::string oss_authorization(std::string_view access_key_id, std::string_view secret,
                              const OssSignInput& in) {
  std::string out = "OSS ";
  out.append(access_key_id).push_back(':');
  out.append(oss_signature(secret, in));
  return out;
}

std::string http_date(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  struct tm tm {};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
           kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace qp::media
