// Splitting a worker's CHUNKS batch (common/protocol/chunk_batch.h) per
// frontend: pure functions, no I/O (Broker::handle_worker_chunks does the
// lookups' side effects and the sending; tests/unit/broker/chunk_split_test.cc
// and the fuzz target tests/fuzz/chunk_batch.cc check them).
//
//   ChunkRoutes routes;                       // reused between batches
//   route_chunk_batch(body, lookup, &routes); // lookup(request_id) -> frontend or null
//   if (routes.whole) forward the message as received to *routes.entries[0].frontend;
//   else split_chunk_routes(&routes, [](const std::string& frontend, std::string_view batch)
//   {...});
//
// Only request ids are read; bodies are never decoded. An entry whose lookup
// gives null is dropped; a malformed tail (a truncated entry) is dropped too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/chunk_batch.h"

namespace qp::broker {

struct ChunkRoute {
  const std::string* frontend;  // null once its bytes went out with an earlier batch
  std::string_view bytes;       // the whole entry as encoded (a view into the batch)
};

struct ChunkRoutes {
  std::vector<ChunkRoute> entries;  // the routed entries, in batch order
  bool malformed = false;           // the batch had a truncated entry (reported by the caller)
  // Every entry of the batch goes to the same frontend, none was dropped and
  // the batch is well-formed: the message can be forwarded as received.
  bool whole = false;
};

// Reads `batch`, asking `lookup(request_id)` for each entry's frontend
// (`const std::string*`, null to drop the entry). Frontends compare by value.
template <class Lookup>
void route_chunk_batch(std::string_view batch, Lookup&& lookup, ChunkRoutes* out) {
  out->entries.clear();
  out->whole = true;
  protocol::ChunkBatchReader reader(batch);
  protocol::ChunkEntry entry;
  while (reader.next(&entry)) {
    const std::string* frontend = lookup(entry.request_id);
    if (frontend == nullptr) {
      out->whole = false;
      continue;
    }
    if (!out->entries.empty() && *out->entries.front().frontend != *frontend) out->whole = false;
    out->entries.push_back(ChunkRoute{frontend, entry.bytes});
  }
  out->malformed = reader.malformed();
  if (out->malformed || out->entries.empty()) out->whole = false;
}

// One batch per frontend, in the order of each frontend's first entry;
// entries keep their order within a frontend's batch (bytes copied, bodies
// not decoded). Calls emit(const std::string& frontend, std::string_view
// batch); the batch is valid during the call. Consumes `routes->entries`
// (their frontends are nulled as they go out).
template <class Emit>
void split_chunk_routes(ChunkRoutes* routes, Emit&& emit) {
  auto& r = routes->entries;
  std::string batch;
  for (size_t i = 0; i < r.size(); ++i) {
    const std::string* frontend = r[i].frontend;
    if (frontend == nullptr) continue;  // sent with an earlier frontend's batch
    batch.clear();
    for (size_t j = i; j < r.size(); ++j) {
      if (r[j].frontend == nullptr || *r[j].frontend != *frontend) continue;
      batch.append(r[j].bytes);
      if (j != i) r[j].frontend = nullptr;
    }
    r[i].frontend = nullptr;
    emit(*frontend, std::string_view(batch));
  }
}

}  // namespace qp::broker
