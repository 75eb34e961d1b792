#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

TEST_CASE("JWT-looking strings are masked", "[log]") {
  std::string s = "cookie: token=eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IngifQ.sig-_x; other=1";
  qp::log::mask_secrets(&s);
  CHECK(s == "cookie: token=[redacted-jwt]; other=1");
  std::string plain = "eyJ but not a token";
  qp::log::mask_secrets(&plain);
  CHECK(plain == "eyJ but not a token");
}

TEST_CASE("log level parsing", "[log]") {
  qp::log::Level l;
  CHECK(qp::log::parse_level("debug", &l));
  CHECK(l == qp::log::Level::kDebug);
  CHECK(qp::log::parse_level("warning", &l));
  CHECK(l == qp::log::Level::kWarn);
  CHECK_FALSE(qp::log::parse_level("loud", &l));
}

TEST_CASE("log values with spaces, quotes or control bytes are JSON-quoted", "[log]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(fds[1], STDERR_FILENO);
  {
    qp::log::Line(qp::log::Level::kError, "test.event")
        .kv("plain", "abc")
        .kv("msg", "a \"b\"\nc")
        .kv("api_key", "sk-123");
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fds[1]);
  char buf[1024];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  REQUIRE(n > 0);
  std::string line(buf, static_cast<size_t>(n));
  CHECK(line.find(" event=test.event plain=abc msg=\"a \\\"b\\\"\\nc\" api_key=[redacted]\n") !=
        std::string::npos);
}

TEST_CASE("lines go to the journal only when JOURNAL_STREAM names stderr itself", "[log]") {
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  const std::string self = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);

  ::setenv("JOURNAL_STREAM", other.c_str(), 1);  // inherited by a child whose stderr moved
  qp::log::init("test");
  CHECK_FALSE(qp::log::to_journal());
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  qp::log::init("test");
  CHECK_FALSE(qp::log::to_journal());
  ::setenv("JOURNAL_STREAM", self.c_str(), 1);
  qp::log::init("test");
  CHECK(qp::log::to_journal());

  ::unsetenv("JOURNAL_STREAM");
  qp::log::init("test");
  CHECK_FALSE(qp::log::to_journal());
}

TEST_CASE("a process tag (one of several frontends) follows proc= on every line", "[log]") {
  auto capture = [] {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    int saved = ::dup(STDERR_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    { qp::log::Line(qp::log::Level::kError, "test.tagged").kv("k", "v"); }
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fds[1]);
    char buf[1024];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    REQUIRE(n > 0);
    return std::string(buf, static_cast<size_t>(n));
  };
  ::unsetenv("JOURNAL_STREAM");
  qp::log::init("frontend");
  qp::log::set_process_tag("frontend", "1");
  CHECK(capture().find(" proc=frontend frontend=1 pid=") != std::string::npos);
  qp::log::set_process_tag("", "");
  CHECK(capture().find(" proc=frontend pid=") != std::string::npos);
}
