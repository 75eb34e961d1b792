#include "common/accounts/account_file.h"

#include <cstdio>

#include <toml++/toml.h>

#include "common/strings.h"

namespace qp::accounts {
namespace {

Status bad(const std::string& origin, const std::string& what) {
  return error(Code::kInvalidArgument, origin + ": " + what);
}

bool known_key(std::string_view key) {
  for (auto k : kAccountFileKeys) {
    if (k == key) return true;
  }
  return false;
}

std::string known_keys_list() {
  std::string out;
  for (auto k : kAccountFileKeys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

}  // namespace

Status apply_account_toml(std::string_view text, const std::string& origin,
                          AccountConfig* account) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    // The description names what the parser expected, not the file's text.
    return bad(origin, "not valid TOML: " + std::string(e.description()) + " at line " +
                           std::to_string(e.source().begin.line));
  } catch (const std::exception& e) {
    return bad(origin, std::string("not valid TOML: ") + e.what());
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (!known_key(k)) {
      return bad(origin,
                 "unknown key '" + std::string(k) + "' (known keys: " + known_keys_list() + ")");
    }
    if (k == "capacity") {
      // as_integer(), not value<int64_t>(): toml++ converts a float there, and
      // one outside int64's range (1e30) is undefined behaviour.
      const toml::value<int64_t>* v = node.as_integer();
      if (v == nullptr || v->get() < 1 || v->get() > 100000)
        return bad(origin, "capacity must be an integer from 1 to 100000");
      account->capacity = static_cast<uint32_t>(v->get());
      continue;
    }
    if (!node.is_string()) return bad(origin, std::string(k) + " must be a string");
    std::string v = *node.value<std::string>();
    if (k == "token")
      account->token = std::move(v);
    else if (k == "cookies")
      account->cookies = std::move(v);
    else if (k == "bx_umidtoken")
      account->bx_umidtoken = std::move(v);
    else if (k == "bx_ua")
      account->bx_ua = std::move(v);
    else if (k == "bx_v")
      account->bx_v = std::move(v);
    else if (k == "email")
      account->email = std::move(v);
    else if (k == "password")
      account->password = std::move(v);
    else if (k == "proxy")
      account->proxy = std::move(v);
    else if (k == "user_agent")
      account->user_agent = std::move(v);
  }
  return Status();
}

std::string toml_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string render_account_toml(const AccountConfig& a, std::string_view comment) {
  std::string out;
  strings::append_comment_lines(&out, comment);
  if (!comment.empty()) out += "\n";
  auto field = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    out.append(key);
    out += " = ";
    out += toml_quote(value);
    out += "\n";
  };
  field("token", a.token);
  field("cookies", a.cookies);
  field("bx_umidtoken", a.bx_umidtoken);
  field("bx_ua", a.bx_ua);
  field("bx_v", a.bx_v);
  field("user_agent", a.user_agent);
  out += "\n";
  if (a.email.empty()) {
    out += "# Optional: sign in again through /api/v1/auths/signin before the token expires.\n";
    out += "# email = \"you@example.com\"\n# password = \"...\"\n";
  } else {
    field("email", a.email);
    field("password", a.password);
  }
  if (a.proxy.empty()) {
    out += "# Optional: outbound proxy for this account (http, https, socks4, socks5, socks5h).\n";
    out += "# proxy = \"socks5h://127.0.0.1:1080\"\n";
  } else {
    field("proxy", a.proxy);
  }
  out += "capacity = " + std::to_string(a.capacity) + "\n";
  return out;
}

}  // namespace qp::accounts
