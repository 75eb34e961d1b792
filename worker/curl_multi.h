// libcurl's multi interface driven from a libuv loop (the shape of curl's
// docs/examples/multi-uv.c): CURLMOPT_SOCKETFUNCTION maps each curl socket
// to a uv_poll_t, CURLMOPT_TIMERFUNCTION to one uv_timer_t. No threads: all
// transfers of the worker progress on its loop.
//
// Ownership: CurlMulti owns the CURLM and the per-socket poll handles (freed
// in their close callbacks through uv::Handle). It does not own easy
// handles in use: each is owned by a CurlTransfer (see http_request.h),
// which must remove it (or be told it is done) before destroying it. Every
// CurlTransfer must be destroyed before the CurlMulti. Idle easy handles
// are kept for reuse (take_easy()/give_easy()): a few, each reset
// (curl_easy_reset: every option cleared) when given back, so that no
// pointer into a finished transfer survives.
//
// Callbacks: on_transfer_done() runs from the loop, never from inside a
// libcurl callback, so it may add, remove or destroy transfers. No exception
// crosses a curl or libuv callback: each trampoline catches and logs.
// Thread: the loop's thread only.
#pragma once

#include <memory>
#include <unordered_set>
#include <vector>

#include <curl/curl.h>
#include <uv.h>

#include "common/status.h"
#include "common/uv/handle.h"

namespace qp::worker {

struct CurlEasyDeleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using MultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

class CurlTransfer {
 public:
  // The transfer ended (success or failure); the easy handle has already
  // been removed from the multi.
  virtual void on_transfer_done(CURLcode result) = 0;

 protected:
  ~CurlTransfer() = default;
};

class CurlMulti {
 public:
  explicit CurlMulti(uv_loop_t* loop);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  Status init();
  // Starts `easy`; `transfer` gets on_transfer_done() when it ends.
  // Uses CURLOPT_PRIVATE. REQUIRES: init() succeeded.
  Status add(CURL* easy, CurlTransfer* transfer);
  // Stops `easy` without a callback. Safe if it is not (or no longer) added.
  // REQUIRES: not called from inside a libcurl callback.
  void remove(CURL* easy);

  // Stops every transfer (no callbacks), closes the poll and timer handles
  // and the CURLM; add() fails afterwards. Idempotent; also run by the
  // destructor.
  void close();

  // An easy handle with default options: an idle one, else a new one (null
  // if curl_easy_init fails).
  EasyPtr take_easy();
  // Takes back a handle that is not (or no longer) added: reset and kept
  // while fewer than kMaxIdleEasies are idle, else cleaned up.
  void give_easy(EasyPtr easy);
  static constexpr size_t kMaxIdleEasies = 16;
  size_t idle_easies() const { return idle_.size(); }

  size_t active() const { return easies_.size(); }
  uv_loop_t* loop() const { return loop_; }

 private:
  struct SocketWatch;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  int watch_socket(curl_socket_t fd, int what, SocketWatch* w);
  void socket_action(curl_socket_t fd, int flags);
  void check_done();

  uv_loop_t* loop_;
  MultiPtr multi_;
  uv::Timer timer_;
  std::unordered_set<SocketWatch*> watches_;
  std::unordered_set<CURL*> easies_;
  std::vector<EasyPtr> idle_;
  bool closing_ = false;
};

}  // namespace qp::worker
