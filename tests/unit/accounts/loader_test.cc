#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/accounts/account_loader.h"
#include "common/accounts/private_file.h"
#include "test_util.h"

using namespace qp;
using namespace qp::accounts;
using qp::test::env_of;
using qp::test::kJwt;
using qp::test::TempDir;
using qp::test::write_file;

namespace {

std::string account_text(const std::string& extra = "") {
  return "cookies = \"a=1; token=" + kJwt + "\"\nbx_umidtoken = \"umid\"\n" + extra;
}

// Sets a file's mtime to `unix_s` (deterministic ordering without sleeping).
void set_mtime(const std::string& path, time_t unix_s) {
  struct timeval tv[2] = {{unix_s, 0}, {unix_s, 0}};
  REQUIRE(::utimes(path.c_str(), tv) == 0);
}

}  // namespace

TEST_CASE("secret files must be private, regular and small", "[accounts]") {
  TempDir dir;
  SECTION("mode 0600 and 0400 are fine") {
    CHECK(read_private_file(write_file(dir / "a", "x", 0600)).has_value());
    CHECK(read_private_file(write_file(dir / "b", "x", 0400)).has_value());
  }
  SECTION("readable by others: the message says how to fix it") {
    std::string p = write_file(dir / "alice.toml", "token = \"SECRET\"", 0644);
    auto r = read_private_file(p);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == p +
                                     " can be read or written by other users (mode 0644); it holds "
                                     "credentials: run `chmod 600 " +
                                     p + "`");
  }
  SECTION("group bits alone are refused too") {
    CHECK_FALSE(read_private_file(write_file(dir / "g", "x", 0640)).has_value());
    CHECK_FALSE(read_private_file(write_file(dir / "w", "x", 0602)).has_value());
  }
  SECTION("not a regular file, missing, too large") {
    auto d = read_private_file(dir.path());
    REQUIRE_FALSE(d.has_value());
    CHECK(d.error().message().find("not a regular file") != std::string::npos);
    auto m = read_private_file(dir / "missing");
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().message().find("No such file") != std::string::npos);
    std::string big = write_file(dir / "big", std::string(kMaxSecretFileBytes + 1, 'x'));
    auto b = read_private_file(big);
    REQUIRE_FALSE(b.has_value());
    CHECK(b.error().message().find("too large") != std::string::npos);
  }
}

TEST_CASE("write_private_file is atomic, private and refuses to clobber", "[accounts]") {
  TempDir dir;
  std::string p = dir / "alice.toml";
  mode_t old = ::umask(0);
  Status s = write_private_file(p, "one", {});
  ::umask(old);
  REQUIRE(s.ok());
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(qp::test::read_file(p) == "one");
  Status again = write_private_file(p, "two", {});
  REQUIRE_FALSE(again.ok());
  CHECK(again.message().find("--force") != std::string::npos);
  CHECK(qp::test::read_file(p) == "one");
  WriteOptions replace;
  replace.replace = true;
  REQUIRE(write_private_file(p, "two", replace).ok());
  CHECK(qp::test::read_file(p) == "two");
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);  // no temporary left behind
  CHECK_FALSE(write_private_file(dir / "no/such/dir/x.toml", "x", {}).ok());
}

TEST_CASE("config discovers NAME.toml files; one bad file never stops the others", "[accounts]") {
  TempDir dir;
  std::string config = write_file(dir / "qwenproxy.toml", "[frontend]\nport = 0\n");
  std::filesystem::create_directory(dir / "accounts");
  write_file(dir / "accounts/alice.toml", account_text("capacity = 2\n"));
  write_file(dir / "accounts/bob.toml", "cookies = \"a=1\"\n");   // no token
  write_file(dir / "accounts/carol.toml", account_text(), 0644);  // readable by others
  write_file(dir / "accounts/bad name.toml", account_text());
  write_file(dir / "accounts/.hidden.toml", account_text());
  write_file(dir / "accounts/dave.toml.example", account_text());

  auto c = load_config(config, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->accounts_dir == dir / "accounts");
  REQUIRE(c->accounts.size() == 3);
  CHECK(c->accounts[0].name == "alice");
  CHECK(c->accounts[1].name == "bob");
  CHECK(c->accounts[2].name == "carol");
  CHECK(c->accounts[0].file == dir / "accounts/alice.toml");
  CHECK(c->accounts[0].cookies.empty());  // load_config never reads an account's secrets

  auto loaded = load_accounts(c.value(), env_of({}));
  REQUIRE(loaded.size() == 3);
  CHECK(loaded[0].status.ok());
  CHECK(loaded[0].account.capacity == 2);
  CHECK(loaded[0].account.token == kJwt);
  CHECK(loaded[0].account.bx_umidtoken == "umid");
  CHECK(loaded[0].facts.token_expires_unix_s == qp::test::kJwtExp);
  CHECK(loaded[0].source == dir / "accounts/alice.toml");
  CHECK(loaded[0].watch_path == dir / "accounts/alice.toml");
  CHECK_FALSE(loaded[1].status.ok());
  CHECK(loaded[1].status.message().find("no session token") != std::string::npos);
  CHECK(loaded[1].account.name == "bob");
  CHECK(loaded[1].account.cookies.empty());
  CHECK_FALSE(loaded[2].status.ok());
  CHECK(loaded[2].status.message().find("chmod 600") != std::string::npos);

  auto listing = list_account_dir(dir / "accounts");
  CHECK(listing.exists);
  CHECK(listing.names == std::vector<std::string>{"alice", "bob", "carol"});
  CHECK(listing.ignored == std::vector<std::string>{"bad name.toml"});
}

