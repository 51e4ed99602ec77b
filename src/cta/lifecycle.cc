#include "cscore/cta/lifecycle.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <span>

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

cel::Value Str(std::string_view s) { return cel::Value::String(std::string(s)); }

cel::Value TimeOrNull(const std::optional<absl::Time>& t) {
  return t.has_value() ? cel::Value::Timestamp(*t) : cel::Value::Null();
}

// A guard that selects a field the maps do not have would fail on every CTA; find that at
// compile time by evaluating it once over a sample with every field set.
bool IsShapeError(const cel::Value& v) {
  if (!v.is_error()) return false;
  const std::string& m = v.error_message();
  return m.rfind("no such key", 0) == 0 || m.rfind("cannot select field", 0) == 0;
}

constexpr std::string_view kCtaFields[] = {
    "id",     "account",    "type",      "reason",     "domain",    "priority", "owner",
    "source", "status",     "category",  "flagged",    "snoozed",   "breached", "created_at",
    "due_at", "started_at", "closed_at", "task_count", "tasks_done"};
constexpr std::string_view kActorFields[] = {"id", "role", "is_owner", "above_owner"};
constexpr std::string_view kEventFields[] = {"name", "reason"};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// "line:column: <var> has no field '<f>'" for the first `cta.f`, `actor.f` or `event.f`
// whose field the guard variables do not have, found lexically (string literals skipped) so
// that a typo is caught when the lifecycle loads whatever branch it sits in.
std::optional<std::string> UnknownGuardField(std::string_view text) {
  int line = 1, col = 1;
  size_t i = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < text.size(); ++k, ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
  };
  auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) advance(1);
  };
  char prev = 0;  // last significant character before an identifier
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      const bool triple = text.substr(i, 3) == std::string(3, c);
      advance(triple ? 3 : 1);
      while (i < text.size()) {
        if (text[i] == '\\') {
          advance(2);
        } else if (triple ? text.substr(i, 3) == std::string(3, c) : text[i] == c) {
          advance(triple ? 3 : 1);
          break;
        } else {
          advance(1);
        }
      }
      prev = c;
      continue;
    }
    if (!IsIdentStart(c)) {
      if (!std::isspace(static_cast<unsigned char>(c))) prev = c;
      advance(1);
      continue;
    }
    size_t start = i;
    while (i < text.size() && IsIdentChar(text[i])) advance(1);
    const std::string_view var = text.substr(start, i - start);
    const bool member = prev == '.';
    prev = 'a';
    if (member || (var != "cta" && var != "actor" && var != "event")) continue;
    skip_space();
    if (i >= text.size() || text[i] != '.') continue;
    advance(1);
    skip_space();
    const int field_line = line, field_col = col;
    start = i;
    while (i < text.size() && IsIdentChar(text[i])) advance(1);
    const std::string_view field = text.substr(start, i - start);
    const std::span<const std::string_view> known =
        var == "cta"     ? std::span<const std::string_view>(kCtaFields)
        : var == "actor" ? std::span<const std::string_view>(kActorFields)
                         : std::span<const std::string_view>(kEventFields);
    if (!field.empty() && std::find(known.begin(), known.end(), field) == known.end()) {
      return StrCat(field_line, ":", field_col, ": ", var, " has no field '", field, "'");
    }
  }
  return std::nullopt;
}

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

