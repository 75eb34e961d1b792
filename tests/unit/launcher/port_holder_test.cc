#include "tools/launcher/port_holder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using qp::launcher::describe_port_holder;
using qp::launcher::listening_inodes;

TEST_CASE("listening sockets are found in /proc/net/tcp text", "[launcher][port]") {
  const char* text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 12345 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000     0        "
      "0 777 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 999 1 0000000000000000 100 0 0 10 0\n"
      "garbage line\n";
  CHECK(listening_inodes(text, 8080) == std::vector<uint64_t>{12345});  // not the ESTABLISHED one
  CHECK(listening_inodes(text, 80) == std::vector<uint64_t>{999});
  CHECK(listening_inodes(text, 443).empty());
  CHECK(listening_inodes("", 80).empty());
  const char* v6 =
      "  sl  local_address                         remote_address                        st ...\n"
      "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 "
      "0\n";
  CHECK(listening_inodes(v6, 8080) == std::vector<uint64_t>{4242});
}

TEST_CASE("the holder of a listening port is this process", "[launcher][port]") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  int port = ntohs(a.sin_port);
  std::string holder = describe_port_holder(port);
  CHECK(holder.rfind("pid " + std::to_string(::getpid()) + " (", 0) == 0);
  ::close(fd);
  CHECK(describe_port_holder(port).empty());
}
