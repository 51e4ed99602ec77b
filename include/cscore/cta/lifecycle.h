// The lifecycle of a CTA: a state machine per CTA type. Statuses each map to a category
// (open or a closed outcome); events move a status to another (or keep it and change an
// overlay: flag, snooze, breach); each transition names who may fire it, may carry a guard
// (a CEL condition over the CTA, the actor and the event) and says what it records.
// Compile() validates a LifecycleDef (unknown or unreachable statuses, duplicate events,
// events with no transition, closed statuses left other than by a reopen, guards that do not
// compile) and builds a dense [status x event] table, so applying an event is one array lookup.
//
//   cscore::LifecycleDef def = ...;  // or cscore::LoadLifecycleFile("lifecycles/default.yaml")
//   absl::StatusOr<cscore::Lifecycle> lc = cscore::Lifecycle::Compile(def);
//   const cscore::Lifecycle::Edge* e = lc->Find(lc->FindStatus("new"), lc->FindEvent("start"));
#ifndef CSCORE_CTA_LIFECYCLE_H_
#define CSCORE_CTA_LIFECYCLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cscore/expr/cel.h"

namespace cscore {

enum class CtaCategory : uint8_t { kOpen, kClosedSuccess, kClosedLost, kClosedNoAction };
std::string_view CategoryName(CtaCategory c);
inline bool IsClosed(CtaCategory c) { return c != CtaCategory::kOpen; }

// Roles of the people (and the system) that act on CTAs. Until the escalation module
// answers "is this person above the owner", the role decides (see RoleAuthority).
enum class Role : uint8_t { kCsm, kTeamLead, kVp, kCeo, kAdmin, kSystem };
std::string_view RoleName(Role r);
absl::StatusOr<Role> ParseRole(std::string_view name);

// What a transition records, besides the status change. Entry actions of the target
// status are merged into each transition that enters it (from another status).
enum class CtaAction : uint16_t {
  kStampStarted = 1 << 0,  // started_at = event time
  kStampClosed = 1 << 1,   // closed_at = event time (reopen windows count from it)
  kOpenPlaybook = 1 << 2,  // every playbook task back to not done
  kFlag = 1 << 3,          // flagged, flagged_at = event time
  kUnflag = 1 << 4,
  kSnooze = 1 << 5,  // snoozed until the event's `until`, with the event's reason
  kWake = 1 << 6,
  kMarkBreached = 1 << 7,  // due date passed; FireTimedEvents fires it once
};
std::string_view ActionName(CtaAction a);
absl::StatusOr<CtaAction> ParseAction(std::string_view name);

struct CtaStatusDef {
  std::string name;
  CtaCategory category = CtaCategory::kOpen;
  std::vector<CtaAction> on_entry;
};

// One or more `from` statuses go to `to` on `event`. An empty `to` keeps the status (overlay
// events such as flag). `who`: "owner", "escalation_chain" (anyone above the owner), "system"
// (timed events, rules) or role names ("csm", "team_lead", "vp", "ceo", "admin").
// A transition out of a closed status is a reopen and must give `reopen_within`.
// `guard` (optional) is a CEL condition that must hold for the transition to fire, checked
// after `who`; it reads `cta`, `actor`, `event` and `now` (see Lifecycle::GuardEnvironment).
struct CtaTransitionDef {
  std::string event;
  std::vector<std::string> from;
  std::string to;
  std::vector<std::string> who;
  std::vector<CtaAction> actions;
  absl::Duration reopen_within = absl::ZeroDuration();
  std::string guard = {};
};

struct LifecycleDef {
  std::string name;
  std::vector<std::string> types;  // CTA types using it; empty: the default lifecycle
  std::string initial;             // status of a new CTA; must be open
  std::vector<CtaStatusDef> statuses;
  std::vector<std::string> events;
  std::vector<CtaTransitionDef> transitions;
  std::string snooze_expiry_event;  // fired by FireTimedEvents; empty: none
  std::string due_breach_event;     // idem
  // The overlay event escalation timers fire (cscore/escalation/timers.h): it must exist in
  // every open status, allow 'system' and keep the status. Empty: CTAs of this lifecycle
  // cannot be escalated.
  std::string escalation_event = {};
};

class Lifecycle {
 public:
  static constexpr int kMaxStatuses = 64;
  static constexpr int kMaxEvents = 64;
  static constexpr uint8_t kWhoOwner = 1, kWhoEscalationChain = 2, kWhoSystem = 4;

  // A compiled transition: the table maps (status, event) to one of these.
  struct Edge {
    uint8_t to = 0;
    uint8_t who = 0;    // kWho* bits
    uint8_t roles = 0;  // bit (1 << Role) for each role allowed outright
    uint16_t actions = 0;
    int16_t guard = -1;            // index of the guard program, -1: none
    int64_t reopen_within_us = 0;  // > 0 on reopen transitions
  };

  static absl::StatusOr<Lifecycle> Compile(const LifecycleDef& def);
  // What guards are checked against. Every variable is a map:
  //   cta:   id, account, type, reason, domain, priority (int, 0 highest), owner, source,
  //          status, category, flagged, snoozed, breached (bool), created_at, due_at,
  //          started_at, closed_at (timestamps, null when unset), task_count, tasks_done (int)
  //   actor: id, role, is_owner, above_owner (bool: up the owner's escalation chain)
  //   event: name, reason
  // and `now` is the event time. A guard reading a field not listed is a compile error.
  static cel::Environment GuardEnvironment();
  // The lifecycle shipped with the library (same as examples/demo/config/lifecycles/default.yaml).
  static const Lifecycle& Default();

  const std::string& name() const { return name_; }
  const std::vector<std::string>& types() const { return types_; }
  int status_count() const { return static_cast<int>(status_names_.size()); }
  int event_count() const { return static_cast<int>(event_names_.size()); }
  const std::string& status_name(int s) const { return status_names_[s]; }
  const std::string& event_name(int e) const { return event_names_[e]; }
  CtaCategory category(int s) const { return categories_[s]; }
  int initial() const { return initial_; }
  int snooze_expiry_event() const { return snooze_expiry_; }  // -1: none
  int due_breach_event() const { return due_breach_; }        // -1: none
  int escalation_event() const { return escalation_; }        // -1: none
  // The compiled guard of an edge, or nullptr when it has none.
  const cel::Program* guard(const Edge& edge) const {
    return edge.guard < 0 ? nullptr : &guards_[edge.guard];
  }

  int FindStatus(std::string_view name) const;  // -1 if unknown
  int FindEvent(std::string_view name) const;   // -1 if unknown
  // The transition for `event` in `status`, or nullptr when the event does not apply.
  const Edge* Find(int status, int event) const {
    int16_t slot = table_[status * event_names_.size() + event];
    return slot < 0 ? nullptr : &edges_[slot];
  }
  // The event that takes `from` to `to` (first in definition order), or -1.
  int EventTo(int from, int to) const;

 private:
  friend struct LifecycleCompiler;
  std::string name_;
  std::vector<std::string> types_;
  std::vector<std::string> status_names_;
  std::vector<CtaCategory> categories_;
  std::vector<std::string> event_names_;
  std::vector<Edge> edges_;
  std::vector<int16_t> table_;  // [status * events + event] -> index in edges_, -1: none
  int initial_ = 0;
  int snooze_expiry_ = -1;
  int due_breach_ = -1;
  int escalation_ = -1;
  std::vector<cel::Program> guards_;
};

}  // namespace cscore

#endif  // CSCORE_CTA_LIFECYCLE_H_
