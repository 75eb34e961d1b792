// Shared helpers of the tools tests: the test plans (native, Roo native, Roo
// XML), a driver that feeds a stream in given pieces and assembles what a
// client would see, and file loading.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "worker/toolcalls/tool_plan.h"
#include "worker/toolcalls/tool_stream.h"

namespace qp::worker::toolcalls::test {

std::string read_file(const std::string& path);
std::string testdata(const std::string& relative);  // tests/testdata/tools/<relative>

// Plans over tests/testdata/tools: the native tool set (tool_choice auto,
// parallel calls) without and with Roo Code's system prompt, and Roo XML.
ToolPlan native_plan(std::string_view tool_choice = "", bool parallel = true);
ToolPlan roo_plan();
ToolPlan xml_plan();

// Roo Code's own native tool set of a release (tests/testdata/tools/
// roo-native-v<release>.json: "3.37", "3.41", "3.52"), with its system
// prompt; and the XML plan whose catalogue holds the same tools.
inline const std::vector<std::string> kRooReleases = {"3.37", "3.41", "3.52"};
ToolPlan release_plan(const std::string& release);
ToolPlan release_xml_plan(const std::string& release);

struct Call {
  std::string id, name, arguments;
  bool operator==(const Call&) const = default;
};

// What a client assembles from a stream's chunks (OpenAI rules: the first
// delta of an index carries id and name, later ones argument fragments).
struct Outcome {
  std::string content;
  std::vector<Call> calls;
  std::vector<std::string> warnings;
  std::string finish_reason;
  bool stop = false;   // stop_upstream() was raised
  bool retry = false;  // retry_wanted()
  std::string error;   // a malformed delta sequence or a memory-bound breach
  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o);

// Feeds `pieces` in order (stopping early when the stream asks to), then
// finishes. Checks the memory bound after every feed. Ids are "call_1"…
Outcome run_pieces(const ToolPlan& plan, const std::vector<std::string_view>& pieces,
                   StreamOptions options = {});
Outcome run_whole(const ToolPlan& plan, std::string_view text, StreamOptions options = {});
Outcome run_split(const ToolPlan& plan, std::string_view text, size_t at,
                  StreamOptions options = {});

}  // namespace qp::worker::toolcalls::test
