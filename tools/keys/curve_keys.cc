#include "tools/keys/curve_keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "common/accounts/private_file.h"
#include "common/zmq/curve_keys.h"

namespace qp::keys_tool {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitProblem = 1;
constexpr int kExitUsage = 2;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "qwenproxy: %s\n", message.c_str());
  return code;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.size() > 128) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

}  // namespace

int run_curve_generate(const CurveKeysOptions& o) {
  if (!valid_name(o.name)) {
    return fail(kExitUsage,
                "key name '" + o.name + "' may contain only letters, digits, '-', '_' and '.'");
  }
  struct stat dst {};
  if (::stat(o.dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) {
    return fail(kExitProblem, o.dir + " is not a directory");
  }
  auto pair = zmqx::generate_curve_keypair();
  if (!pair) return fail(kExitProblem, pair.error().message());
  const std::string secret_path = o.dir + "/" + o.name + ".key";
  const std::string public_path = o.dir + "/" + o.name + ".pub";
  accounts::WriteOptions w;
  w.replace = o.force;
  if (::geteuid() == 0) {  // `sudo qwenproxy curve-keys generate` into the service's directory
    w.owner_uid = dst.st_uid;
    w.owner_gid = dst.st_gid;
  }
  if (!o.force && ::access(public_path.c_str(), F_OK) == 0) {
    return fail(kExitProblem, public_path + " already exists (use --force to replace it)");
  }
  if (Status s =
          accounts::write_private_file(secret_path, zmqx::secret_key_file_text(o.name, *pair), w);
      !s.ok()) {
    return fail(kExitProblem, s.message());
  }
  w.replace = true;  // checked above; the secret file is new
  if (Status s =
          accounts::write_private_file(public_path, zmqx::public_key_file_text(o.name, *pair), w);
      !s.ok()) {
    ::unlink(secret_path.c_str());
    return fail(kExitProblem, s.message());
  }
  if (::chmod(public_path.c_str(), 0644) != 0) {
    return fail(kExitProblem, "cannot chmod 644 " + public_path);
  }
  std::printf("secret key: %s (mode 0600: keep it on this host)\n", secret_path.c_str());
  std::printf("public key: %s (mode 0644)\n", public_path.c_str());
  std::printf("            %s\n", pair->public_key.c_str());
  std::printf("fingerprint: %s\n", zmqx::key_fingerprint(pair->public_key).c_str());
  return kExitOk;
}

void add_curve_keys_command(CLI::App& app, std::function<int()>* action) {
  CLI::App* ck = app.add_subcommand(
      "curve-keys", "CurveZMQ key pairs for links to other hosts (broker, workers, frontends)");
  ck->require_subcommand(1);
  auto o = std::make_shared<CurveKeysOptions>();
  CLI::App* gen =
      ck->add_subcommand("generate", "Write NAME.key (secret, 0600) and NAME.pub (public, 0644)");
  gen->add_option("NAME", o->name, "Key name: the host or peer it identifies")->required();
  gen->add_option("--dir", o->dir, "Directory to write them to (default: the current one)");
  gen->add_flag("--force", o->force, "Replace existing files");
  gen->callback([action, o] { *action = [o] { return run_curve_generate(*o); }; });
}

}  // namespace qp::keys_tool
