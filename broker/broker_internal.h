// Helpers shared by the files that implement Broker (broker.cc and
// broker_*_side.cc, broker_jobs.cc). Not part of the broker's interface.
#pragma once

#include <string>
#include <string_view>

#include "common/protocol/wire.h"

namespace qp::broker::internal {

inline constexpr const char* kWorkerStopped =
    "the worker serving this request stopped; please retry";
inline constexpr const char* kWorkerRestarted =
    "the worker serving this request restarted; please retry";
inline constexpr const char* kShuttingDown = "the broker is shutting down; please retry";

// Routing ids are opaque bytes (libzmq's own are 5 bytes starting with 0):
// printable ones are logged as they are, others in hex.
std::string peer_name(std::string_view id);

inline const char* kind_name(protocol::JobKind kind) {
  return kind == protocol::JobKind::kListModels ? "list_models" : "chat";
}

}  // namespace qp::broker::internal
