// Compiling a lifecycle with errors placed by the caller: the YAML loader maps each item
// (status, event, transition) back to its node so errors read file:line:column.
#ifndef CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_
#define CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_

#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "cscore/cta/lifecycle.h"

namespace cscore {

struct LifecycleCompiler {
  enum class Item { kLifecycle, kStatus, kEvent, kTransition, kInitial, kSnoozeExpiry, kDueBreach };
  using Locate = std::function<absl::Status(Item item, int index, std::string_view message)>;
  static absl::StatusOr<Lifecycle> Run(const LifecycleDef& def, const Locate& locate);
};

}  // namespace cscore

#endif  // CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_