TEST_CASE("[[accounts]] entries: defaults for a file, explicit files, env accounts", "[accounts]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "accounts");
  write_file(dir / "accounts/alice.toml", account_text());
  write_file(dir / "elsewhere.toml", account_text("capacity = 9\n"));
  std::string config = write_file(dir / "qwenproxy.toml", R"(
[[accounts]]
name = "alice"
capacity = 6
[[accounts]]
name = "bob"
file = "elsewhere.toml"
[[accounts]]
name = "inline"
cookies = "token=)" + kJwt + R"("
)");
  auto c = load_config(config, env_of({}));
  REQUIRE(c.has_value());
  REQUIRE(c->accounts.size() == 3);  // alice.toml is not added twice
  CHECK(c->find_account("alice")->file == dir / "accounts/alice.toml");
  CHECK(c->find_account("bob")->file == dir / "elsewhere.toml");
  CHECK(c->find_account("inline")->file.empty());
  auto alice = load_account(c.value(), "alice", env_of({}));
  REQUIRE(alice.status.ok());
  CHECK(alice.account.capacity == 6);  // from the entry: the file does not set it
  auto bob = load_account(c.value(), "bob", env_of({}));
  REQUIRE(bob.status.ok());
  CHECK(bob.account.capacity == 9);  // the file wins
  auto in = load_account(c.value(), "inline", env_of({}));
  REQUIRE(in.status.ok());
  CHECK(in.source.find("accounts[2]") != std::string::npos);
  CHECK(in.account.token == kJwt);

  SECTION("QWEN_COOKIES replaces a file account of the same name") {
    auto e =
        load_config(config, env_of({{"QWEN_COOKIES", "token=" + kJwt}, {"QWEN_ACCOUNT", "alice"}}));
    REQUIRE(e.has_value());
    CHECK(e->accounts.size() == 3);
    auto a = load_account(e.value(), "alice", env_of({}));
    REQUIRE(a.status.ok());
    CHECK(a.source == "environment (QWEN_COOKIES)");
  }
  SECTION("QP_ACCOUNTS_DIR overrides the directory") {
    TempDir other;
    write_file(other / "zed.toml", account_text());
    auto e = load_config(config, env_of({{"QP_ACCOUNTS_DIR", other.path()}}));
    REQUIRE(e.has_value());
    CHECK(e->find_account("zed") != nullptr);
    CHECK(e->find_account("alice")->file == other / "alice.toml");
  }
}

