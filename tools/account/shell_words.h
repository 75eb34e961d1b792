// Splits a command line copied from a browser ("Copy as cURL") into words,
// undoing the quoting of the shell it was written for. Pure.
//
//   kPosix:      bash/zsh as Chrome's "Copy as cURL (bash)" and Firefox's
//                "Copy as cURL (POSIX)" write it: '…', "…", $'…' (ANSI-C
//                escapes), backslash escapes and backslash-newline continuations.
//   kCmd:        cmd.exe as Chrome's "Copy as cURL (cmd)" and Firefox's
//                "Copy as cURL (Windows)" write it: ^ escapes and ^-newline
//                continuations, then the MS C runtime's argv rules ("…",
//                backslash-quote, "" inside quotes).
//   kPowerShell: '…' ('' is a quote), "…" (backtick escapes), backtick-newline
//                continuations.
//
// Errors (kInvalidArgument) for an unterminated quote or a bad escape; they
// give the position, never the text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::account_tool {

enum class ShellDialect { kPosix, kCmd, kPowerShell };

// Guesses the dialect from the continuation style and quoting: ^" or a
// trailing ^ means cmd, a trailing backtick (or curl.exe with '…') means
// PowerShell, else POSIX.
ShellDialect detect_dialect(std::string_view text);
std::string_view dialect_name(ShellDialect dialect);

Result<std::vector<std::string>> split_words(std::string_view text, ShellDialect dialect);

}  // namespace qp::account_tool
