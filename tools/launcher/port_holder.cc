#include "tools/launcher/port_holder.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace qp::launcher {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::vector<uint64_t> listening_inodes(std::string_view text, int port) {
  std::vector<uint64_t> out;
  size_t pos = 0;
  bool header = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (header) {  // "  sl  local_address rem_address   st tx_queue rx_queue ..."
      header = false;
      continue;
    }
    std::istringstream in(line);
    std::string sl, local, remote, state, queues, timer, retrnsmt, uid, timeout, inode;
    if (!(in >> sl >> local >> remote >> state >> queues >> timer >> retrnsmt >> uid >> timeout >>
          inode)) {
      continue;
    }
    size_t colon = local.rfind(':');
    if (colon == std::string::npos || state != "0A" || !all_digits(inode)) continue;  // 0A = LISTEN
    char* end = nullptr;
    long p = std::strtol(local.c_str() + colon + 1, &end, 16);
    if (end == nullptr || *end != '\0' || p != port) continue;
    out.push_back(std::strtoull(inode.c_str(), nullptr, 10));
  }
  return out;
}

std::string describe_port_holder(int port) {
  std::vector<uint64_t> inodes = listening_inodes(read_all("/proc/net/tcp"), port);
  for (uint64_t i : listening_inodes(read_all("/proc/net/tcp6"), port)) inodes.push_back(i);
  if (inodes.empty()) return {};
  std::vector<std::string> targets;
  for (uint64_t i : inodes) targets.push_back("socket:[" + std::to_string(i) + "]");

  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return {};
  std::string found;
  while (dirent* p = ::readdir(proc)) {
    if (!all_digits(p->d_name)) continue;
    std::string fd_dir = std::string("/proc/") + p->d_name + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;  // not ours to look at
    while (dirent* f = ::readdir(fds)) {
      if (!all_digits(f->d_name)) continue;
      char buf[64];
      ssize_t n = ::readlink((fd_dir + "/" + f->d_name).c_str(), buf, sizeof buf - 1);
      if (n <= 0) continue;
      std::string link(buf, static_cast<size_t>(n));
      for (const auto& t : targets) {
        if (link == t) {
          std::string comm = read_all(std::string("/proc/") + p->d_name + "/comm");
          while (!comm.empty() && (comm.back() == '\n' || comm.back() == ' ')) comm.pop_back();
          found = std::string("pid ") + p->d_name + (comm.empty() ? "" : " (" + comm + ")");
          break;
        }
      }
      if (!found.empty()) break;
    }
    ::closedir(fds);
    if (!found.empty()) break;
  }
  ::closedir(proc);
  return found;
}

}  // namespace qp::launcher
