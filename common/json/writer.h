// A minimal streaming JSON writer that appends to a caller-owned std::string,
// so hot paths can reuse one buffer. simdjson only parses; this is the
// serialising half. It does no validation of structure beyond inserting
// commas: callers write well-formed sequences.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::json {

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 bytes are
// replaced with U+FFFD so output is always valid JSON.
void append_quoted(std::string* out, std::string_view s);
// Appends the escaped body of a JSON string (no quotes).
void append_escaped(std::string* out, std::string_view s);

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  Writer& begin_object() {
    sep();
    out_->push_back('{');
    first_ = true;
    return *this;
  }
  Writer& end_object() {
    out_->push_back('}');
    first_ = false;
    return *this;
  }
  Writer& begin_array() {
    sep();
    out_->push_back('[');
    first_ = true;
    return *this;
  }
  Writer& end_array() {
    out_->push_back(']');
    first_ = false;
    return *this;
  }
  // Object key; the next value call writes its value.
  Writer& key(std::string_view k) {
    sep();
    append_quoted(out_, k);
    out_->push_back(':');
    first_ = true;  // the value that follows needs no comma
    return *this;
  }
  Writer& value(std::string_view s) {
    sep();
    append_quoted(out_, s);
    return *this;
  }
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(int64_t v);
  Writer& value(uint64_t v);
  Writer& value(int v) { return value(static_cast<int64_t>(v)); }
  Writer& value(unsigned v) { return value(static_cast<uint64_t>(v)); }
  Writer& value(long long v) { return value(static_cast<int64_t>(v)); }
  Writer& value(unsigned long long v) { return value(static_cast<uint64_t>(v)); }
  Writer& value(double v);
  Writer& value(bool b) {
    sep();
    out_->append(b ? "true" : "false");
    return *this;
  }
  Writer& null() {
    sep();
    out_->append("null");
    return *this;
  }
  // Inserts already-serialised JSON verbatim.
  Writer& raw(std::string_view json) {
    sep();
    out_->append(json);
    return *this;
  }

  template <typename V>
  Writer& field(std::string_view k, V&& v) {
    key(k);
    return value(std::forward<V>(v));
  }
  Writer& field_null(std::string_view k) {
    key(k);
    return null();
  }
  Writer& field_raw(std::string_view k, std::string_view json) {
    key(k);
    return raw(json);
  }

 private:
  void sep() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  std::string* out_;
  bool first_ = true;
};

}  // namespace qp::json
