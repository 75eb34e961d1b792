// A stand-in for systemd's D-Bus Manager, for `qwenproxy account
// sync-units` tests (tests/integration/sync_units.test.mjs). It connects to
// the bus in $DBUS_SYSTEM_BUS_ADDRESS (a private dbus-daemon), takes the
// name org.freedesktop.systemd1 and implements just ListUnitsByPatterns,
// StartUnit and StopUnit over a set of "active" unit names:
//
//   fake_systemd_manager UNIT...     the units active at start
//
// It prints "ready" once it owns the name, then one line per call:
// "StartUnit NAME MODE" / "StopUnit NAME MODE" (and keeps the set up to
// date). Exits when the bus goes away.
#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

namespace {

std::set<std::string> g_active;

int list_units(sd_bus_message* m, void*, sd_bus_error*) {
  char** states = nullptr;
  char** patterns = nullptr;
  int r = sd_bus_message_read_strv(m, &states);
  if (r >= 0) r = sd_bus_message_read_strv(m, &patterns);
  std::string pattern = patterns != nullptr && patterns[0] != nullptr ? patterns[0] : "";
  for (char** v : {states, patterns}) {
    for (char** p = v; p != nullptr && *p != nullptr; ++p) free(*p);  // NOLINT
    free(v);                                                          // NOLINT
  }
  if (r < 0) return r;
  std::printf("ListUnitsByPatterns %s\n", pattern.c_str());
  std::fflush(stdout);
  sd_bus_message* reply = nullptr;
  r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
  for (const auto& name : g_active) {
    if (r < 0) break;
    r = sd_bus_message_append(reply, "(ssssssouso)", name.c_str(), "fake", "loaded", "active",
                              "running", "", "/org/freedesktop/systemd1/unit/fake", 0u, "", "/");
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

int unit_job(sd_bus_message* m, const char* method, bool start) {
  const char* name = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  std::printf("%s %s %s\n", method, name, mode);
  std::fflush(stdout);
  if (start) {
    g_active.insert(name);
  } else {
    g_active.erase(name);
  }
  return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/1");
}

int start_unit(sd_bus_message* m, void*, sd_bus_error*) { return unit_job(m, "StartUnit", true); }
int stop_unit(sd_bus_message* m, void*, sd_bus_error*) { return unit_job(m, "StopUnit", false); }

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", list_units,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartUnit", "ss", "o", start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopUnit", "ss", "o", stop_unit, SD_BUS_VTABLE_UNPRIVILEGED), SD_BUS_VTABLE_END};

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) g_active.insert(argv[i]);
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0) {
    std::fprintf(stderr, "fake_systemd_manager: bus: %s\n", std::strerror(-r));
    return 1;
  }
  r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", kVtable, nullptr);
  if (r >= 0) r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
  if (r < 0) {
    std::fprintf(stderr, "fake_systemd_manager: %s\n", std::strerror(-r));
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    r = sd_bus_process(bus, nullptr);
    if (r < 0) break;
    if (r > 0) continue;
    if (sd_bus_wait(bus, UINT64_MAX) < 0) break;
  }
  sd_bus_flush_close_unref(bus);
  return 0;
}
