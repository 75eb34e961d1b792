#include "frontend/metrics_endpoint.h"

#include "common/metrics/text_format.h"
#include "common/strings.h"

namespace qp::frontend {

std::string metrics_text(const std::vector<protocol::MetricFamily>& own,
                         const std::vector<protocol::MetricFamily>* broker) {
  std::string out;
  out.reserve(16 * 1024);
  metrics::write_text({&own, broker}, &out);
  return out;
}

}  // namespace qp::frontend
