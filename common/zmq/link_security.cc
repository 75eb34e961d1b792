#include "common/zmq/link_security.h"

#include <arpa/inet.h>

#include <algorithm>
#include <climits>

namespace qp::zmqx {
namespace {

constexpr std::string_view kTcp = "tcp://";

// "tcp://[src;]host:port" -> host (without brackets).
std::string_view tcp_host(std::string_view endpoint) {
  std::string_view rest = endpoint.substr(kTcp.size());
  if (size_t semi = rest.find(';'); semi != std::string_view::npos) rest = rest.substr(semi + 1);
  size_t colon = rest.rfind(':');
  std::string_view host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

int clamp_ms(uint64_t v) { return static_cast<int>(std::min<uint64_t>(v, INT_MAX)); }

}  // namespace

bool is_loopback_tcp(std::string_view endpoint) {
  if (endpoint.substr(0, kTcp.size()) != kTcp) return false;
  std::string host(tcp_host(endpoint));
  if (host == "localhost" || host == "lo") return true;
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    return (ntohl(a4.s_addr) >> 24) == 127;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&a6);
  }
  return false;
}

Result<LinkPlan> plan_link(std::string_view endpoint, std::string_view endpoint_setting,
                           const std::vector<KeySetting>& keys, bool allow_plaintext_tcp) {
  LinkPlan plan;
  if (endpoint.substr(0, kTcp.size()) != kTcp) return plan;  // ipc://, inproc://
  plan.tcp = true;
  std::string missing;
  size_t set = 0;
  for (const KeySetting& k : keys) {
    if (!k.path.empty()) {
      ++set;
      continue;
    }
    if (!missing.empty()) missing += " and ";
    missing += k.name;
  }
  const std::string where = std::string(endpoint_setting) + " = " + std::string(endpoint);
  if (!keys.empty() && set == keys.size()) {
    plan.curve = true;
    return plan;
  }
  if (set > 0) {
    return error(Code::kInvalidArgument, where + ": CurveZMQ needs " + missing +
                                             " too (docs/deployment.md, \"Remote " + "workers\")");
  }
  if (allow_plaintext_tcp && is_loopback_tcp(endpoint)) return plan;
  if (allow_plaintext_tcp) {
    return error(Code::kInvalidArgument,
                 where + ": plain TCP is refused: broker.allow_plaintext_tcp applies to loopback " +
                     "addresses only; set " + missing +
                     " to use CurveZMQ (docs/deployment.md, \"Remote workers\")");
  }
  return error(Code::kInvalidArgument,
               where + ": plain TCP is refused: set " + missing +
                   " to use CurveZMQ (docs/deployment.md, \"Remote workers\"), or, for a " +
                   "loopback address only, broker.allow_plaintext_tcp = true");
}

LinkTiming link_timing(const BrokerConfig& c) {
  LinkTiming t;
  uint64_t hb = c.heartbeat_ms != 0 ? c.heartbeat_ms : 1000;
  // By default a ZMTP PING every half heartbeat and a timeout of one
  // heartbeat: a dead link is closed within 1.5 heartbeats, and the broker's
  // next send to that peer fails, well inside kLiveness (3) heartbeats.
  uint64_t ivl = c.link_heartbeat_ms != 0 ? c.link_heartbeat_ms : std::max<uint64_t>(hb / 2, 10);
  t.heartbeat_ms = clamp_ms(ivl);
  // ZMQ_HEARTBEAT_TTL is sent in tenths of a second in a 16-bit field.
  t.timeout_ms =
      clamp_ms(std::min<uint64_t>(c.link_timeout_ms != 0 ? c.link_timeout_ms : 2 * ivl, 6'553'500));
  t.reconnect_ivl_ms = clamp_ms(c.reconnect_ivl_ms);
  t.reconnect_ivl_max_ms = clamp_ms(c.reconnect_ivl_max_ms);
  return t;
}

Result<PeerLink> load_peer_link(const Config& c, std::string_view endpoint,
                                std::string_view endpoint_setting, std::string_view own_key_setting,
                                const std::string& own_key_file) {
  PeerLink link;
  auto plan = plan_link(endpoint, endpoint_setting,
                        {{own_key_setting, own_key_file},
                         {"broker.curve_public_key_file", c.broker.curve_public_key_file}},
                        c.broker.allow_plaintext_tcp);
  if (!plan) return plan.error();
  link.plan = *plan;
  link.timing = link_timing(c.broker);
  if (!link.plan.curve) return link;
  auto own = load_secret_key(own_key_file);
  if (!own) return own.error();
  link.own = std::move(*own);
  auto server = load_public_key(c.broker.curve_public_key_file);
  if (!server) return server.error();
  link.server_public_key = std::move(*server);
  return link;
}

namespace {
void apply_heartbeats(zmq::socket_t& s, const LinkTiming& t) {
  s.set(zmq::sockopt::heartbeat_ivl, t.heartbeat_ms);
  s.set(zmq::sockopt::heartbeat_timeout, t.timeout_ms);
  // The peer drops the connection if it hears nothing from us for this long.
  s.set(zmq::sockopt::heartbeat_ttl, t.timeout_ms);
}
}  // namespace

void apply_peer_link(zmq::socket_t& s, const PeerLink& link) {
  if (!link.plan.tcp) return;
  apply_heartbeats(s, link.timing);
  s.set(zmq::sockopt::reconnect_ivl, link.timing.reconnect_ivl_ms);
  s.set(zmq::sockopt::reconnect_ivl_max, link.timing.reconnect_ivl_max_ms);
  if (!link.plan.curve) return;
  s.set(zmq::sockopt::curve_serverkey, link.server_public_key);
  s.set(zmq::sockopt::curve_publickey, link.own.public_key);
  s.set(zmq::sockopt::curve_secretkey, link.own.secret_key);
}

void apply_server_link(zmq::socket_t& s, const LinkPlan& plan, const LinkTiming& timing,
                       const CurveKeypair& own, const std::string& zap_domain) {
  if (!plan.tcp) return;
  apply_heartbeats(s, timing);
  if (!plan.curve) return;
  s.set(zmq::sockopt::curve_server, true);
  s.set(zmq::sockopt::curve_secretkey, own.secret_key);
  s.set(zmq::sockopt::zap_domain, zap_domain);
}

}  // namespace qp::zmqx
