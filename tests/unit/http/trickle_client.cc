#include "tests/unit/http/trickle_client.h"

#include <utility>

namespace qp::http::test {

struct TrickleClient::State {
  uv_loop_t* loop = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_connect_t connect{};
  std::vector<std::string> steps;
  size_t next = 0;
  uint64_t interval_ms = 0;
  std::string received;
  bool connected = false;
  bool closed = false;
  bool closing = false;
  uint64_t first_step_ms = 0;
  uint64_t closed_ms = 0;
  int open_handles = 2;
  char read_buf[4096];

  struct Write {
    uv_write_t req;
    std::string data;
  };

  void mark_closed() {
    if (closed) return;
    closed = true;
    closed_ms = uv_now(loop);
    uv_timer_stop(&timer);
  }
  void send_step() {
    if (closed || next >= steps.size()) {
      uv_timer_stop(&timer);
      return;
    }
    if (next == 0) first_step_ms = uv_now(loop);
    auto* w = new Write;
    w->data = steps[next++];
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int r = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1,  // NOLINT
                     [](uv_write_t* req, int) { delete static_cast<Write*>(req->data); });
    if (r < 0) {
      delete w;
      mark_closed();
    }
  }
  void close_handles() {
    if (closing) return;
    closing = true;
    auto on_close = [](uv_handle_t* h) {
      auto* s = static_cast<State*>(h->data);
      if (--s->open_handles == 0) delete s;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_close);  // NOLINT
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);    // NOLINT
  }
};

TrickleClient::TrickleClient(uv_loop_t* loop, int port, std::vector<std::string> steps,
                             uint64_t interval_ms)
    : state_(new State) {
  State* s = state_;
  s->loop = loop;
  s->steps = std::move(steps);
  s->interval_ms = interval_ms;
  uv_tcp_init(loop, &s->tcp);
  uv_timer_init(loop, &s->timer);
  s->tcp.data = s;
  s->timer.data = s;
  s->connect.data = s;
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", port, &addr);
  int r = uv_tcp_connect(&s->connect, &s->tcp, reinterpret_cast<const sockaddr*>(&addr),  // NOLINT
                         [](uv_connect_t* req, int status) {
                           auto* st = static_cast<State*>(req->data);
                           if (st->closing) return;
                           if (status < 0) {
                             st->mark_closed();
                             return;
                           }
                           st->connected = true;
                           uv_read_start(
                               reinterpret_cast<uv_stream_t*>(&st->tcp),  // NOLINT
                               [](uv_handle_t* h, size_t, uv_buf_t* buf) {
                                 auto* x = static_cast<State*>(h->data);
                                 *buf = uv_buf_init(x->read_buf, sizeof(x->read_buf));
                               },
                               [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
                                 auto* x = static_cast<State*>(stream->data);
                                 if (n > 0) x->received.append(buf->base, static_cast<size_t>(n));
                                 if (n < 0) x->mark_closed();
                               });
                           st->send_step();
                           uv_timer_start(
                               &st->timer,
                               [](uv_timer_t* t) { static_cast<State*>(t->data)->send_step(); },
                               st->interval_ms, st->interval_ms);
                         });
  if (r < 0) s->mark_closed();
}

TrickleClient::~TrickleClient() { close(); }

std::vector<std::string> TrickleClient::split(const std::string& data, size_t step_bytes) {
  std::vector<std::string> out;
  for (size_t i = 0; i < data.size(); i += step_bytes) out.push_back(data.substr(i, step_bytes));
  return out;
}

bool TrickleClient::connected() const { return state_->connected; }
bool TrickleClient::closed() const { return state_->closed; }
const std::string& TrickleClient::received() const { return state_->received; }
size_t TrickleClient::steps_sent() const { return state_->next; }
bool TrickleClient::all_sent() const { return state_->next >= state_->steps.size(); }
uint64_t TrickleClient::first_step_ms() const { return state_->first_step_ms; }
uint64_t TrickleClient::closed_ms() const { return state_->closed_ms; }

void TrickleClient::close() {
  if (state_ == nullptr) return;
  state_->closed = true;
  state_->close_handles();
  state_ = nullptr;  // freed by the close callbacks
}

}  // namespace qp::http::test
