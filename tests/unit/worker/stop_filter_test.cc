// StopFilter: every split of every input gives the same text as cutting the
// whole answer at its first stop sequence, and nothing is held back longer
// than needed.
#include "worker/stop_filter.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using qp::worker::StopFilter;

namespace {

// The reference: the whole text read byte by byte; the first prefix that
// ends with a stop sequence is cut where that sequence (the longest one, on
// a tie) starts.
std::string expected_cut(const std::string& text, const std::vector<std::string>& stops,
                         bool* stopped) {
  size_t cut = std::string::npos;
  for (size_t end = 1; end <= text.size() && cut == std::string::npos; ++end) {
    for (const auto& s : stops) {
      if (s.empty() || s.size() > end) continue;
      if (text.compare(end - s.size(), s.size(), s) == 0) cut = std::min(cut, end - s.size());
    }
  }
  *stopped = cut != std::string::npos;
  return *stopped ? text.substr(0, cut) : text;
}

// Longest suffix of `seen` that is a proper prefix of a stop sequence.
size_t expected_held(const std::string& seen, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const auto& s : stops) {
    for (size_t len = 1; len < s.size() && len <= seen.size(); ++len) {
      if (seen.compare(seen.size() - len, len, s, 0, len) == 0) keep = std::max(keep, len);
    }
  }
  return keep;
}

// Feeds `pieces` and checks the invariants after every feed.
void check_pieces(const std::vector<std::string>& pieces, const std::vector<std::string>& stops) {
  std::string text;
  for (const auto& p : pieces) text += p;
  bool want_stopped = false;
  std::string want = expected_cut(text, stops, &want_stopped);

  StopFilter f(stops);
  std::string out, seen;
  bool stopped = false;
  for (const auto& p : pieces) {
    seen += p;
    bool now = f.feed(p, &out);
    INFO("text=" << text << " seen=" << seen << " out=" << out << " stops=" << [&] {
      std::string j;
      for (const auto& s : stops) j += "[" + s + "]";
      return j;
    }());
    REQUIRE(now == f.stopped());
    REQUIRE(want.compare(0, out.size(), out) == 0);  // never emits text past the cut
    if (stopped) REQUIRE(now);                       // stays stopped
    stopped = now;
    if (!stopped) {
      // Everything seen is either out or held back, and only what could
      // still start a stop sequence is held back.
      REQUIRE(out.size() + f.held() == seen.size());
      REQUIRE(f.held() == expected_held(seen, stops));
    }
  }
  f.finish(&out);
  INFO("text=" << text);
  REQUIRE(stopped == want_stopped);
  REQUIRE(out == want);
  REQUIRE(f.held() == 0);
}

void check_all_splits(const std::string& text, const std::vector<std::string>& stops) {
  check_pieces({text}, stops);
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  check_pieces(bytes, stops);
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      check_pieces({text.substr(0, i), text.substr(i, j - i), text.substr(j)}, stops);
    }
  }
}

}  // namespace

TEST_CASE("StopFilter without stop sequences passes text through") {
  StopFilter f(std::vector<std::string>{});
  CHECK_FALSE(f.active());
  std::string out;
  CHECK_FALSE(f.feed("abc", &out));
  CHECK_FALSE(f.feed("", &out));
  CHECK(out == "abc");
  StopFilter g({"", ""});  // empty sequences are ignored
  CHECK_FALSE(g.active());
}

TEST_CASE("StopFilter cuts at a stop sequence in one delta") {
  StopFilter f({"END"});
  std::string out;
  CHECK(f.matched().empty());
  CHECK(f.feed("hello END world", &out));
  CHECK(out == "hello ");
  CHECK(f.matched() == "END");
  CHECK(f.feed("more", &out));  // nothing after the stop
  f.finish(&out);
  CHECK(out == "hello ");
}

TEST_CASE("StopFilter finds a stop sequence split across deltas") {
  StopFilter f({"<|end|>"});
  std::string out;
  CHECK_FALSE(f.feed("Hello <|e", &out));
  CHECK(out == "Hello ");  // "<|e" held back
  CHECK(f.held() == 3);
  CHECK_FALSE(f.feed("n", &out));
  CHECK(f.feed("d|> tail", &out));
  CHECK(out == "Hello ");
  CHECK(f.matched() == "<|end|>");
}

TEST_CASE("StopFilter releases a held prefix that stops matching") {
  StopFilter f({"STOP"});
  std::string out;
  CHECK_FALSE(f.feed("a ST", &out));
  CHECK(out == "a ");
  CHECK_FALSE(f.feed("ART", &out));
  CHECK(out == "a START");
  CHECK(f.held() == 0);
  CHECK_FALSE(f.feed("ST", &out));
  f.finish(&out);  // the end of the answer releases the held text
  CHECK(out == "a STARTST");
}

TEST_CASE("StopFilter: overlapping prefixes") {
  // "aab" in "aaab": after "aa", "a" breaks the first candidate but the
  // suffix "aa" still is a prefix.
  check_all_splits("aaab", {"aab"});
  check_all_splits("xaaaabx", {"aab"});
  check_all_splits("abababc", {"ababc"});
  check_all_splits("aaaa", {"aab"});
  check_all_splits("abcabd", {"abd"});
}

TEST_CASE("StopFilter: several stop sequences, earliest match wins") {
  check_all_splits("one two three", {"three", "two"});
  check_all_splits("one two three", {"o t", "two"});
  check_all_splits("abcd", {"bcd", "abce", "cd"});
  check_all_splits("prefix-longer", {"prefix-longer", "prefix"});
  check_all_splits("no match here", {"xyz", "q", "heree"});
  check_all_splits("x", {"xy", "x"});
}

TEST_CASE("StopFilter: UTF-8 text and stop sequences") {
  check_all_splits("Grüße — ✓ fin ✓✓", {"✓✓"});
  check_all_splits("日本語のテキスト。終わり", {"。終"});
  check_all_splits("emoji 😀😀 end", {"😀 "});
  // Whole-character deltas give whole-character output.
  StopFilter f({"é!"});
  std::string out;
  CHECK_FALSE(f.feed("café", &out));
  CHECK(out == "caf");
  CHECK_FALSE(f.feed("s", &out));
  CHECK(out == "cafés");
}

TEST_CASE("StopFilter: newline stop sequences (common in clients)") {
  check_all_splits("line one\n\nline two", {"\n\n"});
  check_all_splits("a\nb\nc", {"\n"});
}

TEST_CASE("StopFilter: the match that completes first wins") {
  check_all_splits("bababab", {"bab", "a"});  // "a" completes at 2, "bab" at 3
  check_all_splits("xabcd", {"abcd", "bc"});
  check_all_splits("xabcd", {"abc", "bc"});  // same end: the longer one
  StopFilter f({"bab", "a"});
  std::string out;
  CHECK(f.feed("bababab", &out));
  CHECK(out == "b");
}

TEST_CASE("StopFilter: random texts against the reference") {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab";
  auto rand_str = [&](size_t max_len) {
    std::string s;
    size_t n = rng() % (max_len + 1);
    for (size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    return s;
  };
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<std::string> stops;
    size_t n = 1 + rng() % 4;
    for (size_t i = 0; i < n; ++i) stops.push_back(rand_str(4));
    check_all_splits(rand_str(9), stops);
  }
}

TEST_CASE("StopFilter memory is bounded by the longest stop sequence") {
  StopFilter f({"abcdef"});
  std::string out;
  for (int i = 0; i < 10000; ++i) {
    f.feed("abcde", &out);
    REQUIRE(f.held() <= 5);
  }
  CHECK(out.size() + f.held() == 50000);
}
