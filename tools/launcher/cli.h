// The `qwenproxy` command line (CLI11): one subcommand per verb.
//
//   qwenproxy up [--config FILE] [--bin-dir DIR]... [--demo]
//   qwenproxy version
//
// To add a verb (e.g. `account import|list`), write an add_<verb>_command()
// in cli.cc that registers a subcommand and its callback.
#pragma once

namespace qp::launcher {

// Parses argv and runs the chosen subcommand. Returns the process exit code:
// the subcommand's, or 2 for a usage error (0 for --help).
int run_cli(int argc, char** argv);

}  // namespace qp::launcher
