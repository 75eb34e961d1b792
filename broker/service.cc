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
#include "common/uv/process_signals.h"

namespace qp::broker {
namespace {

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
      uv::ProcessSignals signals(
          &loop, {.on_stop =
                      [&](int signum) {
                        QP_INFO("broker.signal").kv("signal", uv::ProcessSignals::name(signum));
                        notify::stopping();
                        broker.stop();
                        signals.close();
                      },
                  .on_reload = {}});
      signals.start();
      notify::ready("routing: frontends on " + broker.frontend_endpoint() + ", workers on " +
                    broker.worker_endpoint());
      uv_run(&loop, UV_RUN_DEFAULT);
      signals.close();
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
