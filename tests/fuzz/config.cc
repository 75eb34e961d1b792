// Fuzz target: the TOML configuration loader (common/config) and the
// account-file loader (common/accounts/account_file). The input is a
// qwenproxy.toml: it is written to a private temporary directory and loaded
// with an empty environment (load_config reads files only); the same text is
// also applied as an account file.
#include "common/config.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/accounts/account_file.h"
#include "fuzz_util.h"

using namespace qp;

namespace {

// A private directory made once, in memory (/dev/shm) where there is one:
// a file written per input on a disk file system cost most of each run's
// time. Removed at exit (plain char arrays: they outlive the atexit handlers,
// unlike a static std::string).
char g_dir[] = "/dev/shm/qp-fuzz-config-XXXXXX";
char g_file[sizeof g_dir + 32];

const char* config_path() {
  if (g_file[0] == '\0') {
    if (::mkdtemp(g_dir) == nullptr) {
      std::snprintf(g_dir, sizeof g_dir, "%s", "/tmp/qp-fuzz-config-XXXXXX");
      if (::mkdtemp(g_dir) == nullptr) fuzz::fail("mkdtemp");
    }
    std::snprintf(g_file, sizeof g_file, "%s/qwenproxy.toml", g_dir);
    std::atexit([] {
      std::remove(g_file);
      ::rmdir(g_dir);
    });
  }
  return g_file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    std::FILE* f = std::fopen(config_path(), "wb");
    if (f == nullptr) fuzz::fail("cannot write the config file");
    if (size > 0 && std::fwrite(data, 1, size, f) != size) fuzz::fail("short write");
    std::fclose(f);
  }
  const EnvLookup no_env = [](const char*, std::string*) { return false; };
  auto c = load_config(config_path(), no_env);
  if (!c && c.error().message().empty()) fuzz::fail("config error without a message");

  AccountConfig a;
  auto st = accounts::apply_account_toml(in, "fuzz.toml", &a);
  if (!st.ok() && st.message().empty()) fuzz::fail("account file error without a message");
  return 0;
}
