// Fuzz target: the msgpack codec (common/protocol/codec.cc), every message
// type. The input is a message body off the wire: each type decodes it (an
// error, never a crash or throw), and whatever decodes must round-trip:
// encode → decode succeeds and re-encodes to the same bytes.
#include "common/protocol/codec.h"

#include <string>
#include <string_view>

#include "fuzz_util.h"

using namespace qp::protocol;

namespace {

template <typename T>
void check(std::string_view body, const char* name) {
  T m;
  if (!decode(body, &m).ok()) return;
  std::string once = encode(m);
  T back;
  auto st = decode(once, &back);
  if (!st.ok()) qp::fuzz::fail(name, "re-encoded message does not decode: " + st.message());
  if (encode(back) != once) qp::fuzz::fail(name, "round trip changed the bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  check<JobRequest>(body, "JobRequest");
  check<JobChunk>(body, "JobChunk");
  check<JobDone>(body, "JobDone");
  check<JobError>(body, "JobError");
  check<Cancel>(body, "Cancel");
  check<WorkerStatus>(body, "WorkerStatus");
  check<PeerHello>(body, "PeerHello");
  check<BrokerStatus>(body, "BrokerStatus");
  check<ModelList>(body, "ModelList");
  return 0;
}
