// Who may call the API, with which models, how often: the legacy
// `frontend.api_key` (one unlimited key) and the keys of the keys file
// (common/keys/client_keys.h) with their per-key limits (key_limiter.h), and
// the per-key usage counters. Policy only: no I/O; the clock is injected and
// the keys come from KeysFileWatch.
//
// Authentication is required when `api_key` is set or a keys file exists
// (even one without keys, so revoking the last key does not open the API).
// Keys are compared in constant time and never logged; logs and counters use
// the key's id.
//
// Thread: one thread (the frontend's loop).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/keys/client_keys.h"
#include "common/protocol/messages.h"
#include "frontend/key_limiter.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend {

// Why a request of an authenticated caller was refused.
enum class Rejection { kModel, kRpm, kTpm, kConcurrency };
inline constexpr size_t kRejectionCount = 4;
// "model", "rpm", "tpm", "concurrency": the label value for metrics.
const char* rejection_name(Rejection r);

// Usage of one key since the frontend started: monotonic counters (a
// Prometheus exposition reads them as counters labelled by id and name).
struct KeyUsage {
  std::string name;
  uint64_t requests = 0;  // admitted chat completions
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  std::array<uint64_t, kRejectionCount> rejected{};  // by Rejection
};

// Ids of the callers that are not keys-file keys.
inline constexpr std::string_view kLegacyKeyId = "api_key";  // frontend.api_key
inline constexpr std::string_view kOpenAccessId = "none";    // no authentication configured

// The authenticated caller of one request. Keeps the key set it came from
// alive, so `key` stays valid across a reload.
struct Caller {
  std::shared_ptr<const keys::KeyStore> store;
  const keys::ClientKey* key = nullptr;  // null: legacy api_key or open access
  std::string id;                        // key id, kLegacyKeyId or kOpenAccessId
  bool allows_model(std::string_view model) const {
    return key == nullptr || key->allows_model(model);
  }
};

class ClientAuth;

// A concurrency slot and the usage record of one admitted request. Gives the
// slot back when destroyed (the response finished or the client went away).
class KeyLease {
 public:
  KeyLease() = default;
  KeyLease(ClientAuth* auth, std::string id) : auth_(auth), id_(std::move(id)) {}
  ~KeyLease() { reset(); }
  KeyLease(KeyLease&& o) noexcept;
  KeyLease& operator=(KeyLease&& o) noexcept;
  KeyLease(const KeyLease&) = delete;
  KeyLease& operator=(const KeyLease&) = delete;

  // Counts the finished request's tokens (prompt + completion) for the key.
  void record_usage(const protocol::Usage& usage);
  void reset();
  bool held() const { return auth_ != nullptr; }

 private:
  ClientAuth* auth_ = nullptr;
  std::string id_;
};

class ClientAuth {
 public:
  using Clock = std::function<uint64_t()>;  // monotonic milliseconds

  ClientAuth(std::string api_key, Clock clock);

  // The keys file's keys (a file without keys is still a file).
  void set_keys(std::vector<keys::ClientKey> keys);
  // There is no keys file.
  void clear_keys();
  bool required() const { return !api_key_.empty() || store_ != nullptr; }
  size_t key_count() const { return store_ ? store_->keys().size() : 0; }

  // Whether the Authorization header (null if absent) identifies a caller:
  // true when authentication is not required, or for "Bearer <key>" (scheme
  // case-insensitive, strings::auth_credentials) with a keys-file key or the
  // legacy api_key. Fills `*caller` if not null. Counts nothing: /health
  // uses it to choose its detail level.
  bool identify(const std::string* authorization, Caller* caller) const;
  // identify() for the API: on failure fills `*err` (401) and counts it.
  bool authenticate(const std::string* authorization, Caller* caller, ApiError* err);
  // Whether the caller may use `model`; fills `*err` (403) and counts it if not.
  bool check_model(const Caller& caller, std::string_view model, ApiError* err);
  // Admits one chat completion under the caller's limits: fills `*lease`, or
  // `*err` (429 with Retry-After) and counts the rejection.
  bool admit(const Caller& caller, KeyLease* lease, ApiError* err);

  // Usage by caller id (key ids, kLegacyKeyId, kOpenAccessId).
  const std::map<std::string, KeyUsage>& usage() const { return usage_; }
  uint64_t unauthenticated() const { return unauthenticated_; }
  const KeyLimiter& limiter() const { return limiter_; }

 private:
  friend class KeyLease;
  void release(const std::string& id);
  void record(const std::string& id, const protocol::Usage& usage);
  KeyUsage& usage_of(const std::string& id, std::string_view name);

  std::string api_key_;
  Clock clock_;
  std::shared_ptr<const keys::KeyStore> store_;  // null: no keys file
  KeyLimiter limiter_;
  std::map<std::string, KeyUsage> usage_;
  uint64_t unauthenticated_ = 0;
};

}  // namespace qp::frontend
