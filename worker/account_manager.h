// The credentials of the worker's one account, kept current while the worker
// runs (docs/deployment.md, "6. Rotate credentials" and "8. Watch token
// expiry"):
//
//  - loaded once at start (accounts::load_account); a bad, expired or
//    missing account never stops the worker: it runs with no usable
//    credentials and says why (problem(), reported as the account's health
//    detail);
//  - reload(): on SIGHUP and when the account file changes (AccountWatch).
//    New credentials take effect for new requests (Listener::on_credentials);
//    requests in flight keep the headers and cookies they were started with.
//    A reload that fails keeps the current credentials and logs why;
//  - the token's expiry: `account.jwt_expiring` is logged once when less
//    than 24 h are left, `account.jwt_expired` when it runs out (then the
//    credentials are unusable);
//  - with an email and password: signs in again (account_signin.h) when the
//    token has less than kRenewBeforeS left, has expired, is missing, or was
//    rejected by the upstream; failures back off from kSigninRetryMinMs to
//    kSigninRetryMaxMs. The new token is used at once and saved in the state
//    directory (account_token_store.h) for the next start.
//
// Secrets never reach a log line or problem(). Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <uv.h>

#include "common/accounts/account_loader.h"
#include "common/config.h"
#include "worker/account_signin.h"
#include "worker/account_watch.h"
#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"

namespace qp::worker {

class AccountManager {
 public:
  static constexpr int64_t kWarnBeforeS = 24 * 3600;
  static constexpr int64_t kRenewBeforeS = 24 * 3600;
  static constexpr uint64_t kSigninRetryMinMs = 30'000;
  static constexpr uint64_t kSigninRetryMaxMs = 30 * 60'000;

  class Listener {
   public:
    // New credentials are in effect: new requests must use `account`.
    virtual void on_credentials(const AccountConfig& account) = 0;
    // The account has no usable credentials; `detail` says why (no secret).
    virtual void on_credentials_invalid(const std::string& detail) = 0;

   protected:
    ~Listener() = default;
  };

  // `config`, `multi`, `deferred` and `listener` must outlive the manager.
  // The listener is not called before start().
  AccountManager(uv_loop_t* loop, CurlMulti* multi, DeferredDelete* deferred, const Config& config,
                 accounts::LoadedAccount loaded, Listener* listener);
  ~AccountManager();
  AccountManager(const AccountManager&) = delete;
  AccountManager& operator=(const AccountManager&) = delete;

  // Watches the account file and signs in if the token needs it.
  void start();
  // Stops the watch and any sign-in. Idempotent.
  void stop();
  // Loads the account again (reason: "sighup", "file_changed", …).
  void reload(const char* reason);
  // Periodic (the worker's heartbeat): expiry reports and due sign-ins.
  void tick();
  // The upstream rejected the credentials: the next tick() signs in again
  // if it can. Safe inside libcurl callbacks.
  void rejected();

  // The credentials in effect (or, when none were ever loaded, the name and
  // settings only).
  const AccountConfig& account() const { return account_; }
  // Loaded credentials with a token that has not expired.
  bool usable() const { return loaded_ && !account_.token.empty() && !expired_; }
  // Why the credentials are not usable; empty when they are.
  const std::string& problem() const { return problem_; }
  int64_t token_expires_unix_s() const { return token_exp_; }
  bool can_sign_in() const {
    return loaded_ && !account_.email.empty() && !account_.password.empty();
  }
  bool signing_in() const { return signin_ != nullptr; }
  const std::string& saved_token_path() const { return saved_path_; }

 private:
  struct Candidate {
    AccountConfig account;
    std::string source;
    std::string watch_path;
    int64_t token_exp = 0;
    bool saved_token = false;
  };

  Result<Candidate> prepare(accounts::LoadedAccount loaded) const;
  void apply(Candidate c, bool notify);
  void watch(const std::string& path);
  void maybe_sign_in();
  void on_signin(const std::string& email, Result<std::string> token);
  void signin_failed(const std::string& message);
  void invalid(std::string problem);
  void abort_signin();

  uv_loop_t* loop_;
  CurlMulti* multi_;
  DeferredDelete* deferred_;
  const Config& config_;
  Listener* listener_;
  AccountWatch watch_;
  AccountConfig account_;
  std::string source_;
  std::string watch_path_;  // the account file (empty: none to watch)
  std::string saved_path_;
  std::string problem_;
  int64_t token_exp_ = 0;
  bool loaded_ = false;    // account_ holds credentials that passed validation
  bool expired_ = false;   // token_exp_ has passed (logged)
  bool warned_ = false;    // "expiring within 24 h" logged for this token
  bool rejected_ = false;  // the upstream rejected this token
  bool started_ = false;
  bool stopped_ = false;
  std::unique_ptr<SigninCall> signin_;
  uint32_t signin_failures_ = 0;
  uint64_t next_signin_ms_ = 0;  // uv_now before which no sign-in starts
};

}  // namespace qp::worker
