// JSON-mode answer checks live in common/ (the worker needs them too).
#pragma once

#include "common/json/json_output.h"

namespace qp::frontend {
using json::parses_as_json;
using json::returned_json_answer;
using json::strip_code_fence;
}  // namespace qp::frontend
