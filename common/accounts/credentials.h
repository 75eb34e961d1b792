// Validates and normalises an account's credentials once they are loaded
// (from an account file, an [[accounts]] entry or the old .env variables).
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"

namespace qp::accounts {

struct CredentialFacts {
  int64_t token_expires_unix_s = 0;  // the JWT's `exp`; 0 when there is no token
  bool token_from_cookie = false;    // the JWT came from the `token` cookie
};

// Checks `*account` and normalises it so that consumers need one rule:
//  - account->token is the JWT: the `token` key if set, else the `token`
//    cookie; with neither, an email and password are required (the worker
//    signs in);
//  - account->cookies carries `token=<JWT>` (added, or replaced when it
//    differs from an explicit `token`), so the Cookie header is complete;
//  - the token is a JWT whose expiry can be read (an expired token is not an
//    error here: the caller decides, since a configured sign-in can renew it);
//  - no header value contains a control character (no header injection);
//  - proxy, if set, is an http/https/socks4/socks4a/socks5/socks5h URL;
//  - email and password come together; capacity is 1..1024.
// Errors start with `origin` and name the key, never a value.
Result<CredentialFacts> finalize_credentials(AccountConfig* account, const std::string& origin);

// Returns `cookies` without the cookie `name` (all occurrences), keeping the
// others in order, joined with "; ".
std::string remove_cookie(std::string_view cookies, std::string_view name);

// True for a proxy URL the worker can hand to libcurl.
bool valid_proxy_url(std::string_view url);

}  // namespace qp::accounts
