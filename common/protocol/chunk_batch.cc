#include "common/protocol/chunk_batch.h"

namespace qp::protocol {
namespace {
constexpr size_t kBodyLenBytes = 4;
}

bool append_chunk_entry(std::string* batch, std::string_view request_id, std::string_view body) {
  if (request_id.size() > kMaxBatchRequestId || body.size() > UINT32_MAX) return false;
  const auto len = static_cast<uint32_t>(body.size());
  const char head[1] = {static_cast<char>(request_id.size())};
  const char size[kBodyLenBytes] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                                    static_cast<char>(len >> 8), static_cast<char>(len)};
  batch->reserve(batch->size() + 1 + request_id.size() + kBodyLenBytes + body.size());
  batch->append(head, 1);
  batch->append(request_id);
  batch->append(size, kBodyLenBytes);
  batch->append(body);
  return true;
}

bool ChunkBatchReader::next(ChunkEntry* out) {
  if (rest_.empty() || malformed_) return false;
  const std::string_view start = rest_;
  const size_t id_len = static_cast<uint8_t>(rest_[0]);
  if (rest_.size() < 1 + id_len + kBodyLenBytes) {
    malformed_ = true;
    return false;
  }
  out->request_id = rest_.substr(1, id_len);
  const auto* p = reinterpret_cast<const unsigned char*>(rest_.data() + 1 + id_len);
  const size_t body_len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
  const size_t head = 1 + id_len + kBodyLenBytes;
  if (rest_.size() - head < body_len) {
    malformed_ = true;
    return false;
  }
  out->body = rest_.substr(head, body_len);
  out->bytes = start.substr(0, head + body_len);
  rest_.remove_prefix(head + body_len);
  return true;
}

}  // namespace qp::protocol
