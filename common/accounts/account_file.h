// The account file: one TOML file per Qwen account (docs/configuration.md,
// "Account files"). Pure parsing and rendering, no I/O.
//
//   token = "eyJ…"            # the session JWT (else the `token` cookie in `cookies`)
//   cookies = "a=1; b=2"      # the browser's Cookie header for chat.qwen.ai
//   bx_umidtoken = "…"        # optional bx-* headers
//   bx_ua = "…"
//   bx_v = "2.5.31"
//   user_agent = "Mozilla/5.0 …"
//   email = "…"               # optional: sign in again before the token expires
//   password = "…"
//   proxy = "socks5h://127.0.0.1:1080"   # optional outbound proxy for this account
//   capacity = 4
//
// Errors name the file (`origin`) and the key, never a value.
#pragma once

#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"

namespace qp::accounts {

// Keys an account file may contain (anything else is an error, to catch typos).
inline constexpr std::string_view kAccountFileKeys[] = {
    "token", "cookies",  "bx_umidtoken", "bx_ua",      "bx_v",
    "email", "password", "proxy",        "user_agent", "capacity"};

// Parses `text` and overlays every key it sets onto `*account` (fields it does
// not set keep their values, so an [[accounts]] entry can supply defaults).
// Does not validate the credentials themselves: see credentials.h.
Status apply_account_toml(std::string_view text, const std::string& origin, AccountConfig* account);

// Renders the credential fields of `account` as an account file. `comment`
// (may be several lines, no secrets) becomes '#' lines at the top. Empty
// fields are left out, except that email, password and proxy appear as
// commented-out examples so an operator sees they exist.
std::string render_account_toml(const AccountConfig& account, std::string_view comment);

// `s` as a TOML basic string, quotes included (escapes ", \ and control characters).
std::string toml_quote(std::string_view s);

}  // namespace qp::accounts
