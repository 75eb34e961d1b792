#include "broker/zap_handler.h"

#include <sys/stat.h>

#include <cstring>

#include "common/log.h"

namespace qp::broker {
namespace {

constexpr size_t kMaxRememberedRefusals = 4096;

bool dir_mtime(const std::string& dir, timespec* out) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  *out = st.st_mtim;
  return true;
}

std::string_view frame_view(const zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

}  // namespace

ZapHandler::ZapHandler(uv_loop_t* loop, zmq::context_t& context, std::string authorized_keys_dir)
    : loop_(loop), context_(context), dir_(std::move(authorized_keys_dir)) {}

ZapHandler::~ZapHandler() { close(); }

Status ZapHandler::start() {
  if (dir_.empty()) {
    return error(Code::kInvalidArgument,
                 "CurveZMQ needs broker.authorized_keys_dir: the directory of the public keys "
                 "(NAME.pub) of the workers and frontends allowed to connect");
  }
  dir_mtime(dir_, &dir_mtime_);
  LoadedKeys loaded = load_authorized_keys(dir_);
  if (!loaded.problems.empty()) return error(Code::kInvalidArgument, loaded.problems.front());
  keys_ = std::move(loaded.keys);
  if (keys_.by_key.empty()) {
    QP_WARN("broker.no_authorized_keys")
        .kv("dir", dir_)
        .kv("hint", "no NAME.pub file: no worker or frontend can connect over tcp");
  }
  try {
    zmq::socket_t s(context_, zmq::socket_type::rep);
    s.set(zmq::sockopt::linger, 0);
    s.bind(kZapEndpoint);
    socket_ = std::make_unique<zmqx::UvSocket>(
        loop_, std::move(s), [this](zmqx::Frames&& f) { on_request(std::move(f)); });
  } catch (const zmq::error_t& e) {
    return error(Code::kIo, std::string("cannot bind the ZAP handler: ") + e.what());
  }
  if (Status s = socket_->start(); !s.ok()) return s;
  QP_INFO("broker.zap_started").kv("dir", dir_).kv("authorized_keys", keys_.by_key.size());
  return Status();
}

void ZapHandler::close() {
  if (socket_) socket_->close();
}

void ZapHandler::reload_if_changed() {
  timespec now{};
  if (!dir_mtime(dir_, &now)) return;  // gone: keep what we had, load() would log it anyway
  if (now.tv_sec == dir_mtime_.tv_sec && now.tv_nsec == dir_mtime_.tv_nsec) return;
  dir_mtime_ = now;
  LoadedKeys loaded = load_authorized_keys(dir_);
  for (const std::string& p : loaded.problems)
    QP_WARN("broker.authorized_key_problem").kv("problem", p);
  keys_ = std::move(loaded.keys);
  QP_INFO("broker.authorized_keys_reloaded")
      .kv("dir", dir_)
      .kv("authorized_keys", keys_.by_key.size());
}

bool ZapHandler::should_log_refusal(const std::string& fingerprint) {
  const auto now = static_cast<int64_t>(uv_now(loop_));
  auto it = last_refusal_log_ms_.find(fingerprint);
  if (it != last_refusal_log_ms_.end() && now - it->second < kRefusalLogIntervalMs) return false;
  if (last_refusal_log_ms_.size() >= kMaxRememberedRefusals) last_refusal_log_ms_.clear();
  last_refusal_log_ms_[fingerprint] = now;
  return true;
}

void ZapHandler::on_request(zmqx::Frames&& frames) {
  // version, request id, domain, address, routing id, mechanism, credentials...
  if (frames.size() < 6) {
    QP_WARN("broker.zap_malformed").kv("frames", static_cast<uint64_t>(frames.size()));
    // A REP socket must answer before it can read the next request.
    zmqx::Frames reply;
    for (const char* f : {"1.0", "", "500", "malformed ZAP request", "", ""})
      reply.emplace_back(f, std::strlen(f));
    socket_->send(reply);
    return;
  }
  reload_if_changed();
  const std::string_view domain = frame_view(frames[2]);
  const std::string_view address = frame_view(frames[3]);
  const std::string_view mechanism = frame_view(frames[5]);
  const std::string_view key = frames.size() > 6 ? frame_view(frames[6]) : std::string_view();
  ZapDecision d = decide_zap(keys_, mechanism, key);
  if (d.allow) {
    QP_INFO("broker.peer_authenticated")
        .kv("peer", d.peer)
        .kv("endpoint", domain)
        .kv("address", address)
        .kv("fingerprint", d.fingerprint);
  } else {
    ++refusals_;
    if (should_log_refusal(d.fingerprint)) {
      QP_WARN("broker.peer_refused")
          .kv("endpoint", domain)
          .kv("address", address)
          .kv("mechanism", mechanism)
          .kv("fingerprint", d.fingerprint)
          .kv("reason", d.status_text);
    }
  }
  zmqx::Frames reply;
  reply.reserve(6);
  reply.emplace_back("1.0", 3);
  reply.push_back(std::move(frames[1]));  // request id
  reply.emplace_back(d.status_code, std::strlen(d.status_code));
  reply.emplace_back(d.status_text.data(), d.status_text.size());
  reply.emplace_back(d.peer.data(), d.peer.size());
  reply.emplace_back();  // metadata
  socket_->send(reply);
}

}  // namespace qp::broker
