#include "broker/zap_policy.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/zmq/curve_keys.h"

namespace qp::broker {

LoadedKeys load_authorized_keys(const std::string& dir) {
  LoadedKeys out;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    out.problems.push_back("broker.authorized_keys_dir " + dir + " is not a readable directory");
    return out;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    out.problems.push_back("broker.authorized_keys_dir " + dir +
                           " can be written by other users: run `chmod go-w " + dir + "`");
    return out;
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    out.problems.push_back("cannot list broker.authorized_keys_dir " + dir + ": " + ec.message());
    return out;
  }
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    if (file.empty() || file.front() == '.' || file.size() <= 4 ||
        file.compare(file.size() - 4, 4, ".pub") != 0) {
      continue;
    }
    std::error_code fec;
    if (!entry.is_regular_file(fec)) continue;
    const std::string path = entry.path().string();
    auto key = zmqx::load_public_key(path);
    if (!key) {
      out.problems.push_back(key.error().message());
      continue;
    }
    std::string raw = zmqx::z85_to_bytes(*key);
    std::string name = file.substr(0, file.size() - 4);
    auto [pos, added] = out.keys.by_key.emplace(std::move(raw), name);
    if (!added) {
      out.problems.push_back(path + ": the same key as " + pos->second + ".pub (ignored)");
    }
  }
  return out;
}

ZapDecision decide_zap(const AuthorizedKeys& keys, std::string_view mechanism,
                       std::string_view client_key) {
  ZapDecision d;
  if (mechanism != "CURVE") {
    d.status_text = "CurveZMQ required";
    return d;
  }
  if (client_key.size() != zmqx::kCurveKeyBytes) {
    d.status_text = "malformed client key";
    return d;
  }
  d.fingerprint = zmqx::key_fingerprint(client_key);
  auto it = keys.by_key.find(std::string(client_key));
  if (it == keys.by_key.end()) {
    d.status_text = "key not authorised";
    return d;
  }
  d.allow = true;
  d.status_code = "200";
  d.status_text = "OK";
  d.peer = it->second;
  return d;
}

}  // namespace qp::broker
