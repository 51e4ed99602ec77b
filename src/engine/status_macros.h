// Early-return helpers for absl::Status / StatusOr, shared by the engine and the store.
#ifndef CSCORE_SRC_ENGINE_STATUS_MACROS_H_
#define CSCORE_SRC_ENGINE_STATUS_MACROS_H_

#include <utility>

#define CSCORE_RETURN_IF_ERROR(expr)          \
  do {                                        \
    if (absl::Status _s = (expr); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (0)

#define CSCORE_ASSIGN_OR_RETURN_IMPL(var, tmp, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  var = std::move(*tmp)
#define CSCORE_STATUS_CONCAT2(a, b) a##b
#define CSCORE_STATUS_CONCAT(a, b) CSCORE_STATUS_CONCAT2(a, b)
#define CSCORE_ASSIGN_OR_RETURN(var, expr) \
  CSCORE_ASSIGN_OR_RETURN_IMPL(var, CSCORE_STATUS_CONCAT(_status_or_, __LINE__), expr)

#endif  // CSCORE_SRC_ENGINE_STATUS_MACROS_H_