cel::Activation GuardActivation(const GuardFields& f) {
  cel::Activation a;
  a["cta"] = cel::Value::Map({
      {Str("id"), cel::Value::Int(f.id)},
      {Str("account"), Str(f.account)},
      {Str("type"), Str(f.type)},
      {Str("reason"), Str(f.reason)},
      {Str("domain"), Str(f.domain)},
      {Str("priority"), cel::Value::Int(f.priority)},
      {Str("owner"), Str(f.owner)},
      {Str("source"), Str(f.source)},
      {Str("status"), Str(f.status)},
      {Str("category"), Str(f.category)},
      {Str("flagged"), cel::Value::Bool(f.flagged)},
      {Str("snoozed"), cel::Value::Bool(f.snoozed)},
      {Str("breached"), cel::Value::Bool(f.breached)},
      {Str("created_at"), TimeOrNull(f.created_at)},
      {Str("due_at"), TimeOrNull(f.due_at)},
      {Str("started_at"), TimeOrNull(f.started_at)},
      {Str("closed_at"), TimeOrNull(f.closed_at)},
      {Str("task_count"), cel::Value::Int(f.task_count)},
      {Str("tasks_done"), cel::Value::Int(f.tasks_done)},
  });
  a["actor"] = cel::Value::Map({
      {Str("id"), Str(f.actor_id)},
      {Str("role"), Str(f.actor_role)},
      {Str("is_owner"), cel::Value::Bool(f.actor_is_owner)},
      {Str("above_owner"), cel::Value::Bool(f.actor_above_owner)},
  });
  a["event"] = cel::Value::Map({{Str("name"), Str(f.event)}, {Str("reason"), Str(f.event_reason)}});
  return a;
}

cel::Environment Lifecycle::GuardEnvironment() {
  cel::Environment env;
  env.Declare("cta", cel::Kind::kMap);
  env.Declare("actor", cel::Kind::kMap);
  env.Declare("event", cel::Kind::kMap);
  return env;
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
  const cel::Environment guard_env = Lifecycle::GuardEnvironment();
  GuardFields sample_fields;
  sample_fields.created_at = sample_fields.due_at = sample_fields.started_at =
      sample_fields.closed_at = absl::UnixEpoch();
  const cel::Activation sample = GuardActivation(sample_fields);
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
    if (!tr.guard.empty()) {
      const std::string what = StrCat("(", where, "guard of transition '", tr.event, "')");
      absl::StatusOr<cel::Program> program = cel::Compile(tr.guard, guard_env);
      if (!program.ok()) {
        return locate(I::kGuard, t, StrCat(ToStd(program.status().message()), " ", what));
      }
      const cel::Kind kind = program->result_kind();
      if (kind != cel::Kind::kBool && kind != cel::Kind::kDyn) {
        return locate(
            I::kGuard, t,
            StrCat("1:1: guard has type ", cel::KindName(kind), ", expected bool ", what));
      }
      if (std::optional<std::string> unknown = UnknownGuardField(tr.guard)) {
        return locate(I::kGuard, t, StrCat(*unknown, " ", what));
      }
      const cel::Value probe = program->Evaluate(sample, {.now = absl::UnixEpoch()});
      if (IsShapeError(probe)) {
        return locate(I::kGuard, t, StrCat("1:1: ", probe.error_message(), " ", what));
      }
      if (lc.guards_.size() >= 32767) {
        return locate(I::kTransition, t, StrCat(where, "too many guards"));
      }
      base.guard = static_cast<int16_t>(lc.guards_.size());
      lc.guards_.push_back(*std::move(program));
    }
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
  // Escalation timers fire on any open CTA and must not move it.
  if (absl::Status st = timed(def.escalation_event, I::kEscalation, &lc.escalation_); !st.ok()) {
    return st;
  }
  if (lc.escalation_ >= 0) {
    for (size_t s = 0; s < lc.status_names_.size(); ++s) {
      if (IsClosed(lc.categories_[s])) continue;
      const Lifecycle::Edge* edge = lc.Find(s, lc.escalation_);
      if (edge == nullptr || !(edge->who & Lifecycle::kWhoSystem) || edge->to != s) {
        return locate(I::kEscalation, 0,
                      StrCat(where, "escalation event '", lc.event_names_[lc.escalation_],
                             "' must apply to open status '", lc.status_names_[s],
                             "', allow 'system' and keep the status"));
      }
    }
  }
  return lc;
}

}  // namespace cscore
