// Registers `qwenproxy account import|list|status` on the `qwenproxy`
// command line (tools/launcher/cli.cc calls this).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace qp::account_tool {

// Adds the `account` subcommand. When one of its verbs is parsed, *action is
// set to run it (returns the exit code, commands.h).
void add_account_command(CLI::App& app, std::function<int()>* action);

}  // namespace qp::account_tool
