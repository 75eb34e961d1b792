#include "worker/record_redact.h"

#include <algorithm>
#include <array>

#include "common/json/writer.h"
#include "common/jwt.h"
#include "common/strings.h"

namespace qp::worker::record {

using strings::ascii_lower;
using strings::iequals;
using strings::trim_blanks;
namespace {

bool in_list(std::string_view name, std::initializer_list<std::string_view> list) {
  for (auto n : list) {
    if (iequals(name, n)) return true;
  }
  return false;
}

// Lower case, '-' as '_'.
std::string normal_key(std::string_view k) {
  std::string out(k);
  for (char& c : out) c = c == '-' ? '_' : ascii_lower(c);
  return out;
}

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Length of a JWT-shaped token at s[i] ("eyJ…" "." seg "." seg), or 0.
size_t jwt_length(std::string_view s, size_t i) {
  if (s.compare(i, 3, "eyJ") != 0) return 0;
  size_t j = i;
  for (int seg = 0; seg < 3; ++seg) {
    size_t start = j;
    while (j < s.size() && is_b64url(s[j])) ++j;
    if (seg < 2 && (j - start < 4 || j >= s.size() || s[j] != '.')) return 0;
    if (seg < 2) ++j;
  }
  return j - i;
}

bool is_param_end(char c) {
  return c == '&' || c == '#' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\r' ||
         c == '\n' || c == '<' || c == '>' || c == '\\' || c == ';' || c == ',' || c == ')';
}

// Replaces the values of signed-URL parameters ("?name=value" / "&name=value").
std::string redact_params(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    out.push_back(c);
    ++i;
    if (c != '?' && c != '&') continue;
    size_t eq = i;
    while (eq < s.size() && s[eq] != '=' && !is_param_end(s[eq]) && s[eq] != '?') ++eq;
    if (eq >= s.size() || s[eq] != '=') continue;
    std::string_view name = s.substr(i, eq - i);
    if (!is_signed_url_param(name)) continue;
    size_t end = eq + 1;
    while (end < s.size() && !is_param_end(s[end])) ++end;
    out.append(name).push_back('=');
    out.append(kRedacted);
    i = end;
  }
  return out;
}

void replace_all(std::string* s, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  size_t pos = 0;
  while ((pos = s->find(what, pos)) != std::string::npos) {
    s->replace(pos, what.size(), with);
    pos += with.size();
  }
}

}  // namespace

bool keep_request_header(std::string_view name) {
  return in_list(name, {"accept", "content-type", "source", "version", "x-accel-buffering"});
}

bool keep_response_header(std::string_view name) {
  return in_list(name, {"content-type", "content-encoding", "cache-control", "retry-after",
                        "x-accel-buffering"});
}

bool is_secret_key(std::string_view name, bool string_value) {
  std::string k = normal_key(name);
  static constexpr std::array<std::string_view, 22> kExact = {
      "email",     "e_mail",   "phone",     "phone_number",  "mobile",      "user_id",
      "userid",    "uid",      "aui",       "user",          "username",    "user_name",
      "owner",     "owner_id", "file_path", "access_key_id", "accesskeyid", "authorization",
      "x5secdata", "password", "passwd",    "set_cookie"};
  for (auto e : kExact) {
    if (k == e) return true;
  }
  if (!string_value) return false;
  for (std::string_view part : {"token", "secret", "password", "cookie", "signature", "jwt"}) {
    if (k.find(part) != std::string::npos) return true;
  }
  return false;
}

bool is_signed_url_param(std::string_view name) {
  std::string k(name);
  for (char& c : k) c = ascii_lower(c);
  if (k.starts_with("x-oss-") || k.starts_with("x-amz-")) return true;
  return in_list(k, {"signature", "ossaccesskeyid", "security-token", "security_token", "x5secdata",
                     "token", "access_token", "auth_key", "sign", "expires_token"});
}

