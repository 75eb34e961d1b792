#include "tools/account/cli.h"

#include <memory>

#include <CLI/CLI.hpp>

#include "tools/account/commands.h"

namespace qp::account_tool {

void add_account_command(CLI::App& app, std::function<int()>* action) {
  CLI::App* account = app.add_subcommand(
      "account", "Manage Qwen accounts: import credentials from the browser, list, status");
  account->require_subcommand(1);

  auto imp = std::make_shared<ImportOptions>();
  CLI::App* import = account->add_subcommand(
      "import",
      "Write account NAME's file from a \"Copy as cURL\" command, a Cookie header or a HAR file");
  import->add_option("NAME", imp->name, "Account name (the file is DIR/NAME.toml)")->required();
  import->add_option("--from", imp->from, "Read this file instead of stdin ('-' = stdin)");
  import->add_option("--format", imp->format, "Input format")
      ->check(CLI::IsMember({"auto", "curl", "cookie", "har", "env"}));
  import->add_option("--dir", imp->dir, "Accounts directory (default: from the configuration)");
  import->add_option("--config", imp->config_path, "TOML config file");
  import->add_flag("--force", imp->force,
                   "Replace an existing file (keeps its email, password, proxy and capacity)");
  import->callback([action, imp] { *action = [imp] { return run_import(*imp);
};
}  // namespace qp::account_tool
);

auto lst = std::make_shared<ListOptions>();
CLI::App* list = account->add_subcommand(
    "list", "Show every configured account: valid or not, time to token expiry (offline)");
list->add_option("--dir", lst->dir, "Accounts directory (default: from the configuration)");
list->add_option("--config", lst->config_path, "TOML config file");
list->callback([action, lst] { *action = [lst] { return run_list(*lst); }; });

auto st = std::make_shared<StatusOptions>();
CLI::App* status = account->add_subcommand(
    "status", "Ask the running service (GET /health): each account's health, load and expiry");
status->add_option("--url", st->url,
                   "Service address, e.g. http://127.0.0.1:8080 (default: what `qwenproxy "
                   "up` recorded, else frontend.host/port from the configuration)");
status->add_option("--config", st->config_path, "TOML config file");
status->add_option("--timeout-ms", st->timeout_ms, "Give up after this long");
status->callback([action, st] { *action = [st] { return run_status(*st); }; });

auto syn = std::make_shared<SyncUnitsOptions>();
CLI::App* sync_units = account->add_subcommand(
    "sync-units",
    "systemd: start qwenproxy-worker@NAME for each account file, stop those whose file is gone");
sync_units->add_option("--dir", syn->dir, "Accounts directory (default: from the configuration)");
sync_units->add_option("--config", syn->config_path, "TOML config file");
sync_units->add_flag("--dry-run", syn->dry_run, "Print what would change, change nothing");
sync_units->callback([action, syn] { *action = [syn] { return run_sync_units(*syn); }; });
}

}  // namespace qp::account_tool
