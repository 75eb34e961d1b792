// CHUNKS batches (common/protocol/chunk_batch.h): layout, golden bytes,
// reading without copies, and malformed input.
#include "common/protocol/chunk_batch.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/protocol/codec.h"
#include "common/protocol/messages.h"

using namespace qp::protocol;

namespace {

std::vector<std::pair<std::string, std::string>> read_all(std::string_view batch, bool* malformed) {
  std::vector<std::pair<std::string, std::string>> out;
  ChunkBatchReader r(batch);
  ChunkEntry e;
  while (r.next(&e)) out.emplace_back(e.request_id, e.body);
  *malformed = r.malformed();
  return out;
}

std::string hex(std::string_view s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

}  // namespace

TEST_CASE("a batch entry is id length, id, big-endian body length, body", "[protocol][chunks]") {
  std::string batch;
  REQUIRE(append_chunk_entry(&batch, "r1", "abc"));
  CHECK(hex(batch) ==
        "02"
        "7231"
        "00000003"
        "616263");
  REQUIRE(append_chunk_entry(&batch, "", ""));  // empty id and body are representable
  CHECK(hex(batch) ==
        "0272310000000361626300"
        "00000000");
}

TEST_CASE("a batch of encoded chunks matches its golden bytes and reads back",
          "[protocol][chunks]") {
  JobChunk a;
  a.content = "Hel";
  a.account = "alice";
  JobChunk b;
  b.reasoning = "thinking";
  std::string batch;
  REQUIRE(append_chunk_entry(&batch, "req-1", encode(a)));
  REQUIRE(append_chunk_entry(&batch, "req-2", encode(b)));
  REQUIRE(append_chunk_entry(&batch, "req-1", encode(JobChunk{"lo", "", {}, ""})));
  // The request id is in each entry only, never repeated inside its body.
  CHECK(batch.find("request_id") == std::string::npos);

  const std::string path = std::string(QP_TESTDATA_DIR) + "/protocol/chunk_batch.hex";
  if (std::getenv("QP_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << hex(batch) << "\n";
  std::ifstream in(path);
  std::string golden;
  in >> golden;
  CHECK(hex(batch) == golden);

  bool malformed = true;
  auto entries = read_all(batch, &malformed);
  CHECK_FALSE(malformed);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].first == "req-1");
  CHECK(entries[1].first == "req-2");
  JobChunk got;
  REQUIRE(decode(entries[0].second, &got).ok());
  CHECK(got.content == "Hel");
  CHECK(got.account == "alice");
  REQUIRE(decode(entries[1].second, &got).ok());
  CHECK(got.reasoning == "thinking");
  REQUIRE(decode(entries[2].second, &got).ok());
  CHECK(got.content == "lo");
}

TEST_CASE("entries are views into the batch and can be copied whole", "[protocol][chunks]") {
  std::string batch;
  REQUIRE(append_chunk_entry(&batch, "x", "1"));
  REQUIRE(append_chunk_entry(&batch, "yy", "22"));
  ChunkBatchReader r(batch);
  ChunkEntry e;
  REQUIRE(r.next(&e));
  CHECK(e.body.data() >= batch.data());
  CHECK(e.body.data() < batch.data() + batch.size());
  std::string copy(e.bytes);
  REQUIRE(r.next(&e));
  copy.append(e.bytes);
  CHECK(copy == batch);  // the entries' bytes tile the batch exactly
  CHECK_FALSE(r.next(&e));
  CHECK_FALSE(r.malformed());
}

TEST_CASE("a truncated or lying batch is malformed, never read past its end",
          "[protocol][chunks]") {
  std::string batch;
  REQUIRE(append_chunk_entry(&batch, "req-1", "body-bytes"));
  REQUIRE(append_chunk_entry(&batch, "req-2", "more"));
  for (size_t cut = 1; cut < batch.size(); ++cut) {
    bool malformed = false;
    auto entries = read_all(std::string_view(batch).substr(0, cut), &malformed);
    const size_t first_end = 1 + 5 + 4 + 10;
    if (cut == first_end) {
      CHECK_FALSE(malformed);  // a whole first entry is a valid batch of one
      CHECK(entries.size() == 1);
    } else {
      CHECK(malformed);
      CHECK(entries.size() == (cut > first_end ? 1u : 0u));
    }
  }
  // A body length far beyond the frame.
  std::string lying = std::string("\x01r\xff\xff\xff\xff", 6) + "abc";
  bool malformed = false;
  CHECK(read_all(lying, &malformed).empty());
  CHECK(malformed);
}

TEST_CASE("an id longer than an entry can say is refused", "[protocol][chunks]") {
  std::string batch = "keep";
  CHECK_FALSE(append_chunk_entry(&batch, std::string(kMaxBatchRequestId + 1, 'r'), "b"));
  CHECK(batch == "keep");
  CHECK(append_chunk_entry(&batch, std::string(kMaxBatchRequestId, 'r'), "b"));
}

TEST_CASE("a batch from an older worker, whose bodies still carry request_id, reads back",
          "[protocol][chunks][compat]") {
  // chunk_batch_with_request_id.hex: the golden batch as workers built it
  // before JobChunk dropped its request_id (messages.h).
  std::ifstream in(std::string(QP_TESTDATA_DIR) + "/protocol/chunk_batch_with_request_id.hex");
  std::string h;
  in >> h;
  std::string batch;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    batch.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  REQUIRE(batch.find("request_id") != std::string::npos);
  bool malformed = true;
  auto entries = read_all(batch, &malformed);
  CHECK_FALSE(malformed);
  REQUIRE(entries.size() == 3);
  JobChunk got;
  REQUIRE(decode(entries[0].second, &got).ok());
  CHECK(entries[0].first == "req-1");
  CHECK(got.content == "Hel");
  CHECK(got.account == "alice");
  REQUIRE(decode(entries[1].second, &got).ok());
  CHECK(entries[1].first == "req-2");
  CHECK(got.reasoning == "thinking");
  CHECK(got.account.empty());
  REQUIRE(decode(entries[2].second, &got).ok());
  CHECK(got.content == "lo");
}
