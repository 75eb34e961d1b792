#include "tools/account/http_get.h"

#include <memory>

#include <curl/curl.h>

namespace qp::account_tool {
namespace {

struct Sink {
  std::string* body;
  uint64_t max;
  bool overflow = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

}  // namespace

Result<HttpResponse> http_get(const std::string& url, uint64_t timeout_ms,
                              const std::string& bearer, uint64_t max_body_bytes) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
  if (!easy) return error(Code::kInternal, "curl_easy_init failed");
  HttpResponse r;
  Sink sink{&r.body, max_body_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  // A local status query must not go through the user's HTTP proxy.
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      &curl_slist_free_all);
  if (!bearer.empty()) {
    const std::string h = "Authorization: Bearer " + bearer;
    headers.reset(curl_slist_append(nullptr, h.c_str()));
    if (!headers) return error(Code::kInternal, "curl_slist_append failed");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  }
  CURLcode rc = curl_easy_perform(e);
  if (sink.overflow) return error(Code::kIo, url + ": the answer is larger than expected");
  if (rc != CURLE_OK) {
    return error(Code::kIo, url + ": " + (errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

}  // namespace qp::account_tool
