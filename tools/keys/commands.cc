#include "tools/keys/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include <CLI/CLI.hpp>

#include "common/accounts/private_file.h"
#include "common/config.h"
#include "common/keys/client_keys.h"

#ifndef QP_DEFAULT_CONFIG
#define QP_DEFAULT_CONFIG "/etc/qwenproxy/qwenproxy.toml"
#endif

namespace qp::keys_tool {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitProblem = 1;
constexpr int kExitUsage = 2;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "qwenproxy: %s\n", message.c_str());
  return code;
}

Result<std::string> keys_path(const KeysOptions& o) {
  if (!o.file.empty()) return o.file;
  std::string path = o.config_path;
  EnvLookup env = process_env();
  if (path.empty() && !env("QP_CONFIG", &path) && ::access(QP_DEFAULT_CONFIG, F_OK) == 0) {
    path = QP_DEFAULT_CONFIG;
  }
  auto config = load_config(path, env);
  if (!config) return config.error();
  return config->frontend.keys_file;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The keys in `path` (none if the file does not exist).
Result<std::vector<keys::ClientKey>> read_keys(const std::string& path, bool* exists) {
  struct stat st {};
  *exists = ::stat(path.c_str(), &st) == 0;
  if (!*exists) return std::vector<keys::ClientKey>{};
  auto text = accounts::read_private_file(path);
  if (!text) return text.error();
  return keys::parse_keys_toml(text.value(), path);
}

Status write_keys(const std::string& path, const std::vector<keys::ClientKey>& list) {
  std::string dir = dir_of(path);
  // mkdir -p: the last level private (0700), parents traversable.
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    std::string part = dir.substr(0, pos);
    if (part.empty()) continue;
    mode_t mode = pos == std::string::npos ? 0700 : 0755;
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return error(Code::kIo, "cannot create directory " + part + ": " + std::strerror(errno));
    }
  }
  accounts::WriteOptions wo;
  wo.replace = true;
  struct stat st {};
  // Under sudo the file belongs to the owner of the existing file, else of
  // the directory (the service user, after `systemd-tmpfiles --create`).
  if (::stat(path.c_str(), &st) == 0 || ::stat(dir.c_str(), &st) == 0) {
    wo.owner_uid = st.st_uid;
    wo.owner_gid = st.st_gid;
  }
  std::string text = keys::render_keys_toml(
      list,
      "qwenproxy client keys: written by `qwenproxy keys add|revoke`; only hashes of the keys.\n"
      "The frontend reloads this file when it changes. Fields: docs/configuration.md,\n"
      "section \"Client keys\". rpm, tpm, concurrency: 0 = unlimited; models: [] = all.");
  return accounts::write_private_file(path, text, wo);
}

std::string limit_text(uint64_t v) { return v == 0 ? "-" : std::to_string(v); }

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int run_add(const KeysOptions& o) {
  if (!keys::valid_key_name(o.name)) {
    return fail(kExitUsage, "invalid key name '" + o.name +
                                "': use 1 to 64 letters, digits, '-', '_' or '.' (not starting "
                                "with '.')");
  }
  auto path = keys_path(o);
  if (!path) return fail(kExitUsage, path.error().message());
  bool exists = false;
  auto list = read_keys(path.value(), &exists);
  if (!list) return fail(kExitProblem, list.error().message());
  for (const auto& k : list.value()) {
    if (k.name == o.name) {
      return fail(kExitProblem, "a key named '" + o.name + "' already exists in " + path.value() +
                                    " (revoke it first: `qwenproxy keys revoke " + o.name + "`)");
    }
  }
  keys::ClientKey k;
  k.name = o.name;
  k.rpm = o.rpm;
  k.tpm = o.tpm;
  k.concurrency = o.concurrency;
  for (const auto& m : o.models) {
    if (m.empty()) return fail(kExitUsage, "--models: empty model name");
    k.models.push_back(m);
  }
  k.created = utc_now();
  Result<std::string> key = std::string();
  for (int attempt = 0;; ++attempt) {
    key = keys::generate_key();
    if (!key) return fail(kExitProblem, key.error().message());
    k.hash = keys::hash_key(key.value());
    bool clash = false;
    for (const auto& other : list.value()) clash = clash || other.id() == k.id();
    if (!clash) break;
    if (attempt > 8) return fail(kExitProblem, "cannot make a key with a unique id");
  }
  list->push_back(k);
  if (Status s = write_keys(path.value(), list.value()); !s.ok()) {
    return fail(kExitProblem, s.message());
  }
  std::printf("%s\n", key->c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "qwenproxy: key '%s' (id %s) added to %s; the key is shown only this once.\n",
               k.name.c_str(), k.id().c_str(), path->c_str());
  return kExitOk;
}

