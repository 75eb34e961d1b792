// Reads a parameter value written as XML elements, e.g. Roo Code's
// `<file><path>a.cc</path><line_range>1-9</line_range></file>` or
// `<suggest mode="code">yes</suggest>`, so arguments.h can turn it into the
// object or array the schema asks for. Tolerant and small: no entities, no
// comments, no CDATA (their text is kept as is). Pure.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace qp::worker::toolcalls {

struct XmlElement {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  std::string_view inner;  // raw text between the tags
};

// Splits `text` into its top-level elements. Returns false when `text` holds
// anything but whitespace outside elements, or an element is not closed.
bool parse_xml_elements(std::string_view text, std::vector<XmlElement>* out);

}  // namespace qp::worker::toolcalls
