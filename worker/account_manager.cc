#include "worker/account_manager.h"

#include <algorithm>
#include <optional>

#include "common/ids.h"
#include "common/log.h"
#include "common/uv/handle.h"
#include "worker/account_token_store.h"

namespace qp::worker {
namespace {

int64_t now_s() { return uv::now_unix_ms() / 1000; }

bool same_credentials(const AccountConfig& a, const AccountConfig& b) {
  return a.token == b.token && a.cookies == b.cookies && a.bx_umidtoken == b.bx_umidtoken &&
         a.bx_ua == b.bx_ua && a.bx_v == b.bx_v && a.email == b.email && a.password == b.password &&
         a.proxy == b.proxy && a.user_agent == b.user_agent && a.capacity == b.capacity;
}

std::string refresh_hint(const std::string& name) {
  return "import fresh credentials with `qwenproxy account import " + name + " --force`";
}

}  // namespace

AccountManager::AccountManager(uv_loop_t* loop, CurlMulti* multi, DeferredDelete* deferred,
                               const Config& config, accounts::LoadedAccount loaded,
                               Listener* listener)
    : loop_(loop),
      multi_(multi),
      deferred_(deferred),
      config_(config),
      listener_(listener),
      watch_(loop, [this] { reload("file_changed"); }),
      saved_path_(qp::worker::saved_token_path(config.state_dir, loaded.account.name)) {
  watch_path_ = loaded.watch_path;
  account_ = loaded.account;  // at least the name and settings
  auto c = prepare(std::move(loaded));
  if (c) {
    apply(std::move(c.value()), /*notify=*/false);
  } else {
    problem_ = c.error().message();
  }
}

AccountManager::~AccountManager() { stop(); }

Result<AccountManager::Candidate> AccountManager::prepare(accounts::LoadedAccount loaded) const {
  if (!loaded.status.ok()) return loaded.status;
  Candidate c;
  c.account = std::move(loaded.account);
  c.source = std::move(loaded.source);
  c.watch_path = std::move(loaded.watch_path);
  c.token_exp = loaded.facts.token_expires_unix_s;
  if (c.account.email.empty() || saved_path_.empty()) return c;
  auto saved = read_saved_token(saved_path_);
  if (!saved) {
    QP_WARN("account.saved_token_unusable")
        .kv("account", c.account.name)
        .kv("error", saved.error().message());
    return c;
  }
  if (!saved.value() || !prefer_saved_token(c.account, c.token_exp, **saved, now_s())) return c;
  AccountConfig with_saved = c.account;
  with_saved.token = (*saved)->token;
  auto facts = accounts::finalize_credentials(&with_saved, saved_path_);
  if (!facts) {
    QP_WARN("account.saved_token_unusable")
        .kv("account", c.account.name)
        .kv("error", facts.error().message());
    return c;
  }
  c.account = std::move(with_saved);
  c.token_exp = facts->token_expires_unix_s;
  c.saved_token = true;
  return c;
}

void AccountManager::apply(Candidate c, bool notify) {
  account_ = std::move(c.account);
  source_ = std::move(c.source);
  watch_path_ = std::move(c.watch_path);
  token_exp_ = c.token_exp;
  loaded_ = true;
  expired_ = warned_ = rejected_ = false;
  problem_.clear();
  if (account_.token.empty())
    problem_ = "no session token yet: signing in with the account's email";
  QP_INFO("account.credentials")
      .kv("account", account_.name)
      .kv("source", source_)
      .kv("token_from", c.saved_token            ? "sign-in"
                        : account_.token.empty() ? "none"
                                                 : "source")
      .kv("expires_unix_s", token_exp_)
      .kv("signin", can_sign_in())
      .kv("proxy", !account_.proxy.empty());
  if (notify) listener_->on_credentials(account_);
}

void AccountManager::start() {
  if (started_ || stopped_) return;
  started_ = true;
  watch(watch_path_);
  if (!loaded_) {
    QP_WARN("account.unusable").kv("account", account_.name).kv("error", problem_);
    invalid(problem_);
  } else if (account_.token.empty()) {
    invalid(problem_);
  }
  tick();
}

void AccountManager::watch(const std::string& path) {
  if (path.empty()) {
    watch_.stop();
    return;
  }
  if (path == watch_.path()) return;
  Status s = watch_.start(path);
  if (!s.ok()) {
    QP_WARN("account.watch_failed")
        .kv("account", account_.name)
        .kv("error", s.message())
        .kv("detail", "changes are picked up on SIGHUP (systemctl reload) only");
  } else {
    QP_INFO("account.watching").kv("account", account_.name).kv("path", path);
  }
}

void AccountManager::stop() {
  if (stopped_) return;
  stopped_ = true;
  watch_.stop();
  abort_signin();
}

void AccountManager::abort_signin() {
  if (!signin_) return;
  signin_->abort();
  deferred_->add(std::move(signin_));
}

void AccountManager::invalid(std::string problem) {
  problem_ = std::move(problem);
  listener_->on_credentials_invalid(problem_);
}

void AccountManager::reload(const char* reason) {
  if (stopped_) return;
  // The configuration file is read again too: inline or .env credentials
  // may have changed, and so may the account's file setting. (Without a
  // file the configuration came from the environment, which has not.)
  std::optional<Config> fresh;
  if (!config_.config_path.empty()) {
    auto c = load_config(config_.config_path);
    if (c) {
      fresh = std::move(c.value());
    } else {
      QP_WARN("account.config_reload_failed")
          .kv("account", account_.name)
          .kv("error", c.error().message())
          .kv("detail", "using the configuration read at start");
    }
  }
  accounts::LoadedAccount loaded = accounts::load_account(fresh ? *fresh : config_, account_.name);
  watch_path_ = loaded.watch_path;
  auto c = prepare(std::move(loaded));
  if (started_) watch(watch_path_);
  if (!c) {
    QP_WARN("account.reload_failed")
        .kv("account", account_.name)
        .kv("reason", reason)
        .kv("error", c.error().message())
        .kv("kept", usable() ? "the current credentials" : "none");
    if (!usable()) invalid(c.error().message());
    return;
  }
  if (loaded_ && same_credentials(c->account, account_)) {
    QP_INFO("account.reload_unchanged").kv("account", account_.name).kv("reason", reason);
    return;
  }
  if (signin_ && c->account.email != account_.email) abort_signin();
  QP_INFO("account.reloaded").kv("account", account_.name).kv("reason", reason);
  signin_failures_ = 0;
  next_signin_ms_ = 0;
  apply(std::move(c.value()), /*notify=*/true);
  tick();
}

void AccountManager::tick() {
  if (stopped_ || !started_) return;
  if (loaded_ && !account_.token.empty() && token_exp_ > 0) {
    int64_t left = token_exp_ - now_s();
    if (left <= 0 && !expired_) {
      expired_ = true;
      QP_WARN("account.jwt_expired")
          .kv("account", account_.name)
          .kv("expired_s_ago", -left)
          .kv("detail", can_sign_in() ? "signing in again" : refresh_hint(account_.name));
      invalid("the session token expired " + std::to_string(-left / 60) + " min ago; " +
              (can_sign_in() ? std::string("signing in again with the account's email")
                             : refresh_hint(account_.name)));
    } else if (left > 0 && left < kWarnBeforeS && !warned_) {
      warned_ = true;
      QP_WARN("account.jwt_expiring")
          .kv("account", account_.name)
          .kv("hours_left", left / 3600)
          .kv("seconds_left", left)
          .kv("detail", can_sign_in() ? "signing in again with the account's email"
                                      : refresh_hint(account_.name));
    }
  }
  maybe_sign_in();
}

void AccountManager::rejected() {
  // The next tick() signs in: this may run inside a libcurl callback, where
  // no transfer may be started.
  if (!stopped_) rejected_ = true;
}

void AccountManager::maybe_sign_in() {
  if (stopped_ || !started_ || signin_ || !can_sign_in()) return;
  bool due =
      account_.token.empty() || expired_ || rejected_ || token_exp_ - now_s() < kRenewBeforeS;
  if (!due || uv_now(loop_) < next_signin_ms_) return;
  const char* why = account_.token.empty() ? "no_token"
                    : expired_             ? "expired"
                    : rejected_            ? "rejected"
                                           : "expiring";
  QP_INFO("account.signin").kv("account", account_.name).kv("reason", why);
  std::string email = account_.email;
  signin_ = std::make_unique<SigninCall>(
      multi_, signin_spec(config_.upstream, account_, ids::uuid4()),
      [this, email](Result<std::string> token) { on_signin(email, std::move(token)); });
  Status s = signin_->start();
  if (!s.ok()) {
    deferred_->add(std::move(signin_));
    signin_failed("cannot start the sign-in request: " + s.message());
  }
}

void AccountManager::signin_failed(const std::string& message) {
  ++signin_failures_;
  uint64_t backoff = kSigninRetryMinMs;
  for (uint32_t i = 1; i < signin_failures_ && backoff < kSigninRetryMaxMs; ++i) backoff *= 2;
  backoff = std::min(backoff, kSigninRetryMaxMs);
  next_signin_ms_ = uv_now(loop_) + backoff;
  QP_WARN("account.signin_failed")
      .kv("account", account_.name)
      .kv("error", message)
      .kv("failures", static_cast<uint64_t>(signin_failures_))
      .kv("retry_in_s", backoff / 1000);
  if (!usable()) {
    std::string base = problem_.empty() ? std::string("no usable session token") : problem_;
    size_t cut = base.find("; signing in failed: ");
    if (cut != std::string::npos) base.resize(cut);
    invalid(base + "; signing in failed: " + message);
  }
}

void AccountManager::on_signin(const std::string& email, Result<std::string> token) {
  // Inside the call's own completion: destroy it later.
  if (signin_) deferred_->add(std::move(signin_));
  if (stopped_) return;
  if (!token) return signin_failed(token.error().message());
  if (email != account_.email) {
    QP_INFO("account.signin_discarded")
        .kv("account", account_.name)
        .kv("detail", "the account's email changed while signing in");
    return;
  }
  Candidate c;
  c.account = account_;
  c.account.token = std::move(token.value());
  c.source = source_;
  c.watch_path = watch_path_;
  auto facts = accounts::finalize_credentials(&c.account, "the sign-in answer");
  if (!facts) return signin_failed(facts.error().message());
  c.token_exp = facts->token_expires_unix_s;
  c.saved_token = true;
  signin_failures_ = 0;
  // The next renewal no earlier than half the new token's lifetime (a site
  // handing out short tokens must not be asked every tick).
  int64_t left_s = std::max<int64_t>(c.token_exp - now_s(), 0);
  next_signin_ms_ =
      uv_now(loop_) + std::max<uint64_t>(kSigninRetryMinMs, static_cast<uint64_t>(left_s) * 500);
  QP_INFO("account.signed_in").kv("account", account_.name).kv("expires_unix_s", c.token_exp);
  if (saved_path_.empty()) {
    QP_WARN("account.token_not_saved")
        .kv("account", account_.name)
        .kv("error", "no state directory is configured")
        .kv("detail", "the worker signs in again after a restart");
  } else if (Status s = write_saved_token(saved_path_, email, c.account.token); !s.ok()) {
    QP_WARN("account.token_not_saved").kv("account", account_.name).kv("error", s.message());
  } else {
    QP_INFO("account.token_saved").kv("account", account_.name).kv("path", saved_path_);
  }
  apply(std::move(c), /*notify=*/true);
  tick();
}

}  // namespace qp::worker
