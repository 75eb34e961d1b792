// CHUNKS: many (request id, JobChunk body) pairs in one frame (wire.h).
//
// The worker collects the chunks that became ready in one loop turn into one
// batch; the broker splits a batch per frontend by reading only the request
// ids; the frontend reads the bodies as views into the received frame. The
// layout is deliberately not MessagePack, so that splitting never decodes a
// body:
//
//   entry := id_len:u8 | request_id | body_len:u32 (big-endian) | body
//   batch := entry*                       (at least one entry, no padding)
//
// `body` is an encoded JobChunk (codec.h), which does not repeat the request
// id: the entry's is the only one (a body from an older worker may still have
// a "request_id" key; the decoder skips it). Golden bytes:
// tests/testdata/protocol/chunk_batch.hex (and, the older format,
// chunk_batch_with_request_id.hex). The broker's split: broker/chunk_split.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qp::protocol {

// Largest request id an entry can carry (the frontend's ids are far shorter).
inline constexpr size_t kMaxBatchRequestId = 255;
// A worker starts a new batch once one reaches this many bytes.
inline constexpr size_t kChunkBatchTargetBytes = 64 * 1024;

// Appends one entry to `batch`. Returns false (and appends nothing) if the
// request id is longer than kMaxBatchRequestId or the body over 4 GiB.
bool append_chunk_entry(std::string* batch, std::string_view request_id, std::string_view body);

// One entry of a batch: views into the batch, valid while it lives.
struct ChunkEntry {
  std::string_view request_id;
  std::string_view body;
  std::string_view bytes;  // the whole entry as encoded (to copy it into another batch)
};

// Reads a batch entry by entry, without copying.
//   ChunkBatchReader r(frame);
//   ChunkEntry e;
//   while (r.next(&e)) ...;
//   if (r.malformed()) ...;  // a truncated entry: the rest of the batch is dropped
class ChunkBatchReader {
 public:
  explicit ChunkBatchReader(std::string_view batch) : rest_(batch) {}
  // The next entry; false at the end of the batch or at a malformed entry.
  bool next(ChunkEntry* out);
  bool malformed() const { return malformed_; }

 private:
  std::string_view rest_;
  bool malformed_ = false;
};

}  // namespace qp::protocol
