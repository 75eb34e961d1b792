// Small helpers over simdjson on-demand shared by the mock's parsers.
#pragma once

#include <simdjson.h>

namespace qp::mock {

// True when the whole document was consumed (simdjson 3.0 has no
// document::at_end(); current_location() reports OUT_OF_BOUNDS at the end).
inline bool json_at_end(simdjson::ondemand::document& doc) {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace qp::mock
