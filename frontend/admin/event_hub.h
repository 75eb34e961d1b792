// Fan-out of the admin API's server-sent events (GET /admin/v1/events) to
// its subscribers. Each event is formatted once and written to every
// subscriber. Bounded: a subscriber whose unsent backlog exceeds
// `max_backlog_bytes` (a client that stopped reading) is closed and dropped,
// so a slow console never grows the frontend's memory.
//
// Pure with respect to I/O: subscribers are EventSinks (admin_api.cc wraps
// an http::Exchange). Single-threaded. A sink is never called after it has
// been removed; close() is called once, by the hub, when it drops a sink.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace qp::frontend::admin {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues bytes; false if the peer is gone.
  virtual bool send(std::string data) = 0;
  // Bytes queued and not yet taken by the kernel.
  virtual size_t backlog() const = 0;
  // Ends the stream (the hub dropped the sink).
  virtual void close() = 0;
};

class EventHub {
 public:
  explicit EventHub(size_t max_backlog_bytes = 1 << 20) : max_backlog_(max_backlog_bytes) {}

  // Adds a subscriber and sends it `first` (e.g. the hello event) at once.
  // Returns its id for remove().
  uint64_t add(std::unique_ptr<EventSink> sink, std::string first);
  // Drops a subscriber without calling close() (its client went away).
  void remove(uint64_t id) { sinks_.erase(id); }
  // `event: type` with `json` as data, to every subscriber.
  void publish(std::string_view type, std::string_view json);
  // A `: ping` comment (keeps proxies from timing the stream out).
  void ping();
  // Closes every subscriber (shutdown).
  void close_all();
  size_t size() const { return sinks_.size(); }
  bool empty() const { return sinks_.empty(); }

 private:
  void broadcast(const std::string& bytes);
  size_t max_backlog_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<EventSink>> sinks_;
  std::string buf_;
};

}  // namespace qp::frontend::admin
