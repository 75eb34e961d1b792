#include <catch2/catch.hpp>

#include "common/json/writer.h"

using qp::json::Writer;

TEST_CASE("json writer builds nested values with commas", "[json]") {
  std::string s;
  Writer w(&s);
  w.begin_object()
      .field("a", 1)
      .field("b", "x")
      .key("c")
      .begin_array()
      .value(true)
      .null()
      .value(1.5)
      .end_array()
      .field_raw("d", "{\"k\":2}")
      .end_object();
  CHECK(s == R"({"a":1,"b":"x","c":[true,null,1.5],"d":{"k":2}})");
}

TEST_CASE("json strings are escaped and always valid UTF-8", "[json]") {
  std::string s;
  qp::json::append_quoted(&s, std::string("q\"\\\n\t\x01 é 🌌", 14));
  CHECK(s == "\"q\\\"\\\\\\n\\t\\u0001 é 🌌\"");
  s.clear();
  qp::json::append_quoted(&s, std::string("a\xff"
                                          "b\xc3",
                                          4));  // invalid bytes
  CHECK(s ==
        "\"a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\"");
  s.clear();
  qp::json::append_quoted(&s, "\xed\xa0\x80");  // UTF-8 encoded surrogate: invalid
  CHECK(s == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("non-finite doubles become null", "[json]") {
  std::string s;
  Writer w(&s);
  w.begin_array().value(1.0 / 0.0).end_array();
  CHECK(s == "[null]");
}
