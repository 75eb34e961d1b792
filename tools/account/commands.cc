#include "tools/account/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/accounts/account_file.h"
#include "common/accounts/account_loader.h"
#include "common/accounts/private_file.h"
#include "common/config.h"
#include "common/fs.h"
#include "tools/account/http_get.h"
#include "tools/account/import.h"
#include "tools/account/import_file.h"
#include "tools/account/report.h"
#include "tools/account/time_text.h"

#ifndef QP_DEFAULT_CONFIG
#define QP_DEFAULT_CONFIG "/etc/qwenproxy/qwenproxy.toml"
#endif

namespace qp::account_tool {
namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "qwenproxy: %s\n", message.c_str());
  return code;
}

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Reads `from` ("-" = stdin) up to kMaxImportBytes.
Result<std::string> read_input(const std::string& from) {
  int fd = 0;
  if (from != "-") {
    fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error(Code::kIo, "cannot open " + from + ": " + std::strerror(errno));
  } else if (::isatty(0)) {
    std::fprintf(stderr,
                 "Paste the \"Copy as cURL\" command, Cookie header or HAR, then press Ctrl-D:\n");
  }
  std::string out;
  char buf[65536];
  Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = error(Code::kIo, "cannot read " + (from == "-" ? std::string("stdin") : from) + ": " +
                                std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxImportBytes) {
      st = error(Code::kInvalidArgument,
                 "the input is larger than " + std::to_string(kMaxImportBytes >> 20) +
                     " MiB: that is not a browser export (for a HAR, filter the network panel "
                     "by \"qwen.ai\" before exporting)");
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  if (fd != 0) ::close(fd);
  if (!st.ok()) return st;
  return out;
}

}  // namespace

// The configuration the account commands work on (see commands.h).
Result<Config> account_config(const std::string& config_path, const std::string& dir) {
  std::string path = config_path;
  EnvLookup env = process_env();
  if (path.empty() && !env("QP_CONFIG", &path) && ::access(QP_DEFAULT_CONFIG, F_OK) == 0) {
    path = QP_DEFAULT_CONFIG;
  }
  EnvLookup lookup = env;
  if (!dir.empty()) {
    lookup = [env, dir](const char* name, std::string* value) {
      if (std::strcmp(name, "QP_ACCOUNTS_DIR") == 0) {
        *value = dir;
        return true;
      }
      return env(name, value);
    };
  }
  return load_config(path, lookup);
}

int run_import(const ImportOptions& o) {
  if (!accounts::valid_account_name(o.name)) {
    return fail(kExitUsage, "invalid account name '" + o.name +
                                "': use 1 to 64 letters, digits, '-', '_' or '.' (not starting "
                                "with '.')");
  }
  auto format = parse_import_format(o.format);
  if (!format) return fail(kExitUsage, format.error().message());
  auto config = account_config(o.config_path, o.dir);
  if (!config) return fail(kExitUsage, config.error().message());
  std::string dir = config->accounts_dir;
  if (dir.empty()) {
    return fail(kExitUsage,
                "no accounts directory: pass --dir DIR, or --config FILE (accounts go to the "
                "accounts/ directory beside it), or set QP_ACCOUNTS_DIR");
  }

  auto input = read_input(o.from);
  if (!input) return fail(kExitProblem, input.error().message());
  ImportFormat f =
      format.value() == ImportFormat::kAuto ? detect_import_format(input.value()) : format.value();
  if (f != ImportFormat::kHar && input->size() > kMaxTextImportBytes) {
    return fail(kExitProblem, "the input is " + std::to_string(input->size()) +
                                  " bytes: too large for a cURL command or headers (at most " +
                                  std::to_string(kMaxTextImportBytes) +
                                  "); use --format har "
                                  "for a HAR file");
  }
  int64_t now = now_s();
  auto result = import_credentials(input.value(), f, o.name, now);
  if (!result) return fail(kExitProblem, "import failed: " + result.error().message());

  bool exists = false;
  auto written = write_imported_account(dir, o.name, &result.value(), o.force, now, &exists);
  if (!written && exists) {
    return fail(kExitProblem, accounts::account_file_path(dir, o.name) +
                                  " already exists: add --force to replace it (email, "
                                  "password, proxy and capacity are kept)");
  }
  if (!written) return fail(kExitProblem, written.error().message());
  const std::string& path = written->path;
  const std::vector<std::string>& kept = written->kept;
  print(import_summary(result.value(), path, kept, now));
  print("  next: nothing to restart: a running worker for '" + o.name +
        "' picks the new file up, and a new account's worker is started by the directory "
        "watch (qwenproxy up, or qwenproxy-accounts.path under systemd); check with "
        "`qwenproxy account list`\n");
  return kExitOk;
}

int run_list(const ListOptions& o) {
  auto config = account_config(o.config_path, o.dir);
  if (!config) return fail(kExitUsage, config.error().message());
  int64_t now = now_s();
  auto loaded = accounts::load_accounts(config.value());
  auto listing = accounts::list_account_dir(config->accounts_dir);
  print(list_text(loaded, config->accounts_dir, listing, now));
  for (const auto& a : loaded) {
    if (!account_usable(a, now)) return kExitProblem;
  }
  return kExitOk;
}

int run_status(const StatusOptions& o) {
  auto config = account_config(o.config_path, "");
  if (!config) return fail(kExitUsage, config.error().message());
  std::string url = o.url;
  if (url.empty()) {
    std::ifstream saved(config->runtime_dir + "/" + std::string(kFrontendUrlFile));
    if (saved && std::getline(saved, url)) {
      while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) url.clear();
    }
  }
  if (url.empty()) {
    std::string host = config->frontend.host;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "::1";
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    if (config->frontend.port == 0) {
      return fail(kExitUsage,
                  "frontend.port is 0 (any free port) and no running `qwenproxy up` recorded its "
                  "URL: pass --url http://HOST:PORT");
    }
    url = "http://" + host + ":" + std::to_string(config->frontend.port);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  // With a client API key configured, /health only shows the details to a
  // client that sends it.
  auto r = http_get(url + "/health", o.timeout_ms, config->frontend.api_key);
  if (!r) {
    return fail(kExitUnreachable, "cannot reach the service: " + r.error().message() +
                                      " (is it running? choose the address with --url)");
  }
  auto report = parse_health(r->body);
  if (!report) {
    return fail(kExitUnreachable, url + "/health answered HTTP " + std::to_string(r->status) +
                                      ": " + report.error().message());
  }
  std::vector<std::string> names;
  for (const auto& a : config->accounts) names.push_back(a.name);
  print(status_text(report.value(), url, names));
  return report->status == "ok" ? kExitOk : kExitProblem;
}

}  // namespace qp::account_tool
