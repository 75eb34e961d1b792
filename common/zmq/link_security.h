// How a ZeroMQ link between the broker and its peers (workers, frontends) is
// secured, and the socket options of links to other hosts
// (docs/architecture.md, "Security of the sockets").
//
//  - ipc:// and inproc:// stay plain: the socket's private directory is the
//    protection (common/fs.h).
//  - tcp:// uses CurveZMQ: the broker is the CURVE server with its own key
//    pair; a peer is a CURVE client that knows the broker's public key; the
//    broker's ZAP handler (broker/zap_handler.h) admits only authorised keys.
//  - Plain tcp:// is refused, unless broker.allow_plaintext_tcp is set and
//    the address is a loopback one (tests, a single host).
//
// plan_link() is the policy (pure, no I/O); load_link() reads the key files
// it asks for; apply_*() set the socket options.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/config.h"
#include "common/status.h"
#include "common/zmq/curve_keys.h"

namespace qp::zmqx {

// A key-file setting a tcp:// link needs: its name (for messages) and value.
struct KeySetting {
  std::string_view name;  // e.g. "worker.curve_secret_key_file"
  std::string_view path;  // empty: not set
};

struct LinkPlan {
  bool tcp = false;    // a link to (possibly) another host: heartbeat/reconnect options
  bool curve = false;  // CurveZMQ (else plain)
};

// True for a tcp:// endpoint whose host is a loopback address (127.0.0.0/8,
// ::1, "localhost", the interface "lo"); "*" and other hosts are not.
bool is_loopback_tcp(std::string_view endpoint);

// The policy. `endpoint_setting` names the endpoint's setting for messages.
// tcp:// with every key setting set -> curve; with some set -> error naming
// the missing ones; with none -> plain if allow_plaintext_tcp and loopback,
// else an error saying what to configure.
Result<LinkPlan> plan_link(std::string_view endpoint, std::string_view endpoint_setting,
                           const std::vector<KeySetting>& keys, bool allow_plaintext_tcp);

// ZMQ_HEARTBEAT_* and ZMQ_RECONNECT_* of tcp:// links, from BrokerConfig.
// link_heartbeat_ms 0 = heartbeat_ms / 2; link_timeout_ms 0 = twice the link
// heartbeat (docs/configuration.md).
struct LinkTiming {
  int heartbeat_ms = 1000;
  int timeout_ms = 3000;
  int reconnect_ivl_ms = 100;
  int reconnect_ivl_max_ms = 5000;
};
LinkTiming link_timing(const BrokerConfig& c);

// A connecting peer's (worker, frontend) link: the plan and, for curve, its
// own key pair and the broker's public key.
struct PeerLink {
  LinkPlan plan;
  LinkTiming timing;
  CurveKeypair own;
  std::string server_public_key;  // Z85
};

// Plans the link to c.broker.<endpoint> and loads the key files. The
// errors are the startup errors a process prints before exiting.
Result<PeerLink> load_peer_link(const Config& c, std::string_view endpoint,
                                std::string_view endpoint_setting, std::string_view own_key_setting,
                                const std::string& own_key_file);

// Before connect(): curve client keys, heartbeats and reconnect intervals
// (tcp only). Throws zmq::error_t like any set().
void apply_peer_link(zmq::socket_t& s, const PeerLink& link);

// Before bind() on the broker: curve server (with its ZAP domain) and
// heartbeats when `plan` says so.
void apply_server_link(zmq::socket_t& s, const LinkPlan& plan, const LinkTiming& timing,
                       const CurveKeypair& own, const std::string& zap_domain);

}  // namespace qp::zmqx
