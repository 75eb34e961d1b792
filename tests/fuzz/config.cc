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

const std::string& config_path() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/qp-fuzz-config-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) fuzz::fail("mkdtemp");
    std::string d = dir;
    std::atexit([] {
      std::remove(config_path().c_str());
      ::rmdir(config_path().substr(0, config_path().rfind('/')).c_str());
    });
    return d + "/qwenproxy.toml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    std::FILE* f = std::fopen(config_path().c_str(), "wb");
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
