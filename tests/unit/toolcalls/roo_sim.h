// A test-only re-implementation of Roo Code's XML tool parser
// (AssistantMessageParser, v3.25.7–v3.41; docs/tools.md, "XML clients (Roo Code
// ≤ v3.41)"): a character scanner that checks what the text seen so far ends
// with. XML-mode outputs are judged by what this parser makes of them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qp::worker::toolcalls::test {

struct RooBlock {
  bool tool = false;
  std::string name;                           // tool
  std::map<std::string, std::string> params;  // tool
  std::string text;                           // text block (trimmed)
  bool partial = false;                       // tool left open at the end
};

std::vector<RooBlock> roo_parse(std::string_view text, const std::vector<std::string>& tools,
                                const std::vector<std::string>& params);

int count_tools(const std::vector<RooBlock>& blocks);

}  // namespace qp::worker::toolcalls::test
