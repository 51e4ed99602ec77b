// Compiling a lifecycle with errors placed by the caller: the YAML loader maps each item
// (status, event, transition, guard) back to its node so errors read file:line:column.
// Also the one definition of what a guard sees, shared by the compiler (which checks guards
// against a sample) and the store (which evaluates them).
#ifndef CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_
#define CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cscore/cta/lifecycle.h"
#include "cscore/expr/cel.h"

namespace cscore {

struct LifecycleCompiler {
  enum class Item {
    kLifecycle,
    kStatus,
    kEvent,
    kTransition,
    kInitial,
    kSnoozeExpiry,
    kDueBreach,
    kGuard,  // index: the transition; the message starts with the guard's "line:column: "
    kEscalation,
  };
  using Locate = std::function<absl::Status(Item item, int index, std::string_view message)>;
  static absl::StatusOr<Lifecycle> Run(const LifecycleDef& def, const Locate& locate);
};

// Everything a guard can read (Lifecycle::GuardEnvironment lists the names).
struct GuardFields {
  int64_t id = 0;
  std::string_view account, type, reason, domain, owner, source, status, category;
  int priority = 0;
  bool flagged = false, snoozed = false, breached = false;
  std::optional<absl::Time> created_at, due_at, started_at, closed_at;
  int task_count = 0, tasks_done = 0;
  std::string_view actor_id, actor_role;
  bool actor_is_owner = false, actor_above_owner = false;
  std::string_view event, event_reason;
};
cel::Activation GuardActivation(const GuardFields& f);

}  // namespace cscore

#endif  // CSCORE_SRC_CTA_LIFECYCLE_INTERNAL_H_
