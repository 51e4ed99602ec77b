#include "cscore/cta/lifecycle.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cscore/base/strings.h"
#include "cscore/cta/lifecycle_yaml.h"
#include "cta/lifecycle_internal.h"

namespace cscore {
namespace {

constexpr std::string_view kCategoryNames[] = {"open", "closed_success", "closed_lost",
                                               "closed_no_action"};
constexpr std::string_view kRoleNames[] = {"csm", "team_lead", "vp", "ceo", "admin", "system"};
constexpr std::pair<CtaAction, std::string_view> kActionNames[] = {
    {CtaAction::kStampStarted, "stamp_started"},
    {CtaAction::kStampClosed, "stamp_closed"},
    {CtaAction::kOpenPlaybook, "open_playbook"},
    {CtaAction::kFlag, "flag"},
    {CtaAction::kUnflag, "unflag"},
    {CtaAction::kSnooze, "snooze"},
    {CtaAction::kWake, "wake"},
    {CtaAction::kMarkBreached, "mark_breached"},
};

uint16_t Mask(const std::vector<CtaAction>& actions) {
  uint16_t m = 0;
  for (CtaAction a : actions) m |= static_cast<uint16_t>(a);
  return m;
}

}  // namespace

std::string_view CategoryName(CtaCategory c) { return kCategoryNames[static_cast<int>(c)]; }
std::string_view RoleName(Role r) { return kRoleNames[static_cast<int>(r)]; }

absl::StatusOr<Role> ParseRole(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown role '", name, "' (expected csm, team_lead, vp, ceo, admin or system)"));
}

std::string_view ActionName(CtaAction a) {
  for (const auto& [action, name] : kActionNames) {
    if (action == a) return name;
  }
  return "?";
}

absl::StatusOr<CtaAction> ParseAction(std::string_view name) {
  for (const auto& [action, n] : kActionNames) {
    if (n == name) return action;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown action '", name,
             "' (expected stamp_started, stamp_closed, open_playbook, flag, unflag, snooze, "
             "wake or mark_breached)"));
}

