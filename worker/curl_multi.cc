#include "worker/curl_multi.h"

#include <exception>

#include "common/log.h"

namespace qp::worker {

// One curl socket watched by a uv_poll_t. Created when curl first asks to
// watch the socket, deleted on CURL_POLL_REMOVE (curl announces the removal
// before it closes the socket) or when the multi is destroyed.
struct CurlMulti::SocketWatch {
  CurlMulti* owner;
  curl_socket_t fd;
  uv::Poll poll;
};

CurlMulti::CurlMulti(uv_loop_t* loop) : loop_(loop) {}

CurlMulti::~CurlMulti() { close(); }

void CurlMulti::close() {
  if (closing_) return;
  closing_ = true;  // curl may still call our callbacks from curl_multi_cleanup
  for (CURL* e : easies_) curl_multi_remove_handle(multi_.get(), e);
  easies_.clear();
  for (SocketWatch* w : watches_) delete w;  // uv::Handle closes the poll
  watches_.clear();
  multi_.reset();
  timer_.reset();
  idle_.clear();
}

EasyPtr CurlMulti::take_easy() {
  if (idle_.empty()) return EasyPtr(curl_easy_init());
  EasyPtr e = std::move(idle_.back());
  idle_.pop_back();
  return e;
}

void CurlMulti::give_easy(EasyPtr easy) {
  if (!easy || closing_ || idle_.size() >= kMaxIdleEasies) return;  // cleaned up
  curl_easy_reset(easy.get());
  idle_.push_back(std::move(easy));
}

Status CurlMulti::init() {
  multi_.reset(curl_multi_init());
  if (!multi_) return error(Code::kInternal, "curl_multi_init failed");
  if (int r = uv_timer_init(loop_, timer_.get()); r != 0) {
    return error(Code::kInternal, std::string("uv_timer_init: ") + uv_strerror(r));
  }
  timer_.get()->data = this;
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  return Status();
}

Status CurlMulti::add(CURL* easy, CurlTransfer* transfer) {
  if (closing_ || !multi_) return error(Code::kUnavailable, "the upstream client is closed");
  curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(transfer));
  CURLMcode rc = curl_multi_add_handle(multi_.get(), easy);
  if (rc != CURLM_OK) {
    return error(Code::kInternal, std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
  }
  easies_.insert(easy);
  return Status();
}

void CurlMulti::remove(CURL* easy) {
  if (easies_.erase(easy) == 0) return;
  CURLMcode rc = curl_multi_remove_handle(multi_.get(), easy);
  if (rc != CURLM_OK) QP_ERROR("curl.remove_failed").kv("error", curl_multi_strerror(rc));
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
  auto* self = static_cast<CurlMulti*>(userp);
  if (self->closing_) return 0;
  try {
    return self->watch_socket(fd, what, static_cast<SocketWatch*>(socketp));
  } catch (const std::exception& e) {
    QP_ERROR("curl.socket_callback_exception").kv("error", e.what());
  } catch (...) {
    QP_ERROR("curl.socket_callback_exception");
  }
  return -1;
}

int CurlMulti::watch_socket(curl_socket_t fd, int what, SocketWatch* w) {
  if (what == CURL_POLL_REMOVE) {
    if (w != nullptr) {
      watches_.erase(w);
      delete w;
    }
    return 0;
  }
  if (w == nullptr) {
    auto owned = std::make_unique<SocketWatch>(SocketWatch{this, fd, uv::Poll()});
    if (int r = uv_poll_init_socket(loop_, owned->poll.get(), fd); r != 0) {
      QP_ERROR("curl.poll_init_failed").kv("error", uv_strerror(r));
      return -1;
    }
    w = owned.release();
    w->poll.get()->data = w;
    watches_.insert(w);
    curl_multi_assign(multi_.get(), fd, w);
  }
  int events = 0;
  if ((what & CURL_POLL_IN) != 0) events |= UV_READABLE;
  if ((what & CURL_POLL_OUT) != 0) events |= UV_WRITABLE;
  int r = uv_poll_start(w->poll.get(), events, [](uv_poll_t* h, int status, int ready) {
    auto* watch = static_cast<SocketWatch*>(h->data);
    if (watch == nullptr) return;
    int flags = 0;
    if (status < 0) {
      flags = CURL_CSELECT_ERR;
    } else {
      if ((ready & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
      if ((ready & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
    }
    CurlMulti* owner = watch->owner;  // `watch` may be deleted by socket_action
    try {
      owner->socket_action(watch->fd, flags);
    } catch (const std::exception& e) {
      QP_ERROR("curl.poll_callback_exception").kv("error", e.what());
    } catch (...) {
      QP_ERROR("curl.poll_callback_exception");
    }
  });
  if (r != 0) {
    QP_ERROR("curl.poll_start_failed").kv("error", uv_strerror(r));
    return -1;
  }
  return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlMulti*>(userp);
  if (self->closing_) return 0;
  if (timeout_ms < 0) {
    uv_timer_stop(self->timer_.get());
    return 0;
  }
  // Even a 0 ms timeout goes through the loop: socket_action must not be
  // called from inside this callback.
  uv_timer_start(
      self->timer_.get(),
      [](uv_timer_t* t) {
        auto* multi = static_cast<CurlMulti*>(t->data);
        if (multi == nullptr) return;
        try {
          multi->socket_action(CURL_SOCKET_TIMEOUT, 0);
        } catch (const std::exception& e) {
          QP_ERROR("curl.timer_callback_exception").kv("error", e.what());
        } catch (...) {
          QP_ERROR("curl.timer_callback_exception");
        }
      },
      static_cast<uint64_t>(timeout_ms), 0);
  return 0;
}

void CurlMulti::socket_action(curl_socket_t fd, int flags) {
  int running = 0;
  CURLMcode rc = curl_multi_socket_action(multi_.get(), fd, flags, &running);
  if (rc != CURLM_OK) QP_ERROR("curl.socket_action_failed").kv("error", curl_multi_strerror(rc));
  check_done();
}

void CurlMulti::check_done() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode result = msg->data.result;
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    auto* transfer = static_cast<CurlTransfer*>(static_cast<void*>(priv));
    remove(easy);  // `msg` is invalid from here on
    if (transfer != nullptr) transfer->on_transfer_done(result);
  }
}

}  // namespace qp::worker
