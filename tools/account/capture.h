// What an import found in a request copied from the browser: the parts of a
// chat.qwen.ai request that make up an account's credentials. Each input
// format (curl_import.h, header_import.h, har_import.h) fills one. Pure.
#pragma once

#include <string>
#include <string_view>

namespace qp::account_tool {

struct Capture {
  std::string format;   // e.g. "cURL command (bash)", "Cookie header", "HAR entry 3 of 41"
  std::string method;   // "POST", when known
  std::string url;      // request URL, when known
  std::string cookies;  // the Cookie header (several are joined with "; ")
  std::string bearer;   // the Authorization: Bearer token
  std::string bx_umidtoken;
  std::string bx_ua;
  std::string bx_v;
  std::string user_agent;
};

// Records header `name: value` if it is one we keep (case-insensitive name):
// cookie, authorization (Bearer), bx-umidtoken, bx-ua, bx-v, user-agent.
void add_header(Capture* capture, std::string_view name, std::string_view value);

// Splits "Name: value" (the first colon; spaces around the value trimmed) and
// calls add_header. Returns false if there is no colon or no name.
bool add_header_line(Capture* capture, std::string_view line);

// Lower-case ASCII copy.
std::string ascii_lower(std::string_view s);

// The host of an http(s) URL ("" if it is not one), lower-cased, without port.
std::string url_host(std::string_view url);
// The path of an http(s) URL without query or fragment ("/" if none).
std::string url_path(std::string_view url);

}  // namespace qp::account_tool
