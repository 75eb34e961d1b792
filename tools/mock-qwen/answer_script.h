// Scripted answers: maps a prompt to the reply (and optional thinking text)
// the mock streams back. Pure; owned by the mock's loop thread.
//
// Without a matching rule the answer is the echo "You said: <prompt>" and,
// when thinking is requested, the thinking text "Thinking about: <prompt>".
// Rules file (JSON), first match wins:
//   {"rules": [ {"match": {"contains"|"equals"|"regex": "…", "model": "…"},
//                "reply": "…" | "tokens": ["…", …], "thinking": "…",
//                "summary_title": "…", "times": N,
//                "delays": {"token_delay_ms": N, "first_token_delay_ms": N}} ]}
// A bare array of rules is accepted too. "{{prompt}}" in reply, tokens and
// thinking is replaced by the prompt. A rule without "match" matches anything.
// "times" limits how often a rule fires (then it is skipped). "regex" is a
// POSIX extended regular expression (regcomp REG_EXTENDED), searched anywhere
// in the prompt.
#pragma once

#include <regex.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::mock {

inline constexpr std::string_view kEchoPrefix = "You said: ";
inline constexpr std::string_view kThinkingPrefix = "Thinking about: ";
inline constexpr std::string_view kDefaultSummaryTitle = "Thinking";

struct Rule {
  enum class Match { kAny, kContains, kEquals, kRegex };
  Match match = Match::kAny;
  std::string pattern;
  std::shared_ptr<const regex_t> regex;  // POSIX extended regex, shared by copies
  std::string model;                     // empty = any model
  std::string reply;
  std::vector<std::string> tokens;  // explicit split; empty = tokenize reply
  std::optional<std::string> thinking;
  std::string summary_title;
  int64_t times = -1;                 // -1 = unlimited
  int64_t token_delay_ms = -1;        // -1 = use the server's setting
  int64_t first_token_delay_ms = -1;  // -1 = use the server's setting
};

struct Answer {
  std::string reply;
  std::vector<uint32_t> reply_ends;  // token end offsets into reply
  std::string thinking;              // empty unless want_thinking
  std::vector<uint32_t> thinking_ends;
  std::string summary_title;
  int64_t token_delay_ms = -1;
  int64_t first_token_delay_ms = -1;
  int rule_index = -1;  // -1 = default echo
};

class AnswerScript {
 public:
  AnswerScript() = default;
  // Parses a rules document (see above). Errors name the rule index and field.
  static qp::Result<AnswerScript> parse(std::string_view json);

  // Picks the first rule that matches (and still has uses left) and builds
  // the answer. Consumes one use of that rule. echo_max_bytes > 0 caps how
  // much of the prompt the default echo (and default thinking) quotes.
  Answer answer(std::string_view prompt, std::string_view model, bool want_thinking,
                size_t echo_max_bytes = 0);

  size_t rule_count() const { return rules_.size(); }

 private:
  bool matches(const Rule& rule, std::string_view prompt, std::string_view model) const;

  std::vector<Rule> rules_;
  std::vector<int64_t> used_;
};

// Replaces every "{{prompt}}" in text.
std::string expand_prompt(std::string_view text, std::string_view prompt);

}  // namespace qp::mock
