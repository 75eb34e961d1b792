#include "tools/account/shell_words.h"

#include <catch2/catch.hpp>

using namespace qp::account_tool;
using V = std::vector<std::string>;

namespace {
V words(std::string_view text, ShellDialect d) {
  auto r = split_words(text, d);
  REQUIRE(r.has_value());
  return r.value();
}
}  // namespace

TEST_CASE("POSIX quoting as bash reads it", "[accounts][shell]") {
  auto p = ShellDialect::kPosix;
  CHECK(words("curl 'a b' \"c d\" e\\ f", p) == V{"curl", "a b", "c d", "e f"});
  CHECK(words("a \\\n  b \\\r\n c", p) == V{"a", "b", "c"});
  CHECK(words("'it'\\''s'", p) == V{"it's"});
  CHECK(words("\"q\\\"x\\$y\\\\z\\n\"", p) == V{"q\"x$y\\z\\n"});
  CHECK(words("$'it\\'s\\n\\t\\x41\\101\\u00e9\\\\'", p) == V{"it's\n\tAA\xc3\xa9\\"});
  CHECK(words("'' \"\"", p) == V{"", ""});
  CHECK(words("a # comment\nb", p) == V{"a", "b"});
  CHECK(words("a#b", p) == V{"a#b"});
  CHECK_FALSE(split_words("curl 'abc", p).has_value());
  CHECK_FALSE(split_words("curl \"abc", p).has_value());
  CHECK_FALSE(split_words("curl $'abc", p).has_value());
}

TEST_CASE("cmd quoting: carets, then the C runtime's argv rules", "[accounts][shell]") {
  auto c = ShellDialect::kCmd;
  CHECK(words("curl ^\"https://x/^\" ^\n  -H ^\"a: b^\"", c) ==
        V{"curl", "https://x/", "-H", "a: b"});
  // Chrome: " is \^" and a newline in data is ^ + two newlines.
  CHECK(words("^\"^{^\\^\"k^\\^\":1^}^\"", c) == V{"{\"k\":1}"});
  CHECK(words("^\"50^%^25 a^\n\nb^\"", c) == V{"50%25 a\nb"});
  // Firefox: "" inside quotes, ^ continuations with CRLF.
  CHECK(words("curl.exe \"{\"\"t\"\":1}\" ^\r\n  -X POST", c) ==
        V{"curl.exe", "{\"t\":1}", "-X", "POST"});
  CHECK(words("\"a\\\\\\\"b\" c\\d", c) == V{"a\\\"b", "c\\d"});
  CHECK_FALSE(split_words("curl \"abc", c).has_value());
}

TEST_CASE("PowerShell quoting", "[accounts][shell]") {
  auto ps = ShellDialect::kPowerShell;
  CHECK(words("curl.exe 'it''s' `\n  \"a`\"b\" `\r\n c", ps) == V{"curl.exe", "it's", "a\"b", "c"});
  CHECK(words("\"x\"\"y\"", ps) == V{"x\"y"});
  CHECK_FALSE(split_words("'abc", ps).has_value());
}

TEST_CASE("the dialect is guessed from continuations and quotes", "[accounts][shell]") {
  CHECK(detect_dialect("curl 'x' \\\n -H 'a: b'") == ShellDialect::kPosix);
  CHECK(detect_dialect("curl ^\"x^\"") == ShellDialect::kCmd);
  CHECK(detect_dialect("curl.exe \"x\" ^\r\n  -H \"a\"") == ShellDialect::kCmd);
  CHECK(detect_dialect("curl.exe \"x\" -H \"a\"") == ShellDialect::kCmd);
  CHECK(detect_dialect("curl.exe 'x' -H 'a'") == ShellDialect::kPowerShell);
  CHECK(detect_dialect("curl.exe 'x' `\n -H 'a'") == ShellDialect::kPowerShell);
  CHECK(detect_dialect("Invoke-WebRequest -Uri \"x\"") == ShellDialect::kPowerShell);
}
