#include "worker/toolcalls/call_markup.h"

#include <algorithm>

#include <simdjson.h>

#include "common/strings.h"
#include "worker/toolcalls/json_repair.h"

namespace qp::worker::toolcalls {
namespace {

using strings::is_space;
using strings::trim;

constexpr std::string_view kParamOpen = "<parameter=";
constexpr std::string_view kParamClose = "</parameter>";
constexpr std::string_view kFunctionOpen = "<function=";
constexpr std::string_view kFunctionClose = "</function>";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool tag_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// "name", 'name' or name → name.
std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return trim(s);
}

// ```json … ``` around the content of a block.
std::string_view strip_fence(std::string_view s) {
  s = trim(s);
  if (!starts_with(s, "```")) return s;
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos) return s;
  s.remove_prefix(nl + 1);
  s = trim(s);
  if (s.size() >= 3 && s.substr(s.size() - 3) == "```") s.remove_suffix(3);
  return trim(s);
}

// One call object: {"name", "arguments"|…} or {"function":{…}}.
bool call_from_object(simdjson::dom::element obj, RawCall* out) {
  simdjson::dom::element fn;
  if (!obj["function"].get(fn) && fn.is_object()) obj = fn;
  std::string_view name;
  if (obj["name"].get_string().get(name) || trim(name).empty()) return false;
  out->name.assign(trim(name));
  out->has_json = true;
  simdjson::dom::element args;
  for (const char* key : {"arguments", "parameters", "args", "input"}) {
    if (!obj[key].get(args)) {
      std::string_view s;
      if (!args.get_string().get(s)) {
        out->json.assign(trim(s).empty() ? std::string_view("{}") : s);  // JSON in a string
      } else if (args.is_null()) {
        out->json = "{}";
      } else {
        out->json = simdjson::minify(args);
      }
      return true;
    }
  }
  out->json = "{}";
  return true;
}

bool calls_from_json(std::string_view text, std::vector<RawCall>* out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::document_stream stream;
  // One batch as large as the text (the default batch is 1 MB, allocated
  // per call).
  if (parser.parse_many(padded, std::max<size_t>(padded.size(), 64)).get(stream)) return false;
  std::vector<RawCall> calls;
  for (auto doc : stream) {
    simdjson::dom::element e;
    if (doc.get(e)) return false;
    simdjson::dom::array arr;
    if (!e.get_array().get(arr)) {
      for (simdjson::dom::element x : arr) {
        RawCall c;
        if (!call_from_object(x, &c)) return false;
        calls.push_back(std::move(c));
      }
    } else {
      RawCall c;
      if (!call_from_object(e, &c)) return false;
      calls.push_back(std::move(c));
    }
  }
  if (stream.truncated_bytes() > 0 || calls.empty()) return false;
  for (auto& c : calls) out->push_back(std::move(c));
  return true;
}

void set_param(RawCall* call, std::string_view name, std::string_view value) {
  for (auto& p : call->params) {
    if (p.name == name) {  // repeated parameter: the last one wins (as in Roo Code)
      p.value.assign(value);
      return;
    }
  }
  call->params.push_back(RawParam{std::string(name), std::string(value)});
}

// At body[p] == '<': the parameter name of `<P>` if P is a parameter of `tool`.
std::string_view param_open_at(std::string_view body, size_t p, std::string_view tool,
                               const ParamNames& names) {
  size_t i = p + 1;
  while (i < body.size() && tag_name_char(body[i])) ++i;
  if (i == p + 1 || i >= body.size() || body[i] != '>') return {};
  std::string_view name = body.substr(p + 1, i - p - 1);
  return names.is_param(tool, name) ? name : std::string_view{};
}

size_t next_param_open(std::string_view body, size_t from, std::string_view tool,
                       const ParamNames& names) {
  for (size_t p = body.find('<', from); p != std::string_view::npos; p = body.find('<', p + 1)) {
    if (!param_open_at(body, p, tool, names).empty()) return p;
  }
  return body.size();
}

}  // namespace

bool cut_inside_value(std::string_view inner) {
  bool in_string = false, escaped = false;
  for (char c : inner) {
    if (escaped)
      escaped = false;
    else if (in_string && c == '\\')
      escaped = true;
    else if (c == '"')
      in_string = !in_string;
  }
  size_t open = inner.rfind(kParamOpen);
  bool in_param =
      open != std::string_view::npos && inner.find(kParamClose, open) == std::string_view::npos;
  std::string_view t = inner;
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  bool json = !t.empty() && (t.front() == '{' || t.front() == '[');
  return in_param || (json && in_string);
}

std::string_view strip_one_newline(std::string_view v) {
  if (starts_with(v, "\r\n"))
    v.remove_prefix(2);
  else if (starts_with(v, "\n"))
    v.remove_prefix(1);
  if (v.size() >= 2 && v.substr(v.size() - 2) == "\r\n")
    v.remove_suffix(2);
  else if (!v.empty() && v.back() == '\n')
    v.remove_suffix(1);
  return v;
}

