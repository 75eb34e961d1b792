// `qwenproxy curve-keys generate NAME`: writes a CurveZMQ key pair for a
// broker, worker or frontend host (docs/deployment.md, "Remote workers"):
// DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub (the public key,
// mode 0644), in the format of common/zmq/curve_keys.h. It is not a
// subcommand of `qwenproxy keys`, which manages client API keys: the two
// kinds of key have nothing in common but the word.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace qp::keys_tool {

struct CurveKeysOptions {
  std::string name;
  std::string dir = ".";
  bool force = false;  // replace existing files
};

// Prints the two paths, the public key and its fingerprint. 0 ok, 1 problem, 2 usage.
int run_curve_generate(const CurveKeysOptions& o);

void add_curve_keys_command(CLI::App& app, std::function<int()>* action);

}  // namespace qp::keys_tool