int Lifecycle::FindStatus(std::string_view name) const {
  for (size_t i = 0; i < status_names_.size(); ++i) {
    if (status_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int Lifecycle::FindEvent(std::string_view name) const {
  for (size_t i = 0; i < event_names_.size(); ++i) {
    if (event_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int Lifecycle::EventTo(int from, int to) const {
  for (int e = 0; e < event_count(); ++e) {
    const Edge* edge = Find(from, e);
    if (edge != nullptr && edge->to == to && from != to) return e;
  }
  return -1;
}

absl::StatusOr<Lifecycle> Lifecycle::Compile(const LifecycleDef& def) {
  return LifecycleCompiler::Run(def, [](LifecycleCompiler::Item, int, std::string_view msg) {
    return absl::InvalidArgumentError(ToAbsl(msg));
  });
}

const Lifecycle& Lifecycle::Default() {
  static const Lifecycle* const kDefault = [] {
    absl::StatusOr<Lifecycle> lc = LoadLifecycleString(DefaultLifecycleYaml(), "<default>");
    if (!lc.ok()) {  // the embedded text is tested; reaching this is a build defect
      std::cerr << "cscore: built-in lifecycle does not compile: " << lc.status() << "\n";
      std::abort();
    }
    return new Lifecycle(*std::move(lc));
  }();
  return *kDefault;
}

absl::StatusOr<Lifecycle> LifecycleCompiler::Run(const LifecycleDef& def, const Locate& locate) {
  using I = Item;
  Lifecycle lc;
  lc.name_ = def.name.empty() ? "default" : def.name;
  lc.types_ = def.types;
  const std::string where = StrCat("lifecycle '", lc.name_, "': ");
  if (def.statuses.empty()) return locate(I::kLifecycle, 0, StrCat(where, "has no statuses"));
  if (def.statuses.size() > Lifecycle::kMaxStatuses) {
    return locate(I::kStatus, Lifecycle::kMaxStatuses,
                  StrCat(where, "more than ", Lifecycle::kMaxStatuses, " statuses"));
  }
  if (def.events.size() > Lifecycle::kMaxEvents) {
    return locate(I::kEvent, Lifecycle::kMaxEvents,
                  StrCat(where, "more than ", Lifecycle::kMaxEvents, " events"));
  }
  for (size_t i = 0; i < def.statuses.size(); ++i) {
    const CtaStatusDef& s = def.statuses[i];
    if (s.name.empty()) return locate(I::kStatus, i, StrCat(where, "a status has no name"));
    if (lc.FindStatus(s.name) >= 0) {
      return locate(I::kStatus, i, StrCat(where, "duplicate status '", s.name, "'"));
    }
    lc.status_names_.push_back(s.name);
    lc.categories_.push_back(s.category);
  }
  for (size_t i = 0; i < def.events.size(); ++i) {
    if (def.events[i].empty()) return locate(I::kEvent, i, StrCat(where, "an event has no name"));
    if (lc.FindEvent(def.events[i]) >= 0) {
      return locate(I::kEvent, i, StrCat(where, "duplicate event '", def.events[i], "'"));
    }
    lc.event_names_.push_back(def.events[i]);
  }
  lc.initial_ = lc.FindStatus(def.initial);
  if (lc.initial_ < 0) {
    return locate(I::kInitial, 0, StrCat(where, "initial status '", def.initial, "' is unknown"));
  }
  if (IsClosed(lc.categories_[lc.initial_])) {
    return locate(I::kInitial, 0,
                  StrCat(where, "initial status '", def.initial, "' must be in category open"));
  }

  const size_t n_events = lc.event_names_.size();
  lc.table_.assign(lc.status_names_.size() * n_events, -1);
  std::vector<bool> event_used(n_events, false);
  for (size_t t = 0; t < def.transitions.size(); ++t) {
    const CtaTransitionDef& tr = def.transitions[t];
    const int event = lc.FindEvent(tr.event);
    if (event < 0) {
      return locate(I::kTransition, t,
                    StrCat(where, "transition on unknown event '", tr.event, "'"));
    }
    event_used[event] = true;
    int to = -1;
    if (!tr.to.empty()) {
      to = lc.FindStatus(tr.to);
      if (to < 0) {
        return locate(
            I::kTransition, t,
            StrCat(where, "transition '", tr.event, "' goes to unknown status '", tr.to, "'"));
      }
    }
    if (tr.from.empty()) {
      return locate(I::kTransition, t,
                    StrCat(where, "transition '", tr.event, "' has no 'from' status"));
    }
    Lifecycle::Edge base;
    if (tr.who.empty()) {
      return locate(I::kTransition, t,
                    StrCat(where, "transition '", tr.event, "' names nobody in 'who'"));
    }
    for (const std::string& w : tr.who) {
      if (w == "owner") {
        base.who |= Lifecycle::kWhoOwner;
      } else if (w == "escalation_chain") {
        base.who |= Lifecycle::kWhoEscalationChain;
      } else if (w == "system") {
        base.who |= Lifecycle::kWhoSystem;
      } else {
        absl::StatusOr<Role> role = ParseRole(w);
        if (!role.ok()) {
          return locate(I::kTransition, t,
                        StrCat(where, "transition '", tr.event, "': 'who' has '", w,
                               "' (expected owner, escalation_chain, system or a role)"));
        }
        base.roles |= static_cast<uint8_t>(1u << static_cast<int>(*role));
      }
    }
    if (tr.reopen_within < absl::ZeroDuration()) {
      return locate(I::kTransition, t,
                    StrCat(where, "transition '", tr.event, "': negative reopen_within"));
    }
    base.reopen_within_us = absl::ToInt64Microseconds(tr.reopen_within);
    for (const std::string& from_name : tr.from) {
      const int from = lc.FindStatus(from_name);
      if (from < 0) {
        return locate(
            I::kTransition, t,
            StrCat(where, "transition '", tr.event, "' from unknown status '", from_name, "'"));
      }
      const int target = to < 0 ? from : to;
      const bool from_closed = IsClosed(lc.categories_[from]);
      if (from_closed && (base.reopen_within_us <= 0 || IsClosed(lc.categories_[target]))) {
        return locate(
            I::kTransition, t,
            StrCat(where, "status '", from_name, "' is closed (",
                   CategoryName(lc.categories_[from]), ") but has outgoing transition '", tr.event,
                   "' that is not a reopen (a reopen goes to an open status and "
                   "gives reopen_within)"));
      }
      if (!from_closed && base.reopen_within_us > 0) {
        return locate(I::kTransition, t,
                      StrCat(where, "transition '", tr.event, "' from open status '", from_name,
                             "' gives reopen_within; only transitions out of a closed status "
                             "are reopens"));
      }
      int16_t& slot = lc.table_[from * n_events + event];
      if (slot >= 0) {
        return locate(
            I::kTransition, t,
            StrCat(where, "status '", from_name, "' already has a transition on '", tr.event, "'"));
      }
      Lifecycle::Edge edge = base;
      edge.to = static_cast<uint8_t>(target);
      edge.actions = Mask(tr.actions);
      if (target != from) edge.actions |= Mask(def.statuses[target].on_entry);
      slot = static_cast<int16_t>(lc.edges_.size());
      lc.edges_.push_back(edge);
    }
  }
  for (size_t e = 0; e < n_events; ++e) {
    if (!event_used[e]) {
      return locate(I::kEvent, e,
                    StrCat(where, "event '", lc.event_names_[e], "' has no transition"));
    }
  }

  // Reachability from the initial status over the table.
  std::vector<bool> seen(lc.status_names_.size(), false);
  std::vector<int> stack = {lc.initial_};
  seen[lc.initial_] = true;
  while (!stack.empty()) {
    const int s = stack.back();
    stack.pop_back();
    for (size_t e = 0; e < n_events; ++e) {
      const Lifecycle::Edge* edge = lc.Find(s, e);
      if (edge != nullptr && !seen[edge->to]) {
        seen[edge->to] = true;
        stack.push_back(edge->to);
      }
    }
  }
  for (size_t s = 0; s < seen.size(); ++s) {
    if (!seen[s]) {
      return locate(I::kStatus, s,
                    StrCat(where, "status '", lc.status_names_[s], "' is unreachable from '",
                           def.initial, "'"));
    }
  }

  auto timed = [&](const std::string& name, I item, int* out) -> absl::Status {
    if (name.empty()) return absl::OkStatus();
    *out = lc.FindEvent(name);
    if (*out < 0) return locate(item, 0, StrCat(where, "timed event '", name, "' is unknown"));
    return absl::OkStatus();
  };
  if (absl::Status st = timed(def.snooze_expiry_event, I::kSnoozeExpiry, &lc.snooze_expiry_);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = timed(def.due_breach_event, I::kDueBreach, &lc.due_breach_); !st.ok()) {
    return st;
  }
  // FireTimedEvents is idempotent only if each firing clears its own cause.
  auto clears = [&](int event, CtaAction action, I item) -> absl::Status {
    if (event < 0) return absl::OkStatus();
    for (size_t s = 0; s < lc.status_names_.size(); ++s) {
      const Lifecycle::Edge* edge = lc.Find(s, event);
      if (edge == nullptr) continue;
      if (!(edge->who & Lifecycle::kWhoSystem) ||
          !(edge->actions & static_cast<uint16_t>(action))) {
        return locate(
            item, 0,
            StrCat(where, "timed event '", lc.event_names_[event], "' from status '",
                   lc.status_names_[s], "' must allow 'system' and do '", ActionName(action), "'"));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status st = clears(lc.snooze_expiry_, CtaAction::kWake, I::kSnoozeExpiry); !st.ok()) {
    return st;
  }
  if (absl::Status st = clears(lc.due_breach_, CtaAction::kMarkBreached, I::kDueBreach); !st.ok()) {
    return st;
  }
  return lc;
}

}  // namespace cscore
