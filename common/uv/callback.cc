#include "common/uv/callback.h"

#include "common/log.h"

namespace qp::uv::detail {

void log_callback_exception(const char* where, const char* what) noexcept {
  try {
    QP_ERROR("callback_exception").kv("in", where).kv("error", what);
  } catch (...) {  // logging itself failed (out of memory): nothing more to do
  }
}

}  // namespace qp::uv::detail
