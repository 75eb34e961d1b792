// State shared by http::Server and its connections (internal to common/http).
// Owned by Server::Impl; used on the loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/http/body_budget.h"
#include "common/http/server.h"
#include "common/uv/end_of_turn.h"
#include "common/uv/handle.h"

namespace qp::http {

class Connection;

struct ServerContext {
  // Every read is consumed synchronously in its callback, so one buffer
  // serves all connections of the loop (as Node does).
  static constexpr size_t kReadBufferSize = 64 * 1024;

  uv_loop_t* loop = nullptr;
  Server* server = nullptr;  // to build Exchange values for the handler
  ServerOptions options;
  Server::Handler handler;
  // Open or finishing connections by id; a connection leaves this map when it
  // starts closing, and is freed later in its close callbacks.
  std::unordered_map<uint64_t, Connection*> connections;
  // Active exchange id -> its connection. Exchange methods look up here, so a
  // stale Exchange finds nothing and does nothing.
  std::unordered_map<uint64_t, Connection*> exchanges;
  uint64_t next_connection_id = 1;
  uint64_t next_exchange_id = 1;
  bool closing = false;   // Server::close() ran
  bool draining = false;  // Server::stop_accepting() ran: close after each response
  BodyBudget body_budget;
  // Admitted connections per client address key (Connection::address_key).
  std::unordered_map<std::string, size_t> per_address;

  // A warning that is logged at most once per interval.
  struct Throttle {
    uint64_t last_ms = 0;
    uint64_t suppressed = 0;
    bool logged = false;
  };
  static constexpr uint64_t kLogIntervalMs = 10'000;
  Throttle too_many_connections_log;
  Throttle per_address_log;
  Throttle body_budget_log;
  Throttle timeout_log;
  // True if an event of `t` should be logged now; then *suppressed is how
  // many were not logged since the last one.
  bool throttle(Throttle* t, uint64_t* suppressed);
  // Forgets one admitted connection of `key`.
  void release_address(const std::string& key);

  std::unique_ptr<char[]> read_buffer = std::make_unique<char[]>(kReadBufferSize);
  // Connections with work to resume on the next loop iteration (see
  // Connection::defer); drained by an idle handle created on first use.
  std::vector<uint64_t> deferred;
  qp::uv::Idle idle;

  // Connections with streamed body bytes waiting to be written (see
  // Connection::write): written once at the end of the loop turn, so every
  // chunk that became ready in one turn leaves in one write, and a lone chunk
  // leaves in the turn it arrived in.
  std::vector<uint64_t> flushes;
  std::vector<uint64_t> flushing;  // swapped with `flushes` while writing (capacity kept)
  qp::uv::EndOfTurn flush_turn;
  void run_flushes();

  // options.error_body, or the default JSON body; never throws.
  std::string error_body(int status, std::string_view message) const;
  // Runs Connection::run_deferred() for connection `id` on the next loop iteration.
  void defer(uint64_t id);
  // Has Connection::flush_output() run for connection `id` at the end of this loop turn.
  void schedule_flush(uint64_t id);
  // Stops deferred work and pending flushes, and closes their handles (Server::close()).
  void stop_deferred();
};

}  // namespace qp::http
