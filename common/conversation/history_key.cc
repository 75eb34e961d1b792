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

// The calls' names and canonical arguments, in order. Text that is not a
// tool_calls array is hashed as its trimmed self.
void hash_tool_calls(Hasher* h, std::string_view json) {
  json = trim(json);
  if (json.empty() || json == "[]" || json == "null") {
    h->field("calls:0");
    return;
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::array calls;
  if (parser.parse(padded).get_array().get(calls) != simdjson::SUCCESS) {
    h->field("calls:raw");
    h->field(json);
    return;
  }
  h->field("calls:" + std::to_string(calls.size()));
  for (auto call : calls) {
    std::string_view name, args;
    auto fn = call["function"];
    if (fn["name"].get_string().get(name) != simdjson::SUCCESS) name = {};
    if (fn["arguments"].get_string().get(args) != simdjson::SUCCESS) {
      // Some clients send arguments as an object rather than a string.
      simdjson::dom::element a;
      if (fn["arguments"].get(a) == simdjson::SUCCESS) {
        std::string text = simdjson::minify(a);
        auto canon = canonical_json(text);
        h->field(name);
        h->field(canon ? *canon : text);
        continue;
      }
      args = {};
    }
    h->field(name);
    auto canon = canonical_json(args);
    h->field(canon ? std::string_view(*canon) : trim(args));
  }
}

Digest chain(const Digest& prev, std::string_view role, std::string_view content,
             std::string_view tool_calls,
             const std::vector<protocol::Attachment>* attachments = nullptr) {
  Hasher h;
  h.raw(prev.data(), prev.size());
  h.field(role);
  h.field(trim(content));
  if (role == "assistant") hash_tool_calls(&h, tool_calls);
  // Images and files count by content hash, so the same image sent again
  // continues the conversation; a message without any hashes as before.
  if (attachments != nullptr) {
    for (const auto& a : *attachments) {
      h.field("attachment");
      h.field(a.kind);
      h.field(a.digest);
    }
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
    state = chain(state, m.role, m.content, m.tool_calls, &m.attachments);
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

std::string key_after_reply(std::string_view state_hex, std::string_view content,
                            std::string_view tool_calls_json) {
  Digest state{};
  if (!unhex(state_hex, &state)) return {};
  return hex(chain(state, "assistant", content, tool_calls_json));
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
