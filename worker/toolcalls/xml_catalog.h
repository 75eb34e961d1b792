// Roo Code's XML tool protocol (Roo Code ≤ v3.41 with the OpenAI Compatible
// provider: no `tools` array, the tool catalogue lives in the system prompt
// and tool calls are XML in the answer text). Detects such a system prompt
// and extracts the tag names Roo Code's parser will recognise. Pure.
//
// Roo Code's parser (AssistantMessageParser) opens a tool on `<NAME>` for any
// NAME in its fixed tool-name list and a parameter on `<PARAM>` for any NAME
// in its fixed parameter list, whatever the tool. The lists below are the
// union over the releases that speak XML (v3.20–v3.41). Names the catalogue
// declares but Roo Code's lists lack are deliberately not added: Roo Code
// would not parse them, so treating them as calls would break the
// one-tool-per-reply guarantee.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qp::worker::toolcalls {

struct XmlCatalog {
  std::vector<std::string> tools;   // tag names that open a tool call
  std::vector<std::string> params;  // tag names that open a parameter

  bool empty() const { return tools.empty(); }
  bool has_tool(std::string_view name) const;
  bool has_param(std::string_view name) const;
};

// True for a Roo Code XML-protocol system prompt: it explains that tool uses
// are "XML-style tags" and shows an <attempt_completion> call.
bool is_roo_xml_prompt(std::string_view system_text);

// Tool names: the known Roo names that appear as `<name>` in the prompt (the
// catalogue shows a usage example for each tool of that release), always
// including attempt_completion. Parameter names: Roo's list.
XmlCatalog parse_xml_catalog(std::string_view system_text);

// Whether `name` is in Roo Code's parameter-name list (native mode reads a
// Roo-style `<tool><P>…</P></tool>` block with these names too, so that a
// `<args>` or flat `<path>` reaches the schema mapping, schema_map.h).
bool is_roo_param_name(std::string_view name);

}  // namespace qp::worker::toolcalls
