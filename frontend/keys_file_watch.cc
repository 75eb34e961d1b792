#include "frontend/keys_file_watch.h"

#include <sys/stat.h>

#include <cerrno>
#include <exception>

#include "common/accounts/private_file.h"
#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::frontend {

KeysFileWatch::KeysFileWatch(uv_loop_t* loop, std::string path, ClientAuth* auth)
    : loop_(loop), path_(std::move(path)), auth_(auth) {}

void KeysFileWatch::start() {
  reload("start");
  if (path_.empty()) return;
  poll_ = uv::Handle<uv_fs_poll_t>();
  if (int r = uv_fs_poll_init(loop_, poll_.get()); r != 0) {
    QP_WARN("keys.watch_failed").kv("path", path_).kv("error", uv_strerror(r));
    return;
  }
  poll_.get()->data = this;
  int r =
      uv_fs_poll_start(poll_.get(), uv::method<&KeysFileWatch::on_poll>, path_.c_str(), kPollMs);
  if (r != 0) {
    QP_WARN("keys.watch_failed").kv("path", path_).kv("error", uv_strerror(r));
    poll_.reset();
    return;
  }
  uv_unref(poll_.base());
}

void KeysFileWatch::reload(const char* why) {
  if (path_.empty()) return;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 && errno == ENOENT) {
    if (state_ != State::kAbsent) {
      auth_->clear_keys();
      // A warning: unless api_key is set, this turns authentication off.
      QP_WARN("keys.absent")
          .kv("path", path_)
          .kv("reason", why)
          .kv("authentication", auth_->required() ? "api_key only" : "off");
    }
    state_ = State::kAbsent;
    return;
  }
  Status problem;
  auto text = accounts::read_private_file(path_);
  if (!text) {
    problem = text.error();
  } else {
    auto parsed = keys::parse_keys_toml(text.value(), path_);
    if (parsed) {
      size_t n = parsed->size();
      auth_->set_keys(std::move(parsed.value()));
      state_ = State::kLoaded;
      last_error_.clear();
      QP_INFO("keys.loaded")
          .kv("path", path_)
          .kv("keys", static_cast<uint64_t>(n))
          .kv("reason", why);
      return;
    }
    problem = parsed.error();
  }
  // Keep what we have; at start, that is a keys file without keys (closed).
  if (state_ == State::kNone || state_ == State::kAbsent) auth_->set_keys({});
  bool repeated = state_ == State::kInvalid && last_error_ == problem.message();
  state_ = State::kInvalid;
  last_error_ = problem.message();
  if (!repeated) {
    QP_ERROR("keys.invalid")
        .kv("path", path_)
        .kv("error", problem.message())
        .kv("action", auth_->key_count() > 0 ? "keeping the previous keys"
                                             : "no key of the file is accepted");
  }
}

}  // namespace qp::frontend
