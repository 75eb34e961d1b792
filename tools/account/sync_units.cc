// `qwenproxy account sync-units`: the systemd side of "an account file
// appears → its worker runs" (docs/deployment.md, "Adding accounts from the
// console"). Compares the account files (common/accounts/account_sync.h)
// with the qwenproxy-worker@ instances systemd has active and starts or
// stops the difference through the systemd Manager D-Bus API
// (StartUnit/StopUnit, mode "replace"). Accounts configured in the config
// file itself are left alone. As root it uses systemd's private socket
// (/run/systemd/private: works without dbus-daemon), else the system bus
// (then polkit decides); $DBUS_SYSTEM_BUS_ADDRESS, when set, always wins
// (tests/integration/sync_units.test.mjs runs it against a fake manager).
#include "tools/account/sync_units.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "common/accounts/account_loader.h"
#include "common/accounts/account_sync.h"
#include "tools/account/commands.h"

namespace qp::account_tool {

std::string worker_unit(std::string_view account) {
  std::string u(kWorkerUnitPrefix);
  u.append(account).append(kWorkerUnitSuffix);
  return u;
}

std::optional<std::string> worker_unit_account(std::string_view unit) {
  if (unit.size() <= kWorkerUnitPrefix.size() + kWorkerUnitSuffix.size() ||
      unit.substr(0, kWorkerUnitPrefix.size()) != kWorkerUnitPrefix ||
      unit.substr(unit.size() - kWorkerUnitSuffix.size()) != kWorkerUnitSuffix) {
    return std::nullopt;
  }
  std::string_view name = unit.substr(
      kWorkerUnitPrefix.size(), unit.size() - kWorkerUnitPrefix.size() - kWorkerUnitSuffix.size());
  if (!accounts::valid_account_name(name)) return std::nullopt;
  return std::string(name);
}

namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

struct BusUnref {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct MsgUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using MsgPtr = std::unique_ptr<sd_bus_message, MsgUnref>;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "qwenproxy account sync-units: %s\n", message.c_str());
  return code;
}

std::string bus_error(const sd_bus_error& e, int r) {
  if (e.message != nullptr) return e.message;
  return std::strerror(-r);
}

Result<BusPtr> open_bus() {
  sd_bus* raw = nullptr;
  int r = 0;
  // An explicit system bus address (tests, unusual setups) wins.
  const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  const bool explicit_bus = address != nullptr && *address != '\0';
  if (!explicit_bus && ::geteuid() == 0 && ::access("/run/systemd/private", F_OK) == 0) {
    r = sd_bus_new(&raw);
    if (r >= 0) r = sd_bus_set_address(raw, "unix:path=/run/systemd/private");
    if (r >= 0) r = sd_bus_start(raw);
    if (r >= 0) return BusPtr(raw);
    sd_bus_unref(raw);
    raw = nullptr;
  }
  r = sd_bus_open_system(&raw);
  if (r < 0) return error(Code::kIo, std::string("cannot reach systemd: ") + std::strerror(-r));
  return BusPtr(raw);
}

// Accounts whose worker instance is active, activating or reloading.
Result<std::vector<std::string>> running_workers(sd_bus* bus) {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* call_raw = nullptr;
  int r =
      sd_bus_message_new_method_call(bus, &call_raw, kDest, kPath, kManager, "ListUnitsByPatterns");
  MsgPtr call(call_raw);
  const char* states[] = {"active", "activating", "reloading", nullptr};
  std::string pattern = std::string(kWorkerUnitPrefix) + "*" + std::string(kWorkerUnitSuffix);
  const char* patterns[] = {pattern.c_str(), nullptr};
  if (r >= 0) r = sd_bus_message_append_strv(call.get(), const_cast<char**>(states));    // NOLINT
  if (r >= 0) r = sd_bus_message_append_strv(call.get(), const_cast<char**>(patterns));  // NOLINT
  sd_bus_message* reply_raw = nullptr;
  if (r >= 0) r = sd_bus_call(bus, call.get(), 0, &err, &reply_raw);
  MsgPtr reply(reply_raw);
  if (r < 0) {
    std::string m = bus_error(err, r);
    sd_bus_error_free(&err);
    return error(Code::kIo, "cannot list the worker units: " + m);
  }
  std::vector<std::string> out;
  r = sd_bus_message_enter_container(reply.get(), 'a', "(ssssssouso)");
  while (r > 0) {
    // (name, description, load, active, sub, following, path, job id,
    // job type, job path): only the name is used.
    const char* name = nullptr;
    const char* text = nullptr;
    uint32_t job_id = 0;
    r = sd_bus_message_read(reply.get(), "(ssssssouso)", &name, &text, &text, &text, &text, &text,
                            &text, &job_id, &text, &text);
    if (r > 0 && name != nullptr) {
      if (auto account = worker_unit_account(name)) out.push_back(*account);
    }
  }
  if (r < 0) return error(Code::kIo, std::string("bad reply from systemd: ") + std::strerror(-r));
  return out;
}

