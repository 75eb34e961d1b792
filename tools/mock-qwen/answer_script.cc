#include "tools/mock-qwen/answer_script.h"

#include <simdjson.h>

#include "tools/mock-qwen/json_util.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

namespace od = simdjson::ondemand;

qp::Status rule_error(size_t index, std::string_view what) {
  return qp::Status(qp::Code::kInvalidArgument,
                    "rule " + std::to_string(index) + ": " + std::string(what));
}

qp::Status parse_match(od::value v, size_t index, Rule* rule) {
  od::object obj;
  if (v.get_object().get(obj)) return rule_error(index, "\"match\" must be an object");
  for (auto field : obj) {
    std::string_view key, val;
    if (field.unescaped_key().get(key)) return rule_error(index, "bad key in \"match\"");
    if (field.value().get_string().get(val)) {
      return rule_error(index, "\"match." + std::string(key) + "\" must be a string");
    }
    if (key == "model") {
      rule->model.assign(val);
      continue;
    }
    if (rule->match != Rule::Match::kAny) {
      return rule_error(index, "\"match\" takes one of contains, equals, regex");
    }
    rule->pattern.assign(val);
    if (key == "contains") {
      rule->match = Rule::Match::kContains;
    } else if (key == "equals") {
      rule->match = Rule::Match::kEquals;
    } else if (key == "regex") {
      rule->match = Rule::Match::kRegex;
      auto* re = new regex_t;
      int rc = regcomp(re, rule->pattern.c_str(), REG_EXTENDED | REG_NOSUB);
      if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        delete re;
        return rule_error(index, std::string("bad regex: ") + msg);
      }
      rule->regex = std::shared_ptr<const regex_t>(re, [](const regex_t* r) {
        regfree(const_cast<regex_t*>(r));
        delete r;
      });
    } else {
      return rule_error(index, "unknown match key \"" + std::string(key) + "\"");
    }
  }
  return qp::Status();
}

qp::Status parse_delays(od::value v, size_t index, Rule* rule) {
  od::object obj;
  if (v.get_object().get(obj)) return rule_error(index, "\"delays\" must be an object");
  for (auto field : obj) {
    std::string_view key;
    int64_t n = 0;
    if (field.unescaped_key().get(key)) return rule_error(index, "bad key in \"delays\"");
    if (field.value().get_int64().get(n) || n < 0) {
      return rule_error(index, "\"delays." + std::string(key) + "\" must be an integer >= 0");
    }
    if (key == "token_delay_ms") {
      rule->token_delay_ms = n;
    } else if (key == "first_token_delay_ms") {
      rule->first_token_delay_ms = n;
    } else {
      return rule_error(index, "unknown delay \"" + std::string(key) + "\"");
    }
  }
  return qp::Status();
}

qp::Status parse_rule(od::value v, size_t index, Rule* rule) {
  od::object obj;
  if (v.get_object().get(obj)) return rule_error(index, "must be an object");
  bool have_reply = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return rule_error(index, "bad key");
    od::value val;
    if (field.value().get(val)) return rule_error(index, "bad value");
    std::string_view s;
    if (key == "match") {
      if (auto st = parse_match(val, index, rule); !st.ok()) return st;
    } else if (key == "reply") {
      if (val.get_string().get(s)) return rule_error(index, "\"reply\" must be a string");
      rule->reply.assign(s);
      have_reply = true;
    } else if (key == "tokens") {
      od::array arr;
      if (val.get_array().get(arr)) return rule_error(index, "\"tokens\" must be an array");
      for (auto item : arr) {
        if (item.get_string().get(s)) return rule_error(index, "\"tokens\" must hold strings");
        rule->tokens.emplace_back(s);
      }
      have_reply = true;
    } else if (key == "thinking") {
      if (val.get_string().get(s)) return rule_error(index, "\"thinking\" must be a string");
      rule->thinking.emplace(s);
    } else if (key == "summary_title") {
      if (val.get_string().get(s)) return rule_error(index, "\"summary_title\" must be a string");
      rule->summary_title.assign(s);
    } else if (key == "times") {
      if (val.get_int64().get(rule->times) || rule->times < 0) {
        return rule_error(index, "\"times\" must be an integer >= 0");
      }
    } else if (key == "delays") {
      if (auto st = parse_delays(val, index, rule); !st.ok()) return st;
    } else {
      return rule_error(index, "unknown key \"" + std::string(key) + "\"");
    }
  }
  if (!have_reply) return rule_error(index, "needs \"reply\" or \"tokens\"");
  return qp::Status();
}

}  // namespace

