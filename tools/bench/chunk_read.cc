// Micro benchmark: the frontend's per-chunk read of a CHUNKS batch
// (ChunkBatchReader views, each body decoded into a reused JobChunk, as
// frontend/broker_client.cc does), for counting instructions with callgrind.
// Not part of the CMake build; docs/benchmarks.md ("Data path v2", "JobChunk
// without request_id") has the commands:
//
//   g++ -O3 -DNDEBUG -std=c++20 -DMSGPACK_DEFAULT_API_VERSION=3 -DMSGPACK_NO_BOOST -I.
//       tools/bench/chunk_read.cc build-rel/common/libqp_common.a -o /tmp/chunk_read
//   valgrind --tool=callgrind /tmp/chunk_read 0     # set-up only
//   valgrind --tool=callgrind /tmp/chunk_read 300   # + 300 reads of a 200-entry batch
//
// (Ir(300) - Ir(0)) / 60,000 is the cost per chunk. -DWITH_REQUEST_ID builds
// the bodies of workers before JobChunk dropped request_id (needs that
// commit's headers).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/protocol/messages.h"

using namespace qp::protocol;

int main(int argc, char** argv) {
  const int entries = 200;
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 1;
  const std::string rid = "0123456789abcdef01234567";  // ids::random_hex(24), the frontend's ids
  std::string batch, body;
  for (int i = 0; i < entries; ++i) {
    JobChunk c;
#ifdef WITH_REQUEST_ID
    c.request_id = rid;
#endif
    c.content = " word";  // one streamed word (the bench's content deltas)
    encode(c, &body);
    append_chunk_entry(&batch, rid, body);
  }
  JobChunk chunk;
  size_t n = 0;
  for (int r = 0; r < rounds; ++r) {
    ChunkBatchReader reader(batch);
    ChunkEntry e;
    while (reader.next(&e)) n += decode(e.body, &chunk).ok() ? chunk.content.size() : 0;
  }
  std::printf("%zu bytes per entry (body %zu), %zu content bytes read\n", batch.size() / entries,
              body.size(), n);
  return 0;
}
