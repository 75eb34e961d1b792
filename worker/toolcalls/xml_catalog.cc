#include "worker/toolcalls/xml_catalog.h"

#include <algorithm>
#include <array>

namespace qp::worker::toolcalls {
namespace {

// packages/types/src/tool.ts `toolNames`, union of v3.20 … v3.41.
constexpr std::array<std::string_view, 25> kRooTools = {
    "execute_command",
    "read_file",
    "write_to_file",
    "apply_diff",
    "insert_content",
    "search_and_replace",
    "search_replace",
    "edit_file",
    "apply_patch",
    "search_files",
    "list_files",
    "list_code_definition_names",
    "browser_action",
    "use_mcp_tool",
    "access_mcp_resource",
    "ask_followup_question",
    "attempt_completion",
    "switch_mode",
    "new_task",
    "fetch_instructions",
    "codebase_search",
    "update_todo_list",
    "run_slash_command",
    "generate_image",
    "custom_tool",
};

// src/shared/tools.ts `toolParamNames`, union of v3.20 … v3.41.
constexpr std::array<std::string_view, 45> kRooParams = {
    "command",      "path",        "content",    "line_count", "regex",
    "file_pattern", "recursive",   "action",     "url",        "coordinate",
    "text",         "server_name", "tool_name",  "arguments",  "uri",
    "question",     "result",      "diff",       "mode_slug",  "reason",
    "line",         "mode",        "message",    "cwd",        "follow_up",
    "task",         "size",        "search",     "replace",    "use_regex",
    "ignore_case",  "args",        "start_line", "end_line",   "query",
    "todos",        "prompt",      "image",      "files",      "operations",
    "patch",        "file_path",   "old_string", "new_string", "expected_replacements",
};

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

void add_unique(std::vector<std::string>* v, std::string_view s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->emplace_back(s);
}

bool has_tag(std::string_view text, std::string_view name) {
  std::string tag = "<";
  tag.append(name).push_back('>');
  return contains(text, tag);
}

}  // namespace

bool XmlCatalog::has_tool(std::string_view name) const {
  return std::find(tools.begin(), tools.end(), name) != tools.end();
}

bool XmlCatalog::has_param(std::string_view name) const {
  return std::find(params.begin(), params.end(), name) != params.end();
}

bool is_roo_param_name(std::string_view name) {
  return std::find(kRooParams.begin(), kRooParams.end(), name) != kRooParams.end();
}

bool is_roo_xml_prompt(std::string_view system_text) {
  return contains(system_text, "<attempt_completion>") &&
         (contains(system_text, "XML-style tags") || contains(system_text, "XML-style tag"));
}

XmlCatalog parse_xml_catalog(std::string_view text) {
  XmlCatalog c;
  for (auto name : kRooTools) {
    if (has_tag(text, name)) add_unique(&c.tools, name);
  }
  for (auto name : kRooParams) add_unique(&c.params, name);
  add_unique(&c.tools, "attempt_completion");
  add_unique(&c.params, "result");
  return c;
}

}  // namespace qp::worker::toolcalls
