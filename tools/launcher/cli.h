// The `qwenproxy` command line (CLI11): one subcommand per verb.
//
//   qwenproxy up [--config FILE] [--bin-dir DIR]... [--demo]
//   qwenproxy version
//   qwenproxy account import NAME [--from FILE|-] [--format auto|curl|cookie|har|env]
//                                 [--dir DIR] [--config FILE] [--force]
//   qwenproxy account list [--dir DIR] [--config FILE]
//   qwenproxy account status [--url URL] [--config FILE] [--timeout-ms N]
//   qwenproxy keys add NAME [--rpm N] [--tpm N] [--concurrency N] [--models a,b]
//   qwenproxy keys list | keys revoke NAME      (all: [--config FILE] [--file FILE])
//
// To add a verb, write an add_<verb>_command() in cli.cc that registers a
// subcommand and its callback (the account verbs live in tools/account/cli.cc).
#pragma once

namespace qp::launcher {

// Parses argv and runs the chosen subcommand. Returns the process exit code:
// the subcommand's, or 2 for a usage error (0 for --help).
int run_cli(int argc, char** argv);

}  // namespace qp::launcher
