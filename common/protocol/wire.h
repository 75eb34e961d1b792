// Wire protocol between frontend, broker and workers (our Majordomo "mdp.h").
//
// Every message is a ZeroMQ multipart message of four frames:
//
//   +---------+---------+------------+------------------+
//   | version | command | request_id | body (MessagePack)|
//   | "QP01"  | 1 byte  | utf-8/empty| map, see codec.h  |
//   +---------+---------+------------+------------------+
//
// A ROUTER socket prepends the peer's routing id as frame 0 on receive and
// consumes it on send. The request id travels in its own frame so the broker
// can route chunks without decoding the body (per-chunk hot path).
//
// Sockets: the broker binds two ROUTERs, one for frontends (DEALER) and one
// for workers (DEALER). See docs/architecture.md for the message flow.
#pragma once

#include <cstdint>
#include <string_view>

namespace qp::protocol {

inline constexpr std::string_view kVersion = "QP01";

// Explicit values; never renumber or reuse one.
enum class Command : uint8_t {
  kReady = 1,       // worker -> broker: WorkerStatus; registers the worker
  kHeartbeat = 2,   // worker <-> broker (WorkerStatus / BrokerStatus),
                    // frontend <-> broker (PeerHello / BrokerStatus)
  kJob = 3,         // frontend -> broker -> worker: JobRequest
  kChunk = 4,       // worker -> broker -> frontend: JobChunk
  kDone = 5,        // worker -> broker -> frontend: JobDone (last message of a job)
  kError = 6,       // any -> frontend: JobError (last message of a job)
  kCancel = 7,      // frontend -> broker -> worker: Cancel
  kDisconnect = 8,  // broker -> worker or worker -> broker: leave; peer forgets the sender
  kModels = 9,      // worker -> broker -> frontend: ModelList (last message of a list job)
  kAdmin = 10,      // frontend -> broker: AdminCommand (drain/resume an account);
                    // broker -> worker: AdminCommand (reload). Peers without it drop it.
};

inline constexpr uint8_t kMaxCommand = 10;

// Liveness: a peer that sent nothing for kLiveness heartbeat intervals is dead.
inline constexpr uint64_t kDefaultHeartbeatIntervalMs = 1000;
inline constexpr int kLiveness = 3;

std::string_view command_name(Command c);

}  // namespace qp::protocol
