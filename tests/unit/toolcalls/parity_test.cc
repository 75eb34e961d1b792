// The parity property (docs/tools.md, "Parity of the two modes"): every
// model output that XML mode turns into a tool use becomes the same call in
// native mode — the same tool, and the same arguments once XML mode's
// parameters (as Roo Code's parser reads them, roo_sim.h) are mapped to the
// schema the client declared. Checked over the whole corpus, for each Roo
// release's tool set, at every split of every output.
#include <filesystem>

#include <catch2/catch.hpp>

#include "roo_sim.h"
#include "toolcalls_test_util.h"
#include "worker/toolcalls/arguments.h"
#include "worker/toolcalls/xml_catalog.h"
#include "worker/toolcalls/xml_stream.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {

struct Output {
  std::string name, text;
};

std::vector<Output> corpus_outputs() {
  std::vector<Output> v;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(QP_TESTDATA_DIR) + "/tools/corpus")) {
    if (e.path().extension() != ".txt") continue;
    std::string s = read_file(e.path().string());
    size_t sep = s.find("\n----\n");
    REQUIRE(sep != std::string::npos);
    v.push_back({e.path().stem().string(), s.substr(sep + 6)});
  }
  std::sort(v.begin(), v.end(), [](const Output& a, const Output& b) { return a.name < b.name; });
  return v;
}

// XML mode's tool use, as Roo Code reads it; null when the reply carries
// none that the model wrote (a plain answer XML mode wrapped).
const RooBlock* model_tool_use(const std::vector<RooBlock>& blocks, const Outcome& xml,
                               const std::string& output) {
  bool wrapped = xml.content.find(kWrapOpen) != std::string::npos &&
                 output.find(kWrapOpen) == std::string::npos;
  if (wrapped) return nullptr;
  for (const auto& b : blocks) {
    if (b.tool) return &b;
  }
  return nullptr;
}

// The native call XML mode's tool use stands for: its parameters mapped to
// the declared schema. Empty when the tool is not in this release.
bool expected_call(const ToolPlan& plan, const RooBlock& use, std::string* args) {
  const Tool* tool = plan.tools.find(use.name);
  if (tool == nullptr) return false;
  RawCall raw;
  raw.name = use.name;
  for (const auto& [k, v] : use.params) raw.params.push_back({k, v});
  std::string err;
  INFO("tool " << use.name << ": " << err);
  REQUIRE(build_arguments(*tool, raw, args, &err));
  return true;
}

// The documented exceptions (docs/tools.md): a tool tag that is not followed
// by a parameter (prose, inline code, HTML in a fence) is a tool use for
// Roo's parser, which XML mode cannot stop since it passes text through, but
// native mode does not invent a call with no arguments from it.
bool bare_tag(const RooBlock& use) { return use.params.empty(); }

// Also: a parameter that Roo's XML parameter list lacks (v3.52's read_file
// offset/limit) cannot travel in XML mode, whose Roo releases never had it.
bool names_non_xml_param(const ToolPlan& plan, const RooBlock& use, const std::string& output) {
  const Tool* tool = plan.tools.find(use.name);
  if (tool == nullptr) return false;
  for (const auto& p : tool->parameters.properties) {
    if (is_roo_param_name(p.name)) continue;
    for (const std::string& form :
         {"=" + p.name + ">", "<" + p.name + ">", "\"" + p.name + "\"", "\\\"" + p.name + "\\\""})
      if (output.find(form) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("parity: XML mode's tool use is native mode's call, every release, every split",
          "[tools][parity]") {
  const auto outputs = corpus_outputs();
  REQUIRE(outputs.size() >= 60);
  size_t compared = 0, exceptions = 0;
  for (const auto& release : kRooReleases) {
    ToolPlan native = release_plan(release);
    ToolPlan xml = release_xml_plan(release);
    for (const auto& out : outputs) {
      const std::string& s = out.text;
      Outcome x = run_whole(xml, s);
      Outcome n = run_whole(native, s);
      // Every split gives the same XML output and the same native calls, so
      // the comparison below holds for every split.
      for (size_t at = 0; at <= s.size(); ++at) {
        INFO("release " << release << " case " << out.name << " split " << at);
        REQUIRE(run_split(xml, s, at) == x);
        REQUIRE(run_split(native, s, at) == n);
      }
      auto blocks = roo_parse(x.content, xml.catalog.tools, xml.catalog.params);
      const RooBlock* use = model_tool_use(blocks, x, s);
      if (use == nullptr) continue;
      if (bare_tag(*use) || names_non_xml_param(native, *use, s)) {
        ++exceptions;
        continue;
      }
      std::string want;
      if (!expected_call(native, *use, &want)) continue;
      INFO("release " << release << " case " << out.name << "\nxml:\n"
                      << describe(x) << "\nnative:\n"
                      << describe(n));
      REQUIRE_FALSE(n.calls.empty());
      CHECK(n.calls[0].name == use->name);
      CHECK(n.calls[0].arguments == want);
      ++compared;
    }
  }
  // Most of the corpus's calls are compared, few are exceptions.
  CHECK(compared >= 3 * 30);
  CHECK(exceptions <= 3 * 4 + 4);
}
