// Pure helpers of `qwenproxy account sync-units` (sync_units.cc does the
// D-Bus I/O): the unit name of an account's worker and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qp::account_tool {

inline constexpr std::string_view kWorkerUnitPrefix = "qwenproxy-worker@";
inline constexpr std::string_view kWorkerUnitSuffix = ".service";

// "qwenproxy-worker@NAME.service".
std::string worker_unit(std::string_view account);
// NAME for "qwenproxy-worker@NAME.service" when NAME is a valid account name;
// nullopt for any other unit (the template itself, another service, an
// instance name that systemd escaped).
std::optional<std::string> worker_unit_account(std::string_view unit);

}  // namespace qp::account_tool
