#include "roo_sim.h"

namespace qp::worker::toolcalls::test {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(a, b - a + 1));
}

std::string strip_one_newline(std::string v) {
  if (!v.empty() && v.front() == '\n') v.erase(0, 1);
  if (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

}  // namespace

std::vector<RooBlock> roo_parse(std::string_view text, const std::vector<std::string>& tools,
                                const std::vector<std::string>& params) {
  std::vector<RooBlock> blocks;
  enum { kText, kTool, kParam } state = kText;
  std::string acc;  // TEXT: text so far; TOOL: tool content so far
  RooBlock tool;
  std::string param, value;
  for (char c : text) {
    if (state == kText) {
      acc.push_back(c);
      for (const auto& name : tools) {
        std::string open = "<" + name + ">";
        if (ends_with(acc, open)) {
          std::string t = trim(std::string_view(acc).substr(0, acc.size() - open.size()));
          if (!t.empty()) {
            RooBlock b;
            b.text = t;
            blocks.push_back(b);
          }
          acc.clear();
          tool = RooBlock{};
          tool.tool = true;
          tool.name = name;
          state = kTool;
          break;
        }
      }
      continue;
    }
    if (state == kParam) {
      value.push_back(c);
      std::string close = "</" + param + ">";
      acc.push_back(c);
      if (ends_with(value, close)) {
        std::string v = value.substr(0, value.size() - close.size());
        tool.params[param] = param == "content" ? strip_one_newline(v) : trim(v);
        state = kTool;
      }
      continue;
    }
    // kTool
    acc.push_back(c);
    if (ends_with(acc, "</" + tool.name + ">")) {
      blocks.push_back(tool);
      acc.clear();
      state = kText;
      continue;
    }
    if (tool.name == "write_to_file" && ends_with(acc, "</content>")) {
      size_t a = acc.find("<content>");
      size_t b = acc.rfind("</content>");
      if (a != std::string::npos && b > a)
        tool.params["content"] = strip_one_newline(acc.substr(a + 9, b - a - 9));
    }
    for (const auto& p : params) {
      if (ends_with(acc, "<" + p + ">")) {
        param = p;
        value.clear();
        state = kParam;
        break;
      }
    }
  }
  if (state == kText) {
    std::string t = trim(acc);
    if (!t.empty()) {
      RooBlock b;
      b.text = t;
      blocks.push_back(b);
    }
  } else {
    if (state == kParam) tool.params[param] = trim(value);
    tool.partial = true;
    blocks.push_back(tool);
  }
  return blocks;
}

int count_tools(const std::vector<RooBlock>& blocks) {
  int n = 0;
  for (const auto& b : blocks) n += b.tool ? 1 : 0;
  return n;
}

}  // namespace qp::worker::toolcalls::test
