// MessagePack encoding of the message bodies. The only file that includes
// msgpack. Decoding never throws and never crashes: garbage, truncated input,
// wrong types and unknown keys are handled (unknown keys are ignored, wrong
// types are errors).
#pragma once

#include <string>
#include <string_view>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace qp::protocol {

// Appends the encoding of `m` to *out (out is cleared first).
void encode(const JobRequest& m, std::string* out);
void encode(const JobChunk& m, std::string* out);
void encode(const JobDone& m, std::string* out);
void encode(const JobError& m, std::string* out);
void encode(const Cancel& m, std::string* out);
void encode(const WorkerStatus& m, std::string* out);
void encode(const PeerHello& m, std::string* out);
void encode(const BrokerStatus& m, std::string* out);
void encode(const ModelList& m, std::string* out);
void encode(const AdminCommand& m, std::string* out);
void encode(const JobRoute& m, std::string* out);
void encode(const Continuation& m, std::string* out);
void encode(const SessionUpdate& m, std::string* out);

Status decode(std::string_view body, JobRequest* out);
Status decode(std::string_view body, JobChunk* out);
Status decode(std::string_view body, JobDone* out);
Status decode(std::string_view body, JobError* out);
Status decode(std::string_view body, Cancel* out);
Status decode(std::string_view body, WorkerStatus* out);
Status decode(std::string_view body, PeerHello* out);
Status decode(std::string_view body, BrokerStatus* out);
Status decode(std::string_view body, ModelList* out);
Status decode(std::string_view body, AdminCommand* out);
Status decode(std::string_view body, JobRoute* out);
Status decode(std::string_view body, Continuation* out);
Status decode(std::string_view body, SessionUpdate* out);

template <typename T>
std::string encode(const T& m) {
  std::string s;
  encode(m, &s);
  return s;
}

}  // namespace qp::protocol
