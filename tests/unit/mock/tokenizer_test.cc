#include "tools/mock-qwen/tokenizer.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using qp::mock::count_tokens;
using qp::mock::tokenize_to_strings;
using qp::mock::utf8_prefix;
using V = std::vector<std::string>;

namespace {
std::string join(const V& v) {
  std::string s;
  for (const auto& t : v) s += t;
  return s;
}
}  // namespace

TEST_CASE("tokenizer splits like the captured stream", "[tokenizer]") {
  // The first tokens of captures/completion-stream.sse.
  CHECK(tokenize_to_strings("Greetings, Cosmic Traveler! \xF0\x9F\x8C\x8C\n\nYou") ==
        V{"Greetings", ",", " Cosmic", " Traveler", "!", " \xF0\x9F\x8C\x8C\n\n", "You"});
  CHECK(tokenize_to_strings("perspective.\n\n---\n\n###") ==
        V{"perspective", ".\n\n", "---\n\n", "###"});
  CHECK(tokenize_to_strings("You said: hello") == V{"You", " said", ":", " hello"});
  CHECK(tokenize_to_strings("**Law** is") == V{"**", "Law", "**", " is"});
}

TEST_CASE("tokenizer edge cases", "[tokenizer]") {
  CHECK(tokenize_to_strings("").empty());
  CHECK(tokenize_to_strings("\n\nHi") == V{"\n\n", "Hi"});
  CHECK(tokenize_to_strings("a  ") == V{"a", "  "});
  CHECK(tokenize_to_strings("   ") == V{"   "});
  CHECK(tokenize_to_strings("a\r\nb") == V{"a\r\n", "b"});
  CHECK(tokenize_to_strings("x<tool_call>{\"a\":1}") ==
        V{"x", "<", "tool_call", ">", "{", "\"", "a", "\"", ":", "1", "}"});
}

TEST_CASE("tokens always concatenate back to the input", "[tokenizer]") {
  const std::string inputs[] = {
      "plain words here",
      "  leading and trailing  ",
      "mixed\tTabs\tand\nnew\nlines\n",
      "unicode: \xE2\x80\x99ve \xE2\x80\x9Claw\xE2\x80\x9D \xE4\xBD\xA0\xE5\xA5\xBD",
      std::string("nul\0byte", 8),
      "!!!???...,,,",
      "\x80\xFF invalid utf8 bytes",
  };
  for (const auto& in : inputs) {
    V toks = tokenize_to_strings(in);
    CHECK(join(toks) == in);
    for (const auto& t : toks) CHECK_FALSE(t.empty());
    CHECK(count_tokens(in) == toks.size());
  }
}

TEST_CASE("tokens never split a UTF-8 character", "[tokenizer]") {
  std::string s = "\xE4\xBD\xA0\xE5\xA5\xBD, \xF0\x9F\x8C\x8C!";
  for (const auto& t : tokenize_to_strings(s)) {
    auto first = static_cast<unsigned char>(t[0]);
    CHECK((first & 0xC0) != 0x80);  // never starts with a continuation byte
  }
}

TEST_CASE("utf8_prefix cuts at character boundaries", "[tokenizer]") {
  std::string s = "ab\xE4\xBD\xA0";  // "ab你"
  CHECK(utf8_prefix(s, 10) == s);
  CHECK(utf8_prefix(s, 5) == s);
  CHECK(utf8_prefix(s, 4) == "ab");
  CHECK(utf8_prefix(s, 3) == "ab");
  CHECK(utf8_prefix(s, 2) == "ab");
  CHECK(utf8_prefix(s, 0).empty());
}
