#include "common/process.h"

#include <sys/stat.h>

#include <csignal>
#include <cstdio>

#include "common/fs.h"
#include "common/log.h"

namespace qp::process {

std::optional<Config> start(std::string_view name, const std::string& config_path,
                            const StartOptions& options, int* exit_code) {
  log::init(name);
  std::signal(SIGPIPE, SIG_IGN);
  ::umask(077);
  auto fail = [&](const std::string& message) -> std::optional<Config> {
    std::string event = std::string(name) + ".config_error";
    QP_ERROR(event).kv("error", message);
    std::fprintf(stderr, "qp-%.*s: %s\n", static_cast<int>(name.size()), name.data(),
                 message.c_str());
    *exit_code = kExitConfig;
    return std::nullopt;
  };
  auto config = load_config(config_path);
  if (!config) return fail(config.error().message());
  for (const std::string* ep :
       {&config->broker.frontend_endpoint, &config->broker.worker_endpoint}) {
    if (Status s = fs::ensure_ipc_directory(*ep); !s.ok()) return fail(s.message());
  }
  if (options.uses_state_dir && !config->state_dir.empty()) {
    if (Status s = fs::ensure_private_dir(config->state_dir); !s.ok()) return fail(s.message());
  }
  *exit_code = kExitOk;
  return std::move(config.value());
}

}  // namespace qp::process
