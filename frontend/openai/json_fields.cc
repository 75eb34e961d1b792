#include "frontend/openai/json_fields.h"

#include <cmath>
#include <cstdio>

#include "frontend/openai/json_problem.h"

namespace qp::frontend::fields {

bool Ctx::bad_value(const std::string& param, const char* want, value v, simdjson::error_code e) {
  std::string_view raw = v.raw_json_token();
  std::string why = json_problem(e, param, raw);
  if (!why.empty()) return fail(param, std::move(why));
  return wrong_type(param, want, v);
}

bool Ctx::bad_json(const std::string& param, simdjson::error_code e, std::string fallback) {
  std::string why = json_problem(e, param, {});
  return fail(param, why.empty() ? std::move(fallback) : std::move(why));
}

bool Ctx::wrong_type(const std::string& param, const char* want, value v) {
  json_type t;
  std::string got = v.type().get(t) ? std::string("invalid JSON") : json_type_name(t);
  return fail(param,
              "Invalid type for '" + param + "': expected " + want + ", but got " + got + ".");
}

bool is_null(value v) {
  bool n = false;
  return !v.is_null().get(n) && n;
}

bool get_string(Ctx& c, value v, const std::string& param, std::string* out) {
  std::string_view s;
  if (auto e = v.get_string().get(s)) return c.bad_value(param, "a string", v, e);
  out->assign(s);
  return true;
}

bool get_bool(Ctx& c, value v, const std::string& param, bool* out) {
  if (v.get_bool().get(*out)) return c.wrong_type(param, "a boolean", v);
  return true;
}

bool get_number(Ctx& c, value v, const std::string& param, double* out) {
  if (auto e = v.get_double().get(*out)) return c.bad_value(param, "a number", v, e);
  if (!std::isfinite(*out)) return c.bad_value(param, "a number", v, simdjson::NUMBER_OUT_OF_RANGE);
  return true;
}

bool get_int(Ctx& c, value v, const std::string& param, int64_t* out) {
  double d;
  if (auto e = v.get_double().get(d)) return c.bad_value(param, "an integer", v, e);
  if (!std::isfinite(d) || std::fabs(d) > 9e15) {
    return c.fail(param, "Invalid value for '" + param + "': integer out of range.");
  }
  if (d != std::floor(d)) return c.wrong_type(param, "an integer", v);
  *out = static_cast<int64_t>(d);
  return true;
}

bool range(Ctx& c, const std::string& param, double x, double lo, double hi) {
  if (x < lo || x > hi) {
    char b[128];
    std::snprintf(b, sizeof b, "must be between %g and %g", lo, hi);
    return c.fail(param, "Invalid value for '" + param + "': " + b + ".");
  }
  return true;
}

bool raw_json(Ctx& c, value v, const std::string& param, std::string_view* out) {
  if (simdjson::to_json_string(v).get(*out))
    return c.fail(param, "Invalid JSON in '" + param + "'.");
  return true;
}

namespace {

bool view_string(Ctx& c, value v, const std::string& param, std::string_view* out) {
  if (is_null(v)) return true;
  if (auto e = v.get_string().get(*out)) return c.bad_value(param, "a string", v, e);
  return true;
}

}  // namespace

bool read_part_media(Ctx& c, std::string_view key, value v, const std::string& param,
                     PartMedia* m) {
  if (key == "file_data") return view_string(c, v, param, &m->data);
  if (key == "filename") return view_string(c, v, param, &m->filename);
  if (key == "file_url") return view_string(c, v, param, &m->url);
  if (key == "file_id") return view_string(c, v, param, &m->file_id);
  json_type t;
  if (v.type().get(t)) return c.fail(param, "Invalid JSON in '" + param + "'.");
  if (t == json_type::null) return true;
  if (key == "image_url" && t == json_type::string) return view_string(c, v, param, &m->url);
  simdjson::ondemand::object obj;
  if (t != json_type::object || v.get_object().get(obj))
    return c.wrong_type(param, key == "image_url" ? "an object or a string" : "an object", v);
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail(param, "Invalid JSON in '" + param + "'.");
    std::string p = param + "." + std::string(k);
    if (key == "image_url" && k == "url") {
      if (!view_string(c, f.value(), p, &m->url)) return false;
    } else if (key == "file" && (k == "file_data" || k == "filename" || k == "file_id")) {
      if (!read_part_media(c, k, f.value(), p, m)) return false;
    }
    // image_url.detail and others: accepted and ignored.
  }
  return true;
}

bool text_content(Ctx& c, value v, const std::string& param, std::string* out,
                  const PartFn& classify) {
  json_type t;
  if (v.type().get(t)) return c.fail(param, "Invalid JSON in '" + param + "'.");
  if (t == json_type::null) return true;
  if (t == json_type::string) return get_string(c, v, param, out);
  simdjson::ondemand::array arr;
  if (t != json_type::array || v.get_array().get(arr))
    return c.wrong_type(param, "a string or an array of content parts", v);
  size_t j = 0;
  for (auto part_r : arr) {
    std::string pp = param + "[" + std::to_string(j++) + "]";
    simdjson::ondemand::object part;
    if (part_r.get_object().get(part))
      return c.fail(pp, "Invalid content part: expected an object.");
    std::string type, text;
    bool has_text = false;
    PartMedia media;
    for (auto f : part) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return c.fail(pp, "Invalid JSON in content part.");
      if (k == "type") {
        if (!get_string(c, f.value(), pp + ".type", &type)) return false;
      } else if (k == "text") {
        if (!get_string(c, f.value(), pp + ".text", &text)) return false;
        has_text = true;
      } else if (k == "image_url" || k == "file" || k == "file_data" || k == "filename" ||
                 k == "file_url" || k == "file_id") {
        if (!read_part_media(c, k, f.value(), pp + "." + std::string(k), &media)) return false;
      }
    }
    PartUse use = classify(type, has_text, pp, media);
    if (use == PartUse::kFailed) return false;
    if (use == PartUse::kSkip) continue;
    if (!has_text) return c.missing(pp + ".text");
    if (!out->empty()) out->push_back('\n');
    out->append(text);
  }
  return true;
}

}  // namespace qp::frontend::fields
