// Parses one complete (or truncated) tool-call block of the model's answer
// into RawCalls. The streaming parsers find where a block starts and ends;
// this file only reads what is inside. Pure.
//
// Accepted markup (the forms Qwen models write, instructed or not):
//   <tool_call>{"name":N,"arguments":{…}}</tool_call>   also "parameters",
//       "args", "input", arguments given as a JSON string, OpenAI's
//       {"function":{"name","arguments"}} shape, an array of calls, several
//       objects in a row, and a ```json fence inside the tags;
//   <tool_call><function=N><parameter=P>v</parameter>…</function></tool_call>
//   <function=N><parameter=P>v</parameter>…</function>     (bare)
//   <N><P>v</P>…</N>    Roo Code style, only for names of known tools.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "worker/toolcalls/raw_call.h"

namespace qp::worker::toolcalls {

// Which tag-style parameter names a tool takes (Roo style blocks only).
class ParamNames {
 public:
  virtual ~ParamNames() = default;
  virtual bool is_param(std::string_view tool, std::string_view name) const = 0;
};

// Body of <tool_call>…</tool_call>, without the tags. `tag_names` resolves
// Roo-style blocks inside (may be null). On failure returns false and says
// why in *why.
bool parse_tool_call_body(std::string_view body, const ParamNames* tag_names,
                          std::vector<RawCall>* out, std::string* why);

// Body of <function=NAME>…</function>, without the tags.
bool parse_function_body(std::string_view name, std::string_view body, RawCall* out,
                         std::string* why);

// Body of <NAME>…</NAME>, without the tags. A value ends at the last `</P>`
// before the next parameter opens (so a file body may contain `</content>`,
// as Roo Code allows for write_to_file).
bool parse_tag_body(std::string_view name, std::string_view body, const ParamNames& names,
                    RawCall* out, std::string* why);

// For a <tool_call> or <function=…> block cut off by the end of the answer:
// whether the cut fell inside a JSON string or a <parameter=…> value (then
// the arguments are incomplete even if they can be made to parse).
bool cut_inside_value(std::string_view inner);

// Removes one leading and one trailing line break (\n or \r\n).
std::string_view strip_one_newline(std::string_view v);

}  // namespace qp::worker::toolcalls
