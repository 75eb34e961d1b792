// A tool call as the model wrote it, before the name is resolved and the
// arguments are checked (call_markup.h produces it, arguments.h checks it).
#pragma once

#include <string>
#include <vector>

namespace qp::worker::toolcalls {

struct RawParam {
  std::string name;
  std::string value;  // raw text: one leading and one trailing line break removed
};

struct RawCall {
  std::string name;  // as written; may carry the upstream prefix
  bool has_json = false;
  std::string json;              // has_json: the arguments as JSON text
  std::vector<RawParam> params;  // !has_json: parameter values as text
};

}  // namespace qp::worker::toolcalls
