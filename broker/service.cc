#include "broker/service.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <memory>
#include <utility>

#include <uv.h>
#include <zmq.hpp>

#include "broker/broker.h"
#include "broker/session_store.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/uv/handle.h"

namespace qp::broker {
namespace {

// Signal and watchdog handles; their `data` points here, so not movable.
class Supervisor {
 public:
  Supervisor(uv_loop_t* loop, Broker* broker) : loop_(loop), broker_(broker) {}
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void start() {
    for (auto [handle, signum] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}}) {
      uv_signal_init(loop_, handle->get());
      handle->get()->data = this;
      uv_signal_start(
          handle->get(),
          [](uv_signal_t* h, int sig) {
            auto* self = static_cast<Supervisor*>(h->data);
            if (self == nullptr) return;
            try {
              self->shutdown(sig);
            } catch (...) {
              QP_ERROR("broker.exception").kv("in", "signal");
            }
          },
          signum);
    }
    uint64_t interval_ms = notify::watchdog_interval_ms();
    if (interval_ms > 0) {
      uint64_t every_ms = std::max<uint64_t>(interval_ms / 2, 1);
      uv_timer_init(loop_, watchdog_.get());
      uv_timer_start(
          watchdog_.get(), [](uv_timer_t*) { notify::watchdog(); }, every_ms, every_ms);
    }
  }

  void shutdown(int signum) {
    QP_INFO("broker.signal").kv("signal", signum == SIGINT ? "SIGINT" : "SIGTERM");
    notify::stopping();
    broker_->stop();
    close();
  }

  void close() {
    sigint_.reset();
    sigterm_.reset();
    watchdog_.reset();
  }

 private:
  uv_loop_t* loop_;
  Broker* broker_;
  uv::Signal sigint_;
  uv::Signal sigterm_;
  uv::Timer watchdog_;
};

// The conversation index; its directory is created (private) if missing.
std::unique_ptr<SessionStore> open_sessions(const Config& config) {
  const std::string& path = config.sessions.db_path;
  if (path != ":memory:") {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (!ec) {
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
      }
    }
  }
  return SessionStore::open(path, config.sessions.ttl_ms, config.sessions.max_entries);
}

}  // namespace

int run_service(const Config& config) {
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop); r != 0) {
    QP_ERROR("broker.start_failed").kv("error", std::string("uv_loop_init: ") + uv_strerror(r));
    return 1;
  }
  int rc = 0;
  {
    std::unique_ptr<SessionStore> sessions = open_sessions(config);
    zmq::context_t context;  // declared first: the sockets die before it
    Broker broker(&loop, context, config.broker, {}, sessions.get());
    if (!config.state_dir.empty() && fs::make_dirs(config.state_dir).ok())
      broker.set_drain_file(config.state_dir + "/drained-accounts");
    Status s = broker.start();
    if (!s.ok()) {
      QP_ERROR("broker.start_failed").kv("error", s.message());
      rc = 1;
    } else {
      Supervisor supervisor(&loop, &broker);
      supervisor.start();
      notify::ready("routing: frontends on " + broker.frontend_endpoint() + ", workers on " +
                    broker.worker_endpoint());
      uv_run(&loop, UV_RUN_DEFAULT);
      supervisor.close();
    }
    broker.stop();
  }  // the context waits (up to the stop linger) for the goodbye messages
  if (int r = uv::close_loop(&loop); r != 0) {
    QP_ERROR("broker.loop_not_closed").kv("error", uv_strerror(r));
    return 1;
  }
  QP_INFO("broker.exit").kv("code", rc);
  return rc;
}

}  // namespace qp::broker
