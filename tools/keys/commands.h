// `qwenproxy keys add|list|revoke`: manage client API keys in the keys file
// (frontend.keys_file; docs/configuration.md, "Client keys"). The running
// frontend picks every change up by itself.
//
// Which configuration: --config, else $QP_CONFIG, else the system one
// (/etc/qwenproxy/qwenproxy.toml) if it exists, else none. Which file:
// --file, else the configuration's frontend.keys_file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qp::keys_tool {

struct KeysOptions {
  std::string config_path;
  std::string file;
  std::string name;
  uint64_t rpm = 0;
  uint64_t tpm = 0;
  uint64_t concurrency = 0;
  std::vector<std::string> models;
};

// Prints the new key once (stdout), then writes the file. 0 ok, 1 problem, 2 usage.
int run_add(const KeysOptions& o);
// Names, ids, limits, creation time; never a key or hash.
int run_list(const KeysOptions& o);
int run_revoke(const KeysOptions& o);

// Adds the `keys` subcommand to the `qwenproxy` command line.
void add_keys_command(CLI::App& app, std::function<int()>* action);

}  // namespace qp::keys_tool