Status unit_job(sd_bus* bus, const char* method, const std::string& unit) {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus, kDest, kPath, kManager, method, &err, &reply, "ss", unit.c_str(),
                             "replace");
  sd_bus_message_unref(reply);
  if (r < 0) {
    std::string m = bus_error(err, r);
    sd_bus_error_free(&err);
    return error(Code::kIo, std::string(method) + " " + unit + ": " + m);
  }
  return Status();
}

// An account file being written (write_private_file: temporary file, fsync,
// rename) is waited for: the temporary file's creation is what started this
// run (PathChanged=), an fsync before the account file is there, and the
// rename's trigger is merged into this run, so listing now would miss it
// for good. Bounded: a writer stuck longer than kWriteWaitMs is given up on.
void wait_for_writes(const std::string& dir) {
  constexpr auto kWriteWaitMs = std::chrono::milliseconds(10'000);
  constexpr auto kPollMs = std::chrono::milliseconds(20);
  const auto deadline = std::chrono::steady_clock::now() + kWriteWaitMs;
  bool said = false;
  for (;;) {
    std::vector<std::string> writes = accounts::writes_in_progress(dir);
    if (writes.empty()) return;
    if (!said) {
      std::printf("waiting for a write in progress in %s (%s)\n", dir.c_str(), writes[0].c_str());
      std::fflush(stdout);
      said = true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr,
                   "qwenproxy account sync-units: %s/%s still there after %lld ms; going on\n",
                   dir.c_str(), writes[0].c_str(), static_cast<long long>(kWriteWaitMs.count()));
      return;
    }
    std::this_thread::sleep_for(kPollMs);  // the condition above is what synchronises
  }
}

}  // namespace

int run_sync_units(const SyncUnitsOptions& o) {
  auto config = account_config(o.config_path, o.dir);
  if (!config) return fail(kExitUsage, config.error().message());
  if (config->accounts_dir.empty()) return fail(kExitUsage, "no accounts directory configured");
  auto bus = open_bus();
  if (!bus) return fail(kExitProblem, bus.error().message());
  // systemd's path unit does not trigger again for a change made while this
  // service runs (a start job for an active unit is merged), so the
  // directory is listed again after each pass, until a pass finds it as the
  // previous one did: a change during the run is then acted on here. (What
  // lands between the last listing and the exit, a few milliseconds, waits
  // for the next change or the next start of qwenproxy.target.)
  constexpr int kMaxPasses = 10;
  std::vector<std::string> previous;
  int code = kExitOk;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    wait_for_writes(config->accounts_dir);
    Status listed;
    std::vector<std::string> present =
        accounts::account_files_present(config->accounts_dir, &listed);
    if (!listed.ok()) return fail(kExitProblem, listed.message());
    std::sort(present.begin(), present.end());
    if (pass > 0 && present == previous) break;
    auto running = running_workers(bus->get());
    if (!running) return fail(kExitProblem, running.error().message());
    accounts::AccountSyncPlan plan =
        accounts::plan_account_sync(present, *running, accounts::pinned_accounts(*config));
    for (const auto& name : plan.start) {
      std::string unit = worker_unit(name);
      Status s = o.dry_run ? Status() : unit_job(bus->get(), "StartUnit", unit);
      std::printf("%s %s\n", o.dry_run ? "would start" : "start", unit.c_str());
      if (!s.ok()) code = fail(kExitProblem, s.message());
    }
    for (const auto& name : plan.stop) {
      std::string unit = worker_unit(name);
      Status s = o.dry_run ? Status() : unit_job(bus->get(), "StopUnit", unit);
      std::printf("%s %s\n", o.dry_run ? "would stop" : "stop", unit.c_str());
      if (!s.ok()) code = fail(kExitProblem, s.message());
    }
    if (plan.empty() && pass == 0)
      std::printf("workers match the account files (%zu)\n", present.size());
    if (o.dry_run) break;
    previous = std::move(present);
  }
  return code;
}

}  // namespace qp::account_tool
