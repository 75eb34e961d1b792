#include "worker/upstream_recorder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

using qp::worker::UpstreamRecorder;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/qp-recorder-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("recorder: the file is private, appended to, and bounded") {
  std::string dir = temp_dir();
  std::string path = dir + "/rec.jsonl";
  {
    std::ofstream(path) << "{\"old\":1}\n";
    ::chmod(path.c_str(), 0644);
  }
  UpstreamRecorder rec(path, 400);
  REQUIRE(rec.open().ok());
  CHECK(mode_of(path) == 0600);
  CHECK(rec.active());
  qp::AccountConfig a;
  a.cookies = "token=abcdefghijkl";
  rec.add_account(a);
  auto r = rec.begin("GET", "http://h/api/models?token=abcdefghijkl",
                     {"Cookie: token=abcdefghijkl"}, {});
  REQUIRE(r);
  r->on_header_line("HTTP/1.1 200 OK\r\n");
  rec.write(r->finish(200, 1, "complete", {}));
  std::string text = slurp(path);
  CHECK(text.starts_with("{\"old\":1}\n{"));
  CHECK(text.find("abcdefghijkl") == std::string::npos);
  CHECK(text.back() == '\n');
  // Past the limit the line is not written and recording stops.
  rec.write(std::string(500, 'x') + "\n");
  CHECK_FALSE(rec.active());
  CHECK(rec.begin("GET", "/", {}, {}) == nullptr);
  CHECK(slurp(path) == text);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("recorder: a symlink or a directory is refused; {account} expands") {
  std::string dir = temp_dir();
  REQUIRE(::symlink((dir + "/target").c_str(), (dir + "/link").c_str()) == 0);
  UpstreamRecorder link(dir + "/link", 1000);
  CHECK_FALSE(link.open().ok());
  UpstreamRecorder d(dir, 1000);
  CHECK_FALSE(d.open().ok());
  CHECK(UpstreamRecorder::expand_path("/r/{account}.jsonl", "alice") == "/r/alice.jsonl");
  CHECK(UpstreamRecorder::expand_path("/r/x.jsonl", "alice") == "/r/x.jsonl");
  std::system(("rm -rf " + dir).c_str());
}
