#include "cscore/rules/rules.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cscore/base/strings.h"

namespace cscore {
namespace {

constexpr absl::CivilDay kEpoch(1970, 1, 1);
constexpr size_t kPrefetchAhead = 16;

int64_t DayNumber(absl::CivilDay d) { return d - kEpoch; }

void CloseKey(std::string& key, std::string_view account, std::string_view type,
              std::string_view reason) {
  key.clear();
  key.append(account).push_back('\x1f');
  key.append(type).push_back('\x1f');
  key.append(reason);
}

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string RuleWhere(const RuleDef& r) {
  if (r.at.source.empty() && r.at.line == 0) return StrCat("rule '", r.name, "': ");
  return StrCat(r.at.source, ":", r.at.line, ":", r.at.column, ": rule '", r.name, "': ");
}

absl::Status CheckAction(const RuleDef& r, size_t i, const RuleAction& a, const RuleContext& ctx) {
  std::string where = StrCat(RuleWhere(r), "action ", i + 1, ": ");
  if (i < r.action_at.size() && r.action_at[i].line > 0) {
    const SourceRef& at = r.action_at[i];
    where = StrCat(at.source, ":", at.line, ":", at.column, ": rule '", r.name, "', action ", i + 1,
                   ": ");
  }
  auto bad = [&](std::string_view why) { return absl::InvalidArgumentError(StrCat(where, why)); };
  if (const auto* open = std::get_if<OpenCtaAction>(&a)) {
    if (open->type.empty()) return bad("open_cta needs a type");
    if (open->reason.empty()) return bad("open_cta needs a reason (the dedup key)");
    if (open->type == "Risk" && open->domain == RiskDomain::kNone) {
      return bad("a Risk CTA needs a risk domain");
    }
    if (open->priority < 0 || open->priority > 255) return bad("priority out of 0..255");
    if (open->due_in_days < 0 || open->due_in_days > 3660) return bad("due_in_days out of range");
    if (!open->playbook.empty() && !ctx.playbooks.empty() &&
        !Contains(ctx.playbooks, open->playbook)) {
      return bad(StrCat("unknown playbook '", open->playbook, "'"));
    }
  } else if (const auto* close = std::get_if<CloseCtaAction>(&a)) {
    if (close->type.empty()) return bad("close_cta needs a type");
    if (close->status.empty()) return bad("close_cta needs the closed status to move to");
    if (!ctx.close_statuses.empty() && !Contains(ctx.close_statuses, close->status)) {
      return bad(StrCat("unknown closed status '", close->status, "'"));
    }
  } else if (const auto* set = std::get_if<SetMeasureAction>(&a)) {
    if (set->measure.empty()) return bad("set_measure needs a measure");
    if (!ctx.measures.empty() && !Contains(ctx.measures, set->measure)) {
      return bad(StrCat("unknown measure '", set->measure, "'"));
    }
    if (!std::isfinite(set->value)) return bad("set_measure value is not finite");
    if (set->expires_in_days < 1) return bad("set_measure expires_in_days must be >= 1");
  } else if (const auto* tag = std::get_if<TagAction>(&a)) {
    if (tag->tag.empty()) return bad("tag is empty");
  }
  return absl::OkStatus();
}

// Rows whose event column fired on `as_of`, ANDed into `mask`.
absl::Status ApplyEvent(const Schedule& s, const PredicateInput& input, std::span<uint8_t> mask) {
  absl::StatusOr<const Column*> col = input.frame.Get(s.event_column);
  if (!col.ok()) return col.status();
  const Column& c = **col;
  const size_t n = mask.size();
  if (c.type == ColumnType::kBool) {
    for (size_t i = 0; i < n; ++i) mask[i] &= c.b[i] & (c.valid.empty() ? 1 : c.valid[i]);
    return absl::OkStatus();
  }
  if (c.type == ColumnType::kTimestamp) {
    const int64_t start = DayNumber(input.as_of) * 86400;
    for (size_t i = 0; i < n; ++i) {
      const bool today = c.i64[i] >= start && c.i64[i] < start + 86400;
      mask[i] &= static_cast<uint8_t>(today && (c.valid.empty() || c.valid[i]));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(StrCat("event column '", s.event_column, "' is ",
                                           ColumnTypeName(c.type), ", not bool or timestamp"));
}

}  // namespace

std::string_view IntentKindName(IntentKind kind) {
  switch (kind) {
    case IntentKind::kOpen:
      return "open";
    case IntentKind::kUpdate:
      return "update";
    case IntentKind::kClose:
      return "close";
    case IntentKind::kSetMeasure:
      return "set_measure";
    case IntentKind::kTag:
      return "tag";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------
// RuleState

void RuleState::RecordFired(std::string_view rule, std::string_view account, absl::CivilDay day) {
  auto it = fired_.find(rule);
  if (it == fired_.end()) {
    it = fired_.emplace(std::string(rule), std::make_unique<StringMap<int64_t>>()).first;
  }
  (*it->second)[std::string(account)] = DayNumber(day);
}

void RuleState::RecordClose(std::string_view account, std::string_view type,
                            std::string_view reason, absl::CivilDay day) {
  std::string key;
  CloseKey(key, account, type, reason);
  closed_[key] = DayNumber(day);
}

void RuleState::Record(const RuleSet& rules, const RuleRun& run, absl::CivilDay as_of) {
  for (const Intent& in : run.intents) {
    if (in.kind == IntentKind::kClose) {
      // The closed CTA's key is not in the intent; record it by the action's filter only
      // when the filter is a full key (type + reason), which is what the cooldown reads.
      const auto& close = std::get<CloseCtaAction>(rules.action(in));
      if (!close.reason.empty()) RecordClose(in.account, close.type, close.reason, as_of);
    }
  }
  for (const RuleRun::Fired& f : run.fired) RecordFired(rules.rule(f.rule).name, f.account, as_of);
}

const StringMap<int64_t>* RuleState::FiredOf(std::string_view rule) const {
  auto it = fired_.find(rule);
  return it == fired_.end() ? nullptr : it->second.get();
}

std::optional<absl::CivilDay> RuleState::LastFired(std::string_view rule,
                                                   std::string_view account) const {
  const StringMap<int64_t>* m = FiredOf(rule);
  if (m == nullptr) return std::nullopt;
  auto it = m->find(account);
  if (it == m->end()) return std::nullopt;
  return kEpoch + it->second;
}

void RuleState::ForEachFired(
    const std::function<void(std::string_view, std::string_view, absl::CivilDay)>& fn) const {
  for (const auto& [rule, accounts] : fired_) {
    for (const auto& [account, day] : *accounts) fn(rule, account, kEpoch + day);
  }
}

std::optional<absl::CivilDay> RuleState::LastClose(std::string_view account, std::string_view type,
                                                   std::string_view reason) const {
  std::string key;
  CloseKey(key, account, type, reason);
  auto it = closed_.find(key);
  if (it == closed_.end()) return std::nullopt;
  return kEpoch + it->second;
}

// ---------------------------------------------------------------------------------------
// RuleSet

absl::StatusOr<RuleSet> RuleSet::Compile(std::vector<RuleDef> defs,
                                         const PredicateCompiler& compile,
                                         const RuleContext& context) {
  RuleSet set;
  StringSet roles;
  for (const auto& [role, column] : context.owner_columns) {
    if (role.empty()) return absl::InvalidArgumentError("owner column: empty role");
    if (!roles.insert(role).second) {
      return absl::InvalidArgumentError(StrCat("owner role '", role, "' has two columns"));
    }
    const ColumnSpec* spec = nullptr;
    for (const ColumnSpec& c : context.schema) {
      if (c.name == column) spec = &c;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("owner role '", role, "': unknown column '", column, "'"));
    }
    if (spec->type != ColumnType::kCategorical) {
      return absl::InvalidArgumentError(StrCat("owner role '", role, "': column '", column, "' is ",
                                               ColumnTypeName(spec->type),
                                               ", not categorical (person ids)"));
    }
  }
  set.owner_columns_ = context.owner_columns;
  StringSet names;
  for (RuleDef& r : defs) {
    const std::string where = RuleWhere(r);
    if (r.name.empty()) return absl::InvalidArgumentError(StrCat(where, "a rule needs a name"));
    if (!names.insert(r.name).second) {
      return absl::InvalidArgumentError(StrCat(where, "duplicate rule name"));
    }
    if (r.actions.empty()) return absl::InvalidArgumentError(StrCat(where, "a rule needs actions"));
    if (r.once_every_days < 0 || r.cooldown_after_close_days < 0) {
      return absl::InvalidArgumentError(StrCat(where, "re-entry limits must be >= 0"));
    }
    if (r.schedule.kind == Schedule::Kind::kEveryNDays && r.schedule.every_days < 1) {
      return absl::InvalidArgumentError(StrCat(where, "every_days must be >= 1"));
    }
    if (r.schedule.kind == Schedule::Kind::kOnEvent) {
      const ColumnSpec* spec = nullptr;
      for (const ColumnSpec& c : context.schema) {
        if (c.name == r.schedule.event_column) spec = &c;
      }
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            StrCat(where, "unknown event column '", r.schedule.event_column, "'"));
      }
      if (spec->type != ColumnType::kBool && spec->type != ColumnType::kTimestamp) {
        return absl::InvalidArgumentError(StrCat(where, "event column '", r.schedule.event_column,
                                                 "' must be bool or timestamp"));
      }
    }
    for (size_t i = 0; i < r.actions.size(); ++i) {
      if (absl::Status s = CheckAction(r, i, r.actions[i], context); !s.ok()) return s;
    }
    if (r.when.empty() == !r.threshold.has_value()) {
      return absl::InvalidArgumentError(
          StrCat(where, "needs exactly one of a 'when' condition or a threshold"));
    }
    absl::StatusOr<std::shared_ptr<const BatchPredicate>> guard;
    if (r.threshold.has_value()) {
      guard = CompileThreshold(*r.threshold, context.schema, context.history_metrics);
      if (!guard.ok()) {
        return absl::InvalidArgumentError(StrCat(where, ToStd(guard.status().message())));
      }
    } else {
      if (!compile) {
        return absl::FailedPreconditionError(StrCat(where, "no expression compiler was given"));
      }
      guard = compile(r.when);
      if (!guard.ok()) {
        return absl::InvalidArgumentError(
            StrCat(LocateExpressionError(r.at, ToStd(guard.status().message())), " (rule '", r.name,
                   "')"));
      }
    }
    set.rules_.push_back({std::move(r), *std::move(guard)});
  }
  return set;
}

absl::StatusOr<RuleRun> RuleSet::Evaluate(const PredicateInput& input, const CtaLookup& ctas,
                                          const RuleState& state) const {
  const size_t n = input.frame.num_rows();
  const std::span<const std::string> ids = input.frame.ids();
  const int64_t today = DayNumber(input.as_of);
  RuleRun run;
  std::vector<uint8_t> mask(n);
  std::vector<uint32_t> rows;
  std::vector<OpenCtaInfo> open_of_account;
  std::vector<std::vector<std::optional<OpenCtaInfo>>> found;  // per action, per live row
  std::vector<uint32_t> live;                                  // rows past re-entry
  std::vector<std::string_view> accounts;                      // their ids
  std::vector<const Column*> owner_of;                         // per action of the current rule
  for (uint32_t ri = 0; ri < rules_.size(); ++ri) {
    const RuleDef& r = rules_[ri].def;
    if (!r.schedule.RunsOn(input.as_of)) continue;
    owner_of.assign(r.actions.size(), nullptr);
    for (size_t ai = 0; ai < r.actions.size(); ++ai) {
      const auto* open = std::get_if<OpenCtaAction>(&r.actions[ai]);
      if (open == nullptr) continue;
      for (const auto& [role, column] : owner_columns_) {
        if (role != open->owner_role) continue;
        absl::StatusOr<const Column*> col = input.frame.Get(column);
        if (!col.ok() || (*col)->type != ColumnType::kCategorical) {
          return absl::InvalidArgumentError(StrCat("rule '", r.name, "': owner column '", column,
                                                   "' of role '", role,
                                                   "' is not a categorical column of the frame"));
        }
        owner_of[ai] = *col;
      }
    }
    ++run.rules_run;
    if (absl::Status s = rules_[ri].guard->Evaluate(input, mask); !s.ok()) {
      return absl::Status(s.code(), StrCat("rule '", r.name, "': ", ToStd(s.message())));
    }
    if (r.schedule.kind == Schedule::Kind::kOnEvent) {
      if (absl::Status s = ApplyEvent(r.schedule, input, mask); !s.ok()) {
        return absl::Status(s.code(), StrCat("rule '", r.name, "': ", ToStd(s.message())));
      }
    }
    // Selection vector: the rest of the work is for matching rows only. Guards match few
    // rows, so skip eight zero mask bytes at a time.
    rows.clear();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, mask.data() + i, sizeof(word));
      if (word == 0) continue;
      for (size_t j = i; j < i + 8; ++j) {
        if (mask[j]) rows.push_back(static_cast<uint32_t>(j));
      }
    }
    for (; i < n; ++i) {
      if (mask[i]) rows.push_back(static_cast<uint32_t>(i));
    }
    run.rows_matched += static_cast<int64_t>(rows.size());
    const StringMap<int64_t>* fired = state.FiredOf(r.name);
    const absl::CivilDay due = input.as_of;
    // Re-entry first: the rows left are the ones whose CTAs need looking up.
    live.clear();
    accounts.clear();
    for (size_t k = 0; k < rows.size(); ++k) {
      const uint32_t row = rows[k];
      // Matching rows are sparse, so each id is a cache (and TLB) miss: ask for the id a few
      // rows ahead while this one is worked on.
      if (k + kPrefetchAhead < rows.size()) __builtin_prefetch(&ids[rows[k + kPrefetchAhead]]);
      const std::string_view account = ids[row];
      if (fired != nullptr) {
        auto it = fired->find(account);
        if (it != fired->end()) {
          const int64_t since = today - it->second;
          // A rerun of a day that already fired yields nothing.
          if (since <= 0 || (r.once_every_days > 0 && since < r.once_every_days)) {
            ++run.suppressed_reentry;
            continue;
          }
        }
      }
      live.push_back(row);
      accounts.push_back(account);
    }
    // Every open action's key for all live rows at once (the store pipelines the lookups).
    found.resize(r.actions.size());
    for (size_t ai = 0; ai < r.actions.size(); ++ai) {
      found[ai].clear();
      if (const auto* open = std::get_if<OpenCtaAction>(&r.actions[ai])) {
        found[ai].resize(live.size());
        ctas.FindOpenBatch(accounts, open->type, open->reason, found[ai]);
      }
    }
    for (size_t k = 0; k < live.size(); ++k) {
      const uint32_t row = live[k];
      const std::string_view account = accounts[k];
      // A snoozed CTA silences the whole rule for the account.
      bool snoozed = false;
      for (size_t ai = 0; ai < r.actions.size(); ++ai) {
        snoozed =
            snoozed || (!found[ai].empty() && found[ai][k].has_value() && found[ai][k]->snoozed);
      }
      if (snoozed) {
        ++run.suppressed_snoozed;
        continue;
      }
      const size_t before = run.intents.size();
      for (uint32_t ai = 0; ai < r.actions.size(); ++ai) {
        Intent in;
        in.rule = ri;
        in.action = ai;
        in.row = row;
        in.account = account;
        const RuleAction& a = r.actions[ai];
        if (const auto* open = std::get_if<OpenCtaAction>(&a)) {
          in.due = due + open->due_in_days;
          if (found[ai][k].has_value()) {
            in.kind = IntentKind::kUpdate;
            in.cta = found[ai][k]->id;
          } else {
            if (r.cooldown_after_close_days > 0) {
              std::optional<absl::CivilDay> closed =
                  state.LastClose(account, open->type, open->reason);
              if (closed.has_value() && input.as_of - *closed < r.cooldown_after_close_days) {
                ++run.suppressed_reentry;
                continue;
              }
            }
            in.kind = IntentKind::kOpen;
            if (owner_of[ai] != nullptr) in.owner = owner_of[ai]->CategoryAt(row);
          }
          run.intents.push_back(in);
        } else if (const auto* close = std::get_if<CloseCtaAction>(&a)) {
          open_of_account.clear();
          ctas.OpenOfAccount(account, open_of_account);
          std::sort(open_of_account.begin(), open_of_account.end(),
                    [](const OpenCtaInfo& x, const OpenCtaInfo& y) { return x.id < y.id; });
          for (const OpenCtaInfo& c : open_of_account) {
            if (c.type != close->type) continue;
            if (!close->reason.empty() && c.reason != close->reason) continue;
            if (close->domain != RiskDomain::kNone && c.domain != close->domain) continue;
            in.kind = IntentKind::kClose;
            in.cta = c.id;
            run.intents.push_back(in);
          }
        } else if (const auto* set = std::get_if<SetMeasureAction>(&a)) {
          in.kind = IntentKind::kSetMeasure;
          in.due = due + set->expires_in_days;
          run.intents.push_back(in);
        } else {
          in.kind = IntentKind::kTag;
          run.intents.push_back(in);
        }
      }
      if (run.intents.size() > before) run.fired.push_back({ri, row, account});
    }
  }
  return run;
}

}  // namespace cscore
