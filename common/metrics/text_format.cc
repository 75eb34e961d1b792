#include "common/metrics/text_format.h"

#include <string_view>
#include <unordered_map>

#include "common/metrics/registry.h"

namespace qp::metrics {
namespace {

void append_help(std::string* out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void append_sample(std::string* out, const std::string& name, const protocol::MetricSample& s) {
  out->append(name);
  out->append(s.suffix);
  if (s.labels.size() >= 2) {
    out->push_back('{');
    for (size_t i = 0; i + 1 < s.labels.size(); i += 2) {
      if (i > 0) out->push_back(',');
      out->append(s.labels[i]);
      out->append("=\"");
      append_label_value(out, s.labels[i + 1]);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(format_value(s.value));
  out->push_back('\n');
}

}  // namespace

void append_label_value(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void write_text(const std::vector<const std::vector<protocol::MetricFamily>*>& sources,
                std::string* out) {
  // name -> the families carrying it, in source order.
  std::vector<std::string_view> order;
  std::unordered_map<std::string_view, std::vector<const protocol::MetricFamily*>> by_name;
  for (const auto* src : sources) {
    if (src == nullptr) continue;
    for (const auto& f : *src) {
      auto [it, fresh] = by_name.try_emplace(f.name);
      if (fresh) order.push_back(f.name);
      if (!it->second.empty() && it->second.front()->type != f.type) continue;
      it->second.push_back(&f);
    }
  }
  for (std::string_view name : order) {
    const auto& fams = by_name[name];
    const auto& first = *fams.front();
    out->append("# HELP ");
    out->append(first.name);
    out->push_back(' ');
    append_help(out, first.help);
    out->append("\n# TYPE ");
    out->append(first.name);
    out->push_back(' ');
    out->append(first.type.empty() ? "untyped" : first.type);
    out->push_back('\n');
    for (const auto* f : fams) {
      for (const auto& s : f->samples) append_sample(out, f->name, s);
    }
  }
}

}  // namespace qp::metrics