int run_list(const KeysOptions& o) {
  auto path = keys_path(o);
  if (!path) return fail(kExitUsage, path.error().message());
  bool exists = false;
  auto list = read_keys(path.value(), &exists);
  if (!list) return fail(kExitProblem, list.error().message());
  if (!exists) {
    std::printf("no keys file at %s (only frontend.api_key, if set, is checked)\n", path->c_str());
    return kExitOk;
  }
  std::printf("%-24s %-8s %8s %10s %11s  %-20s  %s\n", "NAME", "ID", "RPM", "TPM", "CONCURRENCY",
              "CREATED", "MODELS");
  for (const auto& k : list.value()) {
    std::string models;
    for (const auto& m : k.models) models += (models.empty() ? "" : ",") + m;
    std::printf("%-24s %-8s %8s %10s %11s  %-20s  %s\n", k.name.c_str(), k.id().c_str(),
                limit_text(k.rpm).c_str(), limit_text(k.tpm).c_str(),
                limit_text(k.concurrency).c_str(), k.created.empty() ? "-" : k.created.c_str(),
                models.empty() ? "all" : models.c_str());
  }
  std::printf("%zu key(s) in %s\n", list->size(), path->c_str());
  return kExitOk;
}

int run_revoke(const KeysOptions& o) {
  auto path = keys_path(o);
  if (!path) return fail(kExitUsage, path.error().message());
  bool exists = false;
  auto list = read_keys(path.value(), &exists);
  if (!list) return fail(kExitProblem, list.error().message());
  size_t before = list->size();
  std::erase_if(list.value(), [&](const keys::ClientKey& k) { return k.name == o.name; });
  if (list->size() == before) {
    return fail(kExitProblem, "no key named '" + o.name + "' in " + path.value());
  }
  if (Status s = write_keys(path.value(), list.value()); !s.ok()) {
    return fail(kExitProblem, s.message());
  }
  std::printf("key '%s' revoked (%s)\n", o.name.c_str(), path->c_str());
  return kExitOk;
}

void add_keys_command(CLI::App& app, std::function<int()>* action) {
  CLI::App* keys = app.add_subcommand("keys", "Manage client API keys and their limits");
  keys->require_subcommand(1);
  auto common = [](CLI::App* c, KeysOptions* o) {
    c->add_option("--config", o->config_path, "TOML config file");
    c->add_option("--file", o->file, "Keys file (default: frontend.keys_file)");
  };

  auto add_o = std::make_shared<KeysOptions>();
  CLI::App* add = keys->add_subcommand("add", "Create key NAME and print it (shown only once)");
  add->add_option("NAME", add_o->name, "Key name")->required();
  add->add_option("--rpm", add_o->rpm, "Requests per minute (0 = unlimited)");
  add->add_option("--tpm", add_o->tpm, "Tokens per minute, prompt + completion (0 = unlimited)");
  add->add_option("--concurrency", add_o->concurrency, "Requests in flight (0 = unlimited)");
  add->add_option("--models", add_o->models, "Allowed models, comma-separated (default: all)")
      ->delimiter(',');
  common(add, add_o.get());
  add->callback([action, add_o] { *action = [add_o] { return run_add(*add_o); }; });

  auto list_o = std::make_shared<KeysOptions>();
  CLI::App* list = keys->add_subcommand("list", "Show every key: name, id, limits, created");
  common(list, list_o.get());
  list->callback([action, list_o] { *action = [list_o] { return run_list(*list_o); }; });

  auto rev_o = std::make_shared<KeysOptions>();
  CLI::App* rev = keys->add_subcommand("revoke", "Delete key NAME (effective at once)");
  rev->add_option("NAME", rev_o->name, "Key name")->required();
  common(rev, rev_o.get());
  rev->callback([action, rev_o] { *action = [rev_o] { return run_revoke(*rev_o); }; });
}

}  // namespace qp::keys_tool