std::string expand_prompt(std::string_view text, std::string_view prompt) {
  static constexpr std::string_view kVar = "{{prompt}}";
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = text.find(kVar, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(prompt);
    pos = hit + kVar.size();
  }
  out.append(text.substr(pos));
  return out;
}

qp::Result<AnswerScript> AnswerScript::parse(std::string_view json) {
  AnswerScript script;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) {
    return qp::Status(qp::Code::kInvalidArgument, "rules: invalid JSON");
  }
  od::array rules;
  od::json_type type;
  if (doc.type().get(type)) return qp::Status(qp::Code::kInvalidArgument, "rules: invalid JSON");
  if (type == od::json_type::array) {
    if (doc.get_array().get(rules)) {
      return qp::Status(qp::Code::kInvalidArgument, "rules: invalid JSON");
    }
  } else if (type == od::json_type::object) {
    if (doc["rules"].get_array().get(rules)) {
      return qp::Status(qp::Code::kInvalidArgument, "rules: expected {\"rules\": [...]}");
    }
  } else {
    return qp::Status(qp::Code::kInvalidArgument, "rules: expected an array or an object");
  }
  size_t index = 0;
  for (auto item : rules) {
    od::value v;
    if (item.get(v)) return rule_error(index, "invalid JSON");
    Rule rule;
    if (auto st = parse_rule(v, index, &rule); !st.ok()) return st;
    script.rules_.push_back(std::move(rule));
    ++index;
  }
  if (type == od::json_type::array && !json_at_end(doc)) {
    return qp::Status(qp::Code::kInvalidArgument, "rules: trailing content");
  }
  script.used_.assign(script.rules_.size(), 0);
  return script;
}

bool AnswerScript::matches(const Rule& rule, std::string_view prompt,
                           std::string_view model) const {
  if (!rule.model.empty() && rule.model != model) return false;
  switch (rule.match) {
    case Rule::Match::kAny:
      return true;
    case Rule::Match::kContains:
      return prompt.find(rule.pattern) != std::string_view::npos;
    case Rule::Match::kEquals:
      return prompt == rule.pattern;
    case Rule::Match::kRegex: {
      // REG_STARTEND (glibc, BSD): match the view without copying it into a
      // NUL-terminated string; NUL bytes in the prompt are then ordinary.
      regmatch_t range[1];
      range[0].rm_so = 0;
      range[0].rm_eo = static_cast<regoff_t>(prompt.size());
      return regexec(rule.regex.get(), prompt.data(), 1, range, REG_STARTEND) == 0;
    }
  }
  return false;
}

Answer AnswerScript::answer(std::string_view prompt, std::string_view model, bool want_thinking,
                            size_t echo_max_bytes) {
  Answer a;
  const Rule* rule = nullptr;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].times >= 0 && used_[i] >= rules_[i].times) continue;
    if (!matches(rules_[i], prompt, model)) continue;
    rule = &rules_[i];
    ++used_[i];
    a.rule_index = static_cast<int>(i);
    break;
  }
  std::string_view quoted = echo_max_bytes > 0 ? utf8_prefix(prompt, echo_max_bytes) : prompt;
  if (rule == nullptr) {
    a.reply.reserve(kEchoPrefix.size() + quoted.size());
    a.reply.append(kEchoPrefix);
    a.reply.append(quoted);
    tokenize(a.reply, &a.reply_ends);
  } else if (!rule->tokens.empty()) {
    for (const auto& t : rule->tokens) {
      std::string piece = expand_prompt(t, prompt);
      if (piece.empty()) continue;  // an empty token would be an empty delta; skip it
      a.reply += piece;
      a.reply_ends.push_back(static_cast<uint32_t>(a.reply.size()));
    }
  } else {
    a.reply = expand_prompt(rule->reply, prompt);
    tokenize(a.reply, &a.reply_ends);
  }
  if (want_thinking) {
    if (rule != nullptr && rule->thinking.has_value()) {
      a.thinking = expand_prompt(*rule->thinking, prompt);
    } else {
      a.thinking.append(kThinkingPrefix);
      a.thinking.append(quoted);
    }
    tokenize(a.thinking, &a.thinking_ends);
  }
  a.summary_title = (rule != nullptr && !rule->summary_title.empty())
                        ? rule->summary_title
                        : std::string(kDefaultSummaryTitle);
  if (rule != nullptr) {
    a.token_delay_ms = rule->token_delay_ms;
    a.first_token_delay_ms = rule->first_token_delay_ms;
  }
  return a;
}

}  // namespace qp::mock