bool parse_function_body(std::string_view name, std::string_view body, RawCall* out,
                         std::string* why) {
  out->name.assign(unquote(name));
  if (out->name.empty()) {
    *why = "function call without a name";
    return false;
  }
  std::string_view t = strip_fence(body);
  if (!t.empty() && t.front() == '{') {  // <function=N>{json}</function>
    out->has_json = true;
    out->json.assign(t);
    return true;
  }
  size_t pos = 0;
  while (true) {
    size_t p = body.find(kParamOpen, pos);
    if (p == std::string_view::npos) break;
    size_t gt = body.find('>', p + kParamOpen.size());
    if (gt == std::string_view::npos) break;  // cut inside the tag: drop it
    std::string_view pname =
        unquote(body.substr(p + kParamOpen.size(), gt - p - kParamOpen.size()));
    size_t start = gt + 1;
    // The value ends at the first </parameter> that is followed by the next
    // parameter, the end of the function or the end of the block; a value
    // may therefore contain "</parameter>" itself.
    size_t end = std::string_view::npos;
    size_t first = body.find(kParamClose, start);
    for (size_t c = first; c != std::string_view::npos; c = body.find(kParamClose, c + 1)) {
      size_t a = c + kParamClose.size();
      while (a < body.size() && is_space(body[a])) ++a;
      std::string_view after = body.substr(a);
      if (after.empty() || starts_with(after, kParamOpen) || starts_with(after, kFunctionClose) ||
          starts_with(after, "</tool_call>")) {
        end = c;
        break;
      }
    }
    if (end == std::string_view::npos) end = first;
    size_t next;
    if (end == std::string_view::npos) {  // truncated value: up to the next parameter or the end
      end = body.find(kParamOpen, start);
      if (end == std::string_view::npos) end = body.size();
      next = end;
    } else {
      next = end + kParamClose.size();
    }
    if (!pname.empty()) set_param(out, pname, strip_one_newline(body.substr(start, end - start)));
    pos = next;
  }
  return true;
}

bool parse_tag_body(std::string_view name, std::string_view body, const ParamNames& names,
                    RawCall* out, std::string* why) {
  (void)why;
  out->name.assign(name);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t p = body.find('<', pos);
    if (p == std::string_view::npos) break;
    std::string_view pname = param_open_at(body, p, name, names);
    if (pname.empty()) {
      pos = p + 1;
      continue;
    }
    size_t start = p + pname.size() + 2;
    std::string close = "</";
    close.append(pname).push_back('>');
    size_t first = body.find(close, start);
    if (first == std::string_view::npos) {  // truncated: the rest is the value
      set_param(out, pname, strip_one_newline(body.substr(start)));
      break;
    }
    size_t limit = next_param_open(body, first + close.size(), name, names);
    size_t last = body.substr(0, limit).rfind(close);
    set_param(out, pname, strip_one_newline(body.substr(start, last - start)));
    pos = last + close.size();
  }
  return true;
}

bool parse_tool_call_body(std::string_view body, const ParamNames* tag_names,
                          std::vector<RawCall>* out, std::string* why) {
  std::string_view t = strip_fence(body);
  if (t.empty()) {
    *why = "empty tool_call";
    return false;
  }
  if (starts_with(t, kFunctionOpen)) {
    size_t gt = t.find('>');
    if (gt == std::string_view::npos) {
      *why = "unterminated <function=…> tag";
      return false;
    }
    std::string_view inner = t.substr(gt + 1);
    size_t close = inner.rfind(kFunctionClose);
    if (close != std::string_view::npos) inner = inner.substr(0, close);
    RawCall c;
    if (!parse_function_body(t.substr(kFunctionOpen.size(), gt - kFunctionOpen.size()), inner, &c,
                             why))
      return false;
    out->push_back(std::move(c));
    return true;
  }
  if (t.front() == '<' && tag_names != nullptr) {
    size_t i = 1;
    while (i < t.size() && tag_name_char(t[i])) ++i;
    if (i > 1 && i < t.size() && t[i] == '>') {
      std::string_view name = t.substr(1, i - 1);
      std::string_view inner = t.substr(i + 1);
      std::string close = "</";
      close.append(name).push_back('>');
      size_t end = inner.rfind(close);
      if (end != std::string_view::npos) inner = inner.substr(0, end);
      RawCall c;
      if (!parse_tag_body(name, inner, *tag_names, &c, why)) return false;
      out->push_back(std::move(c));
      return true;
    }
  }
  if (t.front() == '{' || t.front() == '[') {
    if (calls_from_json(t, out)) return true;
    std::string fixed = repair_json(t);
    if (calls_from_json(fixed, out)) return true;
    *why = "tool_call JSON does not parse";
    return false;
  }
  *why = "tool_call body is neither JSON nor a function block";
  return false;
}

}  // namespace qp::worker::toolcalls