void Redactor::add_secret(std::string_view secret) {
  secret = trim_blanks(secret);
  if (secret.size() < kMinSecretBytes) return;
  for (const auto& s : secrets_) {
    if (s.raw == secret) return;
  }
  Secret s{std::string(secret), {}};
  json::append_escaped(&s.escaped, secret);
  secrets_.push_back(std::move(s));
  // Longest first: a secret containing another is replaced whole.
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const Secret& a, const Secret& b) { return a.raw.size() > b.raw.size(); });
}

void Redactor::add_account(const AccountConfig& a) {
  std::vector<std::string_view> jwts;
  if (!a.token.empty()) jwts.push_back(a.token);
  // Every cookie's value (the whole string too, should it be echoed).
  add_secret(a.cookies);
  std::string_view rest = a.cookies;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = trim_blanks(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = trim_blanks(part.substr(eq + 1));
    add_secret(value);
    if (iequals(trim_blanks(part.substr(0, eq)), "token")) jwts.push_back(value);
  }
  for (const std::string* s :
       {&a.token, &a.bx_umidtoken, &a.bx_ua, &a.bx_v, &a.email, &a.password, &a.proxy}) {
    add_secret(*s);
  }
  // The user id inside each JWT (its `id` claim, also the `aui` cookie).
  for (std::string_view t : jwts) {
    size_t d1 = t.find('.');
    size_t d2 = d1 == std::string_view::npos ? d1 : t.find('.', d1 + 1);
    if (d2 == std::string_view::npos) continue;
    std::string payload;
    if (!jwt::base64url_decode(t.substr(d1 + 1, d2 - d1 - 1), &payload)) continue;
    simdjson::dom::element doc;
    if (parser_.parse(payload).get(doc) != simdjson::SUCCESS || !doc.is_object()) continue;
    for (auto field : doc.get_object()) {
      std::string_view v;
      if (field.value.get_string().get(v) == simdjson::SUCCESS) add_secret(v);
    }
  }
}

std::string Redactor::text(std::string_view s) const {
  std::string params = redact_params(s);
  std::string out;
  out.reserve(params.size());
  for (size_t i = 0; i < params.size();) {
    if (params[i] == 'e') {
      if (size_t n = jwt_length(params, i); n > 0) {
        out.append(kRedacted);
        i += n;
        continue;
      }
    }
    out.push_back(params[i]);
    ++i;
  }
  scrub(&out);
  return out;
}

void Redactor::scrub(std::string* line) const {
  for (const auto& s : secrets_) {
    replace_all(line, s.raw, kRedacted);
    if (s.escaped != s.raw) replace_all(line, s.escaped, kRedacted);
  }
}

void Redactor::append_body(std::string_view body, std::string* out) {
  if (!append_json(body, out)) json::append_quoted(out, text(body));
}

bool Redactor::append_json(std::string_view json, std::string* out) {
  std::string_view t = trim_blanks(json);
  if (t.empty() || (t.front() != '{' && t.front() != '[')) return false;
  simdjson::dom::element doc;  // the parser copies `t` into its padded buffer
  if (parser_.parse(t.data(), t.size()).get(doc) != simdjson::SUCCESS) return false;
  append_element(doc, out);
  return true;
}

void Redactor::append_element(simdjson::dom::element e, std::string* out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      for (auto field : e.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        json::append_quoted(out, text(field.key));
        out->push_back(':');
        bool is_string = field.value.type() == element_type::STRING;
        bool is_null = field.value.type() == element_type::NULL_VALUE;
        if (!is_null && is_secret_key(field.key, is_string)) {
          json::append_quoted(out, kRedacted);
        } else {
          append_element(field.value, out);
        }
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      for (auto v : e.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        append_element(v, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) s = {};
      json::append_quoted(out, text(s));
      return;
    }
    default:
      out->append(simdjson::minify(e));
      return;
  }
}

}  // namespace qp::worker::record
