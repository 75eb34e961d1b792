// Fuzz target: CHUNKS batches (common/protocol/chunk_batch.h) as the frontend
// and the broker read them. The input is a batch off the wire:
//  - ChunkBatchReader terminates (every entry consumes at least 5 bytes);
//    every view it returns lies inside the input; the entries' bytes are
//    consecutive from the start; a tail it cannot read is reported as
//    malformed (and only then);
//  - append_chunk_entry() of each entry's (request id, body) reproduces the
//    consumed prefix byte for byte;
//  - each body decodes into a reused JobChunk as the frontend does (an error,
//    never a crash or throw); what decodes re-encodes and decodes again;
//  - the broker's split (broker/chunk_split.h), with destinations derived
//    from the request ids, forwards whole only a well-formed batch for one
//    frontend and otherwise gives each frontend exactly its entries, in
//    order, as a batch that reads back cleanly.
#include "common/protocol/chunk_batch.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/chunk_split.h"
#include "common/protocol/codec.h"
#include "common/protocol/messages.h"
#include "fuzz_util.h"

using namespace qp::protocol;

namespace {

bool inside(std::string_view view, std::string_view whole) {
  return view.data() >= whole.data() && view.size() <= whole.size() &&
         static_cast<size_t>(view.data() - whole.data()) <= whole.size() - view.size();
}

// Three frontends and "unknown job" (null), picked by a hash of the id.
const std::string kFrontends[3] = {"frontend-0", "frontend-1", "frontend-2"};
const std::string* destination(std::string_view rid) {
  const uint64_t h = qp::fuzz::fnv1a(rid) % 4;
  return h == 3 ? nullptr : &kFrontends[h];
}

void check_split(std::string_view batch, const std::vector<ChunkEntry>& entries, bool malformed) {
  qp::broker::ChunkRoutes routes;
  qp::broker::route_chunk_batch(batch, &destination, &routes);
  if (routes.malformed != malformed) qp::fuzz::fail("split: malformed differs from the reader's");
  // Expected: each frontend's entries, in batch order.
  std::map<std::string, std::string> want;
  std::vector<std::string> order;
  for (const ChunkEntry& e : entries) {
    const std::string* fe = destination(e.request_id);
    if (fe == nullptr) continue;
    if (want.find(*fe) == want.end()) order.push_back(*fe);
    want[*fe].append(e.bytes);
  }
  const bool dropped = [&] {
    for (const ChunkEntry& e : entries)
      if (destination(e.request_id) == nullptr) return true;
    return false;
  }();
  const bool whole = !malformed && !dropped && want.size() == 1;
  if (routes.whole != whole) qp::fuzz::fail("split: whole is wrong");
  if (whole && std::string_view(want.begin()->second) != batch) {
    qp::fuzz::fail("split: a whole batch is not the input");
  }
  std::vector<std::string> got_order;
  qp::broker::split_chunk_routes(&routes, [&](const std::string& fe, std::string_view b) {
    got_order.push_back(fe);
    auto it = want.find(fe);
    if (it == want.end() || it->second != b) qp::fuzz::fail("split: a frontend's batch is wrong");
    ChunkBatchReader r(b);
    ChunkEntry e;
    while (r.next(&e)) {
      if (destination(e.request_id) != &fe)
        qp::fuzz::fail("split: an entry went to another frontend");
    }
    if (r.malformed()) qp::fuzz::fail("split: a frontend's batch is malformed");
  });
  if (got_order != order) qp::fuzz::fail("split: frontends out of order or missing");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ChunkBatchReader reader(in);
  ChunkEntry e;
  std::vector<ChunkEntry> entries;
  std::string again;
  size_t consumed = 0;
  JobChunk chunk;  // reused, as BrokerClient::chunk_
  while (reader.next(&e)) {
    if (entries.size() > size / 5) qp::fuzz::fail("reader: more entries than the input holds");
    if (!inside(e.request_id, in) || !inside(e.body, in) || !inside(e.bytes, in))
      qp::fuzz::fail("reader: a view lies outside the input");
    if (e.bytes.data() != in.data() + consumed) qp::fuzz::fail("reader: entries not consecutive");
    if (e.bytes.size() != 1 + e.request_id.size() + 4 + e.body.size() ||
        e.request_id.data() != e.bytes.data() + 1 ||
        e.body.data() != e.bytes.data() + 1 + e.request_id.size() + 4)
      qp::fuzz::fail("reader: an entry's views do not match its layout");
    consumed += e.bytes.size();
    if (!append_chunk_entry(&again, e.request_id, e.body))
      qp::fuzz::fail("append: an entry that was read cannot be written");
    entries.push_back(e);
    if (decode(e.body, &chunk).ok()) {
      std::string once = encode(chunk);
      JobChunk back;
      if (!decode(once, &back).ok() || encode(back) != once)
        qp::fuzz::fail("decode: a decoded chunk does not round-trip");
    }
  }
  if (again != in.substr(0, consumed)) qp::fuzz::fail("append: re-encoding differs from the input");
  if (reader.malformed() != (consumed != in.size()))
    qp::fuzz::fail("reader: malformed does not match the unread tail");
  if (reader.next(&e)) qp::fuzz::fail("reader: an entry after the end");
  check_split(in, entries, reader.malformed());
  return 0;
}
