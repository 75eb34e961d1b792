// The qp-broker process around a Broker: the libuv loop, the zmq context,
// SIGINT/SIGTERM, and service-manager notifications (READY once bound,
// WATCHDOG at half the requested interval, STOPPING on a signal).
#pragma once

#include "common/config.h"

namespace qp::broker {

// Runs until SIGINT or SIGTERM. Returns the exit code: 0 after a clean stop,
// 1 if the broker could not start (e.g. an endpoint cannot be bound; the
// reason is logged) or the loop did not close cleanly.
int run_service(const Config& config);

}  // namespace qp::broker
