#include "worker/toolcalls/prompt_render.h"

#include <simdjson.h>

#include "common/strings.h"
#include "worker/toolcalls/signature.h"

namespace qp::worker::toolcalls {
namespace {

using strings::trim;

void append_call_block(std::string* out, std::string_view name,
                       const std::vector<std::pair<std::string, std::string>>& params) {
  out->append("<tool_call>\n<function=").append(ToolSet::upstream_name(name)).append(">\n");
  for (const auto& [k, v] : params) {
    out->append("<parameter=").append(k).append(">\n");
    out->append(v).append("\n</parameter>\n");
  }
  out->append("</function>\n</tool_call>");
}

}  // namespace

std::string render_tool_section(const ToolPlan& plan) {
  if (plan.mode != ToolMode::kNative) return {};
  std::string out;
  out.append(
      "# Tools\n\n"
      "You can call the tools below. Each is shown as a signature: `name: type` per parameter, "
      "`?` marks an optional parameter, `\"a\"|\"b\"` lists the allowed values, `T[]` is a list "
      "and `{…}` an object.\n");
  for (const auto& tool : plan.tools.tools()) {
    out.append("\n## ").append(tool_signature(tool)).push_back('\n');
    std::string_view desc = trim(tool.description);
    if (!desc.empty()) out.append(desc).push_back('\n');
    std::string notes = parameter_notes(tool.parameters);
    if (!notes.empty()) out.append("Parameters:\n").append(notes);
  }
  out.append(
      "\n# How to call a tool\n\n"
      "To call a tool, write this block in your reply, with the tool's name and one "
      "<parameter=…> part per parameter:\n\n");
  append_call_block(&out, "example_tool", {{"example_parameter", "value"}});
  out.append(
      "\n\nRules:\n"
      "- Tool names start with \"");
  out.append(kUpstreamPrefix);
  out.append(
      "\"; write them exactly as listed. Only the tools listed above exist: do not use any "
      "built-in tool (web search, code interpreter, image generation or others).\n"
      "- Write each value as plain text, exactly as it should arrive: no quotes and no escaping, "
      "even for code. Write lists and objects as JSON.\n"
      "- Write the block itself, not inside a code block, and do not describe a call instead of "
      "making it.\n");
  if (plan.single_call()) {
    out.append("- Call at most one tool per reply.\n");
  } else {
    out.append(
        "- You may call several tools in one reply: write one <tool_call> block after the other; "
        "they run in that order.\n");
  }
  out.append(
      "- After your tool call(s), end your reply. The results come back in the next message as "
      "<tool_response> blocks.\n");
  switch (plan.choice.mode) {
    case ToolChoice::Mode::kRequired:
      out.append("- You must call at least one tool in this reply.\n");
      break;
    case ToolChoice::Mode::kNamed:
      out.append("- You must call ")
          .append(ToolSet::upstream_name(plan.choice.name))
          .append(" in this reply.\n");
      break;
    default:
      if (!plan.roo) out.append("- Call a tool when it helps; otherwise answer directly.\n");
      break;
  }
  if (plan.roo && plan.completion_tool() != nullptr) {
    out.append("- Every reply must call a tool. To give your final answer, call ")
        .append(ToolSet::upstream_name(kCompletionTool))
        .append(" with the answer as its result.\n");
  }
  return out;
}

std::string render_retry_instruction(const ToolPlan& plan) {
  std::string out = "Your previous reply did not call a tool, but this reply must. Reply with ";
  if (plan.choice.mode == ToolChoice::Mode::kNamed) {
    out.append("a call to ").append(ToolSet::upstream_name(plan.choice.name));
  } else {
    out.append("a tool call");
  }
  out.append(
      ", written exactly in the <tool_call><function=…><parameter=…> format described above, "
      "and nothing else.");
  return out;
}

std::string render_xml_reminder(const ToolPlan& plan) {
  if (plan.mode != ToolMode::kXml) return {};
  return "Reply with exactly one tool use, written with the XML tags described in the system "
         "prompt (not in a code block). Do not use any built-in tool. To finish, use "
         "attempt_completion.";
}

std::string render_assistant_tool_calls(std::string_view tool_calls_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (parser.parse(tool_calls_json.data(), tool_calls_json.size()).get(doc) ||
      doc.get_array().get(arr)) {
    return std::string(tool_calls_json);
  }
  std::string out;
  for (simdjson::dom::element call : arr) {
    std::string_view name, args;
    if (call["function"]["name"].get_string().get(name)) continue;
    if (call["function"]["arguments"].get_string().get(args)) args = "{}";
    std::vector<std::pair<std::string, std::string>> params;
    simdjson::dom::parser ap;  // arguments are JSON inside a JSON string
    simdjson::dom::element ad;
    simdjson::dom::object obj;
    if (!ap.parse(args.data(), args.size()).get(ad) && !ad.get_object().get(obj)) {
      for (auto f : obj) {
        std::string_view s;
        if (!f.value.get_string().get(s))
          params.emplace_back(std::string(f.key), std::string(s));
        else
          params.emplace_back(std::string(f.key), simdjson::minify(f.value));
      }
    } else if (!trim(args).empty() && trim(args) != "{}") {
      params.emplace_back("arguments", std::string(args));  // unparseable: shown as it was
    }
    if (!out.empty()) out.push_back('\n');
    append_call_block(&out, name, params);
  }
  return out;
}

std::string render_tool_result(std::string_view tool_call_id, std::string_view name,
                               std::string_view content) {
  std::string out = "<tool_response";
  if (!name.empty()) out.append(" name=\"").append(ToolSet::upstream_name(name)).push_back('"');
  if (!tool_call_id.empty()) {
    out.append(" id=\"");
    for (char c : tool_call_id) {
      if (c != '"' && c != '\n' && c != '\r' && c != '<' && c != '>') out.push_back(c);
    }
    out.push_back('"');
  }
  out.append(">\n").append(content);
  if (content.empty() || content.back() != '\n') out.push_back('\n');
  out.append("</tool_response>");
  return out;
}

void CallNames::add(std::string_view tool_calls_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (parser.parse(tool_calls_json.data(), tool_calls_json.size()).get(doc) ||
      doc.get_array().get(arr))
    return;
  for (simdjson::dom::element call : arr) {
    std::string_view id, name;
    if (call["id"].get_string().get(id) || call["function"]["name"].get_string().get(name))
      continue;
    ids_.emplace_back(std::string(id), std::string(name));
  }
}

std::string_view CallNames::find(std::string_view id) const {
  for (auto it = ids_.rbegin(); it != ids_.rend(); ++it) {
    if (it->first == id) return it->second;
  }
  return {};
}

}  // namespace qp::worker::toolcalls
