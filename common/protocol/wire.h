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
// Two commands carry extra frames after the body, so that the broker never
// decodes (nor re-encodes, nor copies) a job's body:
//
//   JOB   ... | body: JobRequest | ROUTE: JobRoute | [RESUME: Continuation]
//   DONE  ... | body: JobDone    | [SESSION: SessionUpdate]
//
//  - ROUTE (frontend -> broker, always; forwarded to the worker unchanged):
//    what routing needs (kind, model, history key, chat id, pinned account).
//  - RESUME (broker -> worker, only when the job continues an indexed
//    upstream chat): the worker reads it into JobRequest::resume.
//  - SESSION (worker -> broker, only when there is something to index): the
//    broker records it and removes the frame before forwarding the DONE.
// The body frame itself is forwarded as the zmq message received.
//
// CHUNKS carries many jobs' chunks in one message (chunk_batch.h): the
// request id frame is empty and the body frame is a batch of (request id,
// JobChunk) entries. Workers send the chunks that became ready in one loop
// turn as one CHUNKS; the broker forwards it whole when every entry goes to
// one frontend, else splits it per frontend by copying entries (bodies are
// never decoded). A lone CHUNK (one job) is still understood everywhere.
// A JobChunk body carries no request id: the CHUNKS entry (or the CHUNK
// envelope's request id frame) names the job. Older workers' bodies with a
// "request_id" key still decode (unknown keys are skipped), and older
// frontends decode newer bodies (a missing key keeps its default).
//
// Sockets: the broker binds two ROUTERs, one for frontends (DEALER) and one
// for workers (DEALER). See docs/architecture.md for the message flow.
#pragma once

#include <cstddef>
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
  kChunks = 11,     // worker -> broker -> frontend: a batch of JobChunks (chunk_batch.h)
};

inline constexpr uint8_t kMaxCommand = 11;
// Most frames after the body any message may have (ROUTE + RESUME).
inline constexpr size_t kMaxExtraFrames = 2;

// Liveness: a peer that sent nothing for kLiveness heartbeat intervals is dead.
inline constexpr uint64_t kDefaultHeartbeatIntervalMs = 1000;
inline constexpr int kLiveness = 3;

std::string_view command_name(Command c);

}  // namespace qp::protocol
