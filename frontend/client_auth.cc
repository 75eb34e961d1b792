#include "frontend/client_auth.h"

#include <openssl/crypto.h>

#include "common/strings.h"

namespace qp::frontend {
namespace {

bool same_secret(std::string_view given, const std::string& expected) {
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

const char* rejection_name(Rejection r) {
  switch (r) {
    case Rejection::kModel:
      return "model";
    case Rejection::kRpm:
      return "rpm";
    case Rejection::kTpm:
      return "tpm";
    case Rejection::kConcurrency:
      return "concurrency";
  }
  return "unknown";
}

KeyLease::KeyLease(KeyLease&& o) noexcept
    : auth_(std::exchange(o.auth_, nullptr)), id_(std::move(o.id_)) {}

KeyLease& KeyLease::operator=(KeyLease&& o) noexcept {
  if (this != &o) {
    reset();
    auth_ = std::exchange(o.auth_, nullptr);
    id_ = std::move(o.id_);
  }
  return *this;
}

void KeyLease::record_usage(const protocol::Usage& usage) {
  if (auth_ != nullptr) auth_->record(id_, usage);
}

void KeyLease::reset() {
  if (auth_ == nullptr) return;
  std::exchange(auth_, nullptr)->release(id_);
}

ClientAuth::ClientAuth(std::string api_key, Clock clock)
    : api_key_(std::move(api_key)), clock_(std::move(clock)) {}

void ClientAuth::set_keys(std::vector<keys::ClientKey> keys) {
  store_ = std::make_shared<const keys::KeyStore>(std::move(keys));
  for (const auto& k : store_->keys()) usage_of(k.id(), k.name).name = k.name;
  limiter_.retain([this](const std::string& id) {
    for (const auto& k : store_->keys()) {
      if (k.id() == id) return true;
    }
    return false;
  });
}

void ClientAuth::clear_keys() {
  store_.reset();
  limiter_.retain([](const std::string&) { return false; });
}

KeyUsage& ClientAuth::usage_of(const std::string& id, std::string_view name) {
  auto [it, inserted] = usage_.try_emplace(id);
  if (inserted) it->second.name = std::string(name);
  return it->second;
}

bool ClientAuth::identify(const std::string* authorization, Caller* caller) const {
  Caller found;
  if (!required()) {
    found.id = std::string(kOpenAccessId);
  } else {
    std::string_view token =
        authorization ? strings::auth_credentials(*authorization, "bearer") : std::string_view();
    if (token.empty()) return false;
    // Both are checked, so the time does not tell which kind of key matched.
    bool legacy = !api_key_.empty() && same_secret(token, api_key_);
    const keys::ClientKey* key = store_ ? store_->find(token) : nullptr;
    if (key != nullptr) {
      found.store = store_;
      found.key = key;
      found.id = key->id();
    } else if (legacy) {
      found.id = std::string(kLegacyKeyId);
    } else {
      return false;
    }
  }
  if (caller != nullptr) *caller = std::move(found);
  return true;
}

bool ClientAuth::authenticate(const std::string* authorization, Caller* caller, ApiError* err) {
  if (identify(authorization, caller)) return true;
  ++unauthenticated_;
  *err = ApiError{Code::kUnauthenticated, "Incorrect API key provided.", {}, "invalid_api_key", 0};
  return false;
}

bool ClientAuth::check_model(const Caller& caller, std::string_view model, ApiError* err) {
  if (caller.allows_model(model)) return true;
  ++usage_of(caller.id, caller.key->name).rejected[static_cast<size_t>(Rejection::kModel)];
  *err = ApiError{Code::kPermissionDenied,
                  "The API key (id " + caller.id + ") does not have access to model `" +
                      std::string(model) + "`.",
                  {},
                  "model_not_found",
                  0};
  return false;
}

bool ClientAuth::admit(const Caller& caller, KeyLease* lease, ApiError* err) {
  std::string_view name = caller.key                  ? std::string_view(caller.key->name)
                          : caller.id == kLegacyKeyId ? std::string_view("frontend.api_key")
                                                      : std::string_view("none");
  KeyUsage& u = usage_of(caller.id, name);
  if (caller.key == nullptr) {  // unlimited
    ++u.requests;
    *lease = KeyLease(this, caller.id);
    return true;
  }
  KeyLimiter::Limits limits{caller.key->rpm, caller.key->tpm, caller.key->concurrency};
  KeyLimiter::Decision d = limiter_.admit(caller.id, limits, clock_());
  if (d.admitted()) {
    ++u.requests;
    *lease = KeyLease(this, caller.id);
    return true;
  }
  Rejection r = d.verdict == KeyLimiter::Verdict::kRpm   ? Rejection::kRpm
                : d.verdict == KeyLimiter::Verdict::kTpm ? Rejection::kTpm
                                                         : Rejection::kConcurrency;
  ++u.rejected[static_cast<size_t>(r)];
  const char* what = r == Rejection::kRpm   ? "requests per min (RPM)"
                     : r == Rejection::kTpm ? "tokens per min (TPM)"
                                            : "concurrent requests";
  std::string message = "Rate limit reached for API key id " + caller.id + " on " + what +
                        ": Limit " + std::to_string(d.limit) + ", Used " + std::to_string(d.used);
  if (r != Rejection::kTpm) message += ", Requested 1";
  message += ". Please try again in " + std::to_string(d.retry_after_s) + "s.";
  *err =
      ApiError{Code::kRateLimited, std::move(message), {}, "rate_limit_exceeded", d.retry_after_s};
  err->type = r == Rejection::kTpm ? "tokens" : "requests";
  return false;
}

void ClientAuth::release(const std::string& id) { limiter_.release(id); }

void ClientAuth::record(const std::string& id, const protocol::Usage& usage) {
  auto it = usage_.find(id);
  if (it != usage_.end()) {
    it->second.prompt_tokens += static_cast<uint64_t>(std::max<int64_t>(usage.prompt_tokens, 0));
    it->second.completion_tokens +=
        static_cast<uint64_t>(std::max<int64_t>(usage.completion_tokens, 0));
  }
  int64_t total =
      std::max<int64_t>(usage.prompt_tokens, 0) + std::max<int64_t>(usage.completion_tokens, 0);
  if (id != kLegacyKeyId && id != kOpenAccessId)
    limiter_.add_tokens(id, static_cast<uint64_t>(total), clock_());
}

}  // namespace qp::frontend