TEST_CASE("load_account: missing files, unknown names, systemd credentials", "[accounts]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "accounts");
  Config c;
  c.accounts_dir = dir / "accounts";

  SECTION("a name with no file: not found, with the command that fixes it") {
    auto r = load_account(c, "alice", env_of({}));
    CHECK(r.account.name == "alice");
    CHECK(r.status.code() == Code::kNotFound);
    CHECK(r.status.message().find("qwenproxy account import alice") != std::string::npos);
    CHECK(r.watch_path == dir / "accounts/alice.toml");
  }
  SECTION("an invalid name") {
    CHECK_FALSE(load_account(c, "../etc/passwd", env_of({})).status.ok());
  }
  SECTION("only the systemd credential exists") {
    TempDir creds;
    write_file(creds / "alice", account_text(), 0400);
    auto r = load_account(c, "alice", env_of({{"CREDENTIALS_DIRECTORY", creds.path()}}));
    REQUIRE(r.status.ok());
    CHECK(r.source == creds / "alice");
    CHECK(r.watch_path == dir / "accounts/alice.toml");
  }
  SECTION("both exist: the newer wins, ties go to the credential") {
    TempDir creds;
    std::string cred = write_file(creds / "alice", account_text("bx_v = \"cred\"\n"), 0400);
    std::string file = write_file(dir / "accounts/alice.toml", account_text("bx_v = \"file\"\n"));
    auto env = env_of({{"CREDENTIALS_DIRECTORY", creds.path()}});
    set_mtime(cred, 1'700'000'000);
    set_mtime(file, 1'700'000'100);  // edited after the unit started
    CHECK(load_account(c, "alice", env).account.bx_v == "file");
    set_mtime(file, 1'600'000'000);
    CHECK(load_account(c, "alice", env).account.bx_v == "cred");
    set_mtime(file, 1'700'000'000);
    CHECK(load_account(c, "alice", env).account.bx_v == "cred");
  }
  SECTION("an invalid newer file is reported, not silently skipped") {
    TempDir creds;
    std::string cred = write_file(creds / "alice", account_text(), 0400);
    std::string file = write_file(dir / "accounts/alice.toml", "cookies = \"x=1\"\n");
    set_mtime(cred, 1'700'000'000);
    set_mtime(file, 1'700'000'100);
    auto r = load_account(c, "alice", env_of({{"CREDENTIALS_DIRECTORY", creds.path()}}));
    CHECK_FALSE(r.status.ok());
    CHECK(r.source == file);
  }
}

TEST_CASE("the old proxy's .env file is a one-account configuration", "[accounts]") {
  TempDir dir;
  std::string env_file =
      write_file(dir / ".env", "PORT=3000\nQWEN_TOKEN=umid\nQWEN_COOKIES=\"a=1; token=" + kJwt +
                                   "\"\nLOG_LEVEL=info\n");
  SECTION("QP_ENV_FILE") {
    auto c = load_config("", env_of({{"QP_ENV_FILE", env_file}}));
    REQUIRE(c.has_value());
    CHECK(c->frontend.port == 3000);
    REQUIRE(c->accounts.size() == 1);
    CHECK(c->accounts[0].name == "default");
    CHECK(c->accounts[0].bx_umidtoken == "umid");
    CHECK(c->accounts[0].origin == env_file + " (QWEN_COOKIES)");
    auto a = load_account(c.value(), "default", env_of({}));
    REQUIRE(a.status.ok());
    CHECK(a.account.token == kJwt);
  }
  SECTION("the real environment wins over the file") {
    auto c = load_config(
        "", env_of({{"QP_ENV_FILE", env_file}, {"QWEN_TOKEN", "real"}, {"QP_PORT", "9"}}));
    REQUIRE(c.has_value());
    CHECK(c->accounts[0].bx_umidtoken == "real");
    CHECK(c->frontend.port == 9);
  }
  SECTION("env_file in the config file, relative to it") {
    std::string config = write_file(dir / "qwenproxy.toml", "env_file = \".env\"\n");
    auto c = load_config(config, env_of({}));
    REQUIRE(c.has_value());
    CHECK(c->env_file == env_file);
    CHECK(c->accounts.size() == 1);
  }
  SECTION("a .env file others can read is refused") {
    ::chmod(env_file.c_str(), 0644);
    auto c = load_config("", env_of({{"QP_ENV_FILE", env_file}}));
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message().find("chmod 600") != std::string::npos);
    CHECK(c.error().message().find(kJwt) == std::string::npos);
  }
}

TEST_CASE("without a config file the accounts directory comes from systemd", "[accounts]") {
  auto none = load_config("", env_of({}));
  REQUIRE(none.has_value());
  CHECK(none->accounts_dir.empty());
  auto sd = load_config("", env_of({{"CONFIGURATION_DIRECTORY", "/etc/qwenproxy"}}));
  REQUIRE(sd.has_value());
  CHECK(sd->accounts_dir == "/etc/qwenproxy/accounts");
}

TEST_CASE("account names", "[accounts]") {
  CHECK(valid_account_name("alice"));
  CHECK(valid_account_name("work-2.backup_x"));
  CHECK_FALSE(valid_account_name(""));
  CHECK_FALSE(valid_account_name(".alice"));
  CHECK_FALSE(valid_account_name("a b"));
  CHECK_FALSE(valid_account_name("a/b"));
  CHECK_FALSE(valid_account_name(std::string(65, 'a')));
}
