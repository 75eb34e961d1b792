#include "common/conversation/history_key.h"

#include <array>
#include <cstdint>
#include <memory>

#include <openssl/evp.h>
#include <simdjson.h>

#include "common/conversation/canonical_json.h"

namespace qp::conversation {
namespace {

using Digest = std::array<uint8_t, 32>;

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

bool is_system(const protocol::ChatMessage& m) {
  return m.role == "system" || m.role == "developer";
}

std::string hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

bool unhex(std::string_view s, Digest* out) {
  if (s.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// One SHA-256 over length-prefixed fields (no field can run into the next).
class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void raw(const void* p, size_t n) { EVP_DigestUpdate(ctx_.get(), p, n); }
  void field(std::string_view s) {
    uint8_t len[8];
    uint64_t n = s.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    raw(len, sizeof len);
    raw(s.data(), s.size());
  }
  Digest finish() {
    Digest d{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), d.data(), &n);
    return d;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

// The canonical form of an assistant message, after its role: the one
// function for a reply (key_after_reply) and for a message a client sends
// back (digest_history), so both hash alike by construction.
void hash_assistant(Hasher* h, std::string_view content, const std::vector<ToolCall>& calls) {
  h->field(trim(content));
  h->field("calls:" + std::to_string(calls.size()));
  for (const ToolCall& call : calls) {
    h->field(call.name);
    auto canon = canonical_json(call.arguments);
    h->field(canon ? std::string_view(*canon) : trim(call.arguments));
  }
}

// The calls of an OpenAI `tool_calls` array (JSON text) a client sent back:
// names and arguments (an arguments object, as some clients send, as its
// JSON text). False if the text is neither empty, `null` nor an array.
bool parse_tool_calls(std::string_view json, std::vector<ToolCall>* calls) {
  if (json.empty() || json == "[]" || json == "null") return true;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::array array;
  if (parser.parse(padded).get_array().get(array) != simdjson::SUCCESS) return false;
  calls->reserve(array.size());
  for (auto call : array) {
    ToolCall& c = calls->emplace_back();
    auto fn = call["function"];
    std::string_view text;
    if (fn["name"].get_string().get(text) == simdjson::SUCCESS) c.name = text;
    if (fn["arguments"].get_string().get(text) == simdjson::SUCCESS) {
      c.arguments = text;
    } else {
      simdjson::dom::element a;
      if (fn["arguments"].get(a) == simdjson::SUCCESS) c.arguments = simdjson::minify(a);
    }
  }
  return true;
}

// One message of a client's history.
Digest chain(const Digest& prev, const protocol::ChatMessage& m) {
  Hasher h;
  h.raw(prev.data(), prev.size());
  h.field(m.role);
  if (m.role != "assistant") {
    h.field(trim(m.content));
  } else {
    std::string_view json = trim(m.tool_calls);
    std::vector<ToolCall> calls;
    if (parse_tool_calls(json, &calls)) {
      hash_assistant(&h, m.content, calls);
    } else {
      // Text that is not a tool_calls array counts as its trimmed self.
      h.field(trim(m.content));
      h.field("calls:raw");
      h.field(json);
    }
  }
  // Images and files count by content hash, so the same image sent again
  // continues the conversation; a message without any hashes as before.
  for (const auto& a : m.attachments) {
    h.field("attachment");
    h.field(a.kind);
    h.field(a.digest);
  }
  return h.finish();
}

}  // namespace

HistoryDigest digest_history(const std::vector<protocol::ChatMessage>& messages) {
  HistoryDigest out;
  Digest state{};
  Hasher system;
  bool any_system = false;
  size_t last_assistant = messages.size();
  Digest at_assistant{};
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (is_system(m)) {
      any_system = true;
      system.field(trim(m.content));
      continue;
    }
    state = chain(state, m);
    if (m.role == "assistant") {
      last_assistant = i;
      at_assistant = state;
    }
  }
  out.state = hex(state);
  if (any_system) out.system_hash = hex(system.finish());
  if (last_assistant < messages.size()) {
    for (size_t i = last_assistant + 1; i < messages.size(); ++i) {
      if (is_system(messages[i])) continue;
      out.key = hex(at_assistant);
      out.new_from = static_cast<uint32_t>(last_assistant + 1);
      break;
    }
  }
  return out;
}

std::string key_after_reply(std::string_view state_hex, const AssistantMessage& reply) {
  Digest state{};
  if (!unhex(state_hex, &state)) return {};
  Hasher h;
  h.raw(state.data(), state.size());
  h.field("assistant");
  hash_assistant(&h, reply.content(), reply.tool_calls());
  return hex(h.finish());
}

std::string tools_hash(std::string_view tools_json) {
  tools_json = trim(tools_json);
  if (tools_json.empty()) return {};
  auto canon = canonical_json(tools_json);
  Hasher h;
  h.field(canon ? std::string_view(*canon) : tools_json);
  return hex(h.finish());
}

void fill_history(protocol::JobRequest* job) {
  HistoryDigest digest = digest_history(job->messages);
  job->history.key = std::move(digest.key);
  job->history.new_from = digest.new_from;
  job->history.state = std::move(digest.state);
  job->history.system_hash = std::move(digest.system_hash);
  job->history.tools_hash = tools_hash(job->tools);
}

}  // namespace qp::conversation
