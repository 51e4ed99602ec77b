// The rules engine: conditions over the account frame that open, update and close CTAs.
//
// A rule has a guard (`when`, an expression over the frame and its metric history, or a
// column threshold), a schedule, actions and re-entry limits. RuleSet::Evaluate runs every
// rule due on `as_of` over all accounts at once (one vectorized guard per rule, then work
// only for the matching rows) and returns a deterministic list of intents, ordered by rule,
// account row, action. Nothing is changed: ApplyIntents (apply.h) writes them to the CTA
// store, and RuleState::Record notes what fired so that a rerun of the day yields nothing.
//
//   absl::StatusOr<cscore::RuleSet> rules = cscore::RuleSet::Compile(defs, compile_cel, ctx);
//   absl::StatusOr<cscore::RuleRun> run = rules->Evaluate({frame, &history, as_of}, ctas, state);
//   state.Record(*rules, *run, as_of);
#ifndef CSCORE_RULES_RULES_H_
#define CSCORE_RULES_RULES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/base/strings.h"
#include "cscore/frame/frame.h"
#include "cscore/risk/domains.h"
#include "cscore/risk/predicate.h"

namespace cscore {

// When a rule runs. kOnEvent runs every day but only for the accounts whose event column
// fired on as_of: a bool column that is true, or a timestamp column whose UTC day is as_of.
struct Schedule {
  enum class Kind : uint8_t { kDaily, kWeekly, kEveryNDays, kQuarterly, kOnEvent };
  Kind kind = Kind::kDaily;
  absl::Weekday weekday = absl::Weekday::monday;  // kWeekly
  int every_days = 1;                             // kEveryNDays, counted from `anchor`
  absl::CivilDay anchor = absl::CivilDay(1970, 1, 1);
  int quarter_day = 1;       // kQuarterly: day of Jan / Apr / Jul / Oct (1..28)
  std::string event_column;  // kOnEvent

  bool RunsOn(absl::CivilDay day) const;  // always true for kOnEvent
};

// "daily" | "weekly on <weekday>" | "every <N> days [from YYYY-MM-DD]" |
// "quarterly [on day <D>]" | "on <column>". Errors quote the text and say what was expected.
absl::StatusOr<Schedule> ParseSchedule(std::string_view text);
std::string FormatSchedule(const Schedule& schedule);

// Priorities follow the CTA store: 0 is the highest. Accepts urgent/high/medium/low or 0..255.
absl::StatusOr<int> ParsePriority(std::string_view text);

struct OpenCtaAction {
  std::string type = "Risk";
  std::string reason;
  RiskDomain domain = RiskDomain::kNone;  // required for Risk CTAs
  int priority = 2;
  std::string playbook;
  std::string owner_role = "csm";
  int due_in_days = 7;
};
// Closes every open CTA of the account matching type (and reason / domain when set).
struct CloseCtaAction {
  std::string type;
  std::string reason;                     // empty: any
  RiskDomain domain = RiskDomain::kNone;  // kNone: any
  std::string status;                     // the closed status to move to, e.g. "Closed Success"
};
// A manual-style override of a health measure, lapsing after `expires_in_days`. The daily
// run (cscore/engine/engine.h) scores before it applies rules: an override set on day D
// counts from the next run's scores until D + expires_in_days (exclusive), a later firing
// renews it, and an override of the same account and measure in scorecards.yaml wins.
struct SetMeasureAction {
  std::string measure;
  double value = 0;
  int expires_in_days = 30;
};
// Marks the account; the daily run keeps the tag for good (no action removes one).
struct TagAction {
  std::string tag;
};
using RuleAction = std::variant<OpenCtaAction, CloseCtaAction, SetMeasureAction, TagAction>;

struct RuleDef {
  std::string name;
  std::string when;                       // expression (CEL) ...
  std::optional<ThresholdDef> threshold;  // ... or a column threshold; exactly one
  Schedule schedule;
  std::vector<RuleAction> actions;
  int once_every_days = 0;            // re-entry: at most once every N days per account
  int cooldown_after_close_days = 0;  // no re-open of a key closed less than N days ago
  SourceRef at;                       // the guard's location, for error messages
  std::vector<SourceRef> action_at;   // optional, one per action
};

// What Compile checks rules against. Empty `measures` / `playbooks` / `close_statuses`
// lists skip that check (no scorecard or store configured).
struct RuleContext {
  std::vector<ColumnSpec> schema;
  std::vector<std::string> history_metrics;
  std::vector<std::string> measures;
  std::vector<std::string> playbooks;
  std::vector<std::string> close_statuses;
  // Who holds an owner role for each account: (role, categorical column of person ids),
  // e.g. {"csm", "csm_id"}. A CTA a rule opens for role R is owned by the account's value in
  // R's column; with no column (or a missing value) the owner is the role name itself.
  std::vector<std::pair<std::string, std::string>> owner_columns = {};
};

// An open CTA as the engine needs it for dedup, snooze and close filters.
struct OpenCtaInfo {
  int32_t id = -1;
  std::string_view type;
  std::string_view reason;
  RiskDomain domain = RiskDomain::kNone;
  bool snoozed = false;
};

// Read access to the open CTAs (the CTA store through CtaStoreLookup, or a test double).
class CtaLookup {
 public:
  virtual ~CtaLookup() = default;
  // The open CTA with this dedup key, in O(1).
  virtual std::optional<OpenCtaInfo> FindOpen(std::string_view account, std::string_view type,
                                              std::string_view reason) const = 0;
  // Appends the open CTAs of one account to `out`.
  virtual void OpenOfAccount(std::string_view account, std::vector<OpenCtaInfo>& out) const = 0;
  // FindOpen for many accounts with one type and reason: out[i] answers accounts[i]
  // (out.size() == accounts.size()). Evaluate asks this way; the default asks FindOpen one
  // by one, a store can overlap the lookups.
  virtual void FindOpenBatch(std::span<const std::string_view> accounts, std::string_view type,
                             std::string_view reason,
                             std::span<std::optional<OpenCtaInfo>> out) const {
    for (size_t i = 0; i < accounts.size() && i < out.size(); ++i) {
      out[i] = FindOpen(accounts[i], type, reason);
    }
  }
};

enum class IntentKind : uint8_t { kOpen, kUpdate, kClose, kSetMeasure, kTag };
std::string_view IntentKindName(IntentKind kind);

// One thing the rules want done. The details (type, reason, playbook, closed status,
// measure...) are the action's: RuleSet::action(intent). `account` points into the frame.
struct Intent {
  IntentKind kind = IntentKind::kOpen;
  uint32_t rule = 0;
  uint32_t action = 0;
  uint32_t row = 0;
  std::string_view account;
  int32_t cta = -1;    // kUpdate / kClose: the existing CTA
  absl::CivilDay due;  // kOpen / kUpdate: as_of + due_in_days; kSetMeasure: expiry
  // kOpen: the person holding the action's owner role for the account (from
  // RuleContext::owner_columns, pointing into the frame); empty: the role name owns it.
  std::string_view owner = {};
};

struct RuleRun {
  std::vector<Intent> intents;
  // The (rule, account) pairs that produced at least one intent, in intent order.
  struct Fired {
    uint32_t rule = 0;
    uint32_t row = 0;
    std::string_view account;
  };
  std::vector<Fired> fired;
  int64_t rules_run = 0;
  int64_t rows_matched = 0;
  int64_t suppressed_snoozed = 0;
  int64_t suppressed_reentry = 0;
};

class RuleSet;

// Re-entry bookkeeping the caller persists between runs: the last day each rule fired for
// each account, and the last day each (account, type, reason) CTA closed.
class RuleState {
 public:
  // Marks every fired (rule, account) of `run` as fired on `as_of`, and the keys its close
  // intents close as closed on `as_of`.
  void Record(const RuleSet& rules, const RuleRun& run, absl::CivilDay as_of);
  void RecordFired(std::string_view rule, std::string_view account, absl::CivilDay day);
  // CTAs closed outside the rules (by people) feed the cooldown through this.
  void RecordClose(std::string_view account, std::string_view type, std::string_view reason,
                   absl::CivilDay day);

  std::optional<absl::CivilDay> LastFired(std::string_view rule, std::string_view account) const;
  // Every recorded (rule, account, last day fired), so the caller can persist the state;
  // order unspecified.
  void ForEachFired(const std::function<void(std::string_view rule, std::string_view account,
                                             absl::CivilDay day)>& fn) const;
  std::optional<absl::CivilDay> LastClose(std::string_view account, std::string_view type,
                                          std::string_view reason) const;

 private:
  friend class RuleSet;
  const StringMap<int64_t>* FiredOf(std::string_view rule) const;
  StringMap<std::unique_ptr<StringMap<int64_t>>> fired_;  // rule -> account -> day
  StringMap<int64_t> closed_;                             // "account\x1ftype\x1freason" -> day
};

class RuleSet {
 public:
  // Validates every rule (unique names, schedules, actions against `context`) and compiles
  // the guards; `compile` handles `when` expressions. The first error names the rule and,
  // for guards, the config location of the offending character.
  static absl::StatusOr<RuleSet> Compile(std::vector<RuleDef> defs,
                                         const PredicateCompiler& compile,
                                         const RuleContext& context);

  size_t size() const { return rules_.size(); }
  const RuleDef& rule(size_t i) const { return rules_[i].def; }
  const RuleAction& action(const Intent& intent) const {
    return rules_[intent.rule].def.actions[intent.action];
  }

  // Pure: reads the frame, the open CTAs and the state; returns the intents of `input.as_of`.
  absl::StatusOr<RuleRun> Evaluate(const PredicateInput& input, const CtaLookup& ctas,
                                   const RuleState& state) const;

 private:
  struct Compiled {
    RuleDef def;
    std::shared_ptr<const BatchPredicate> guard;
  };
  std::vector<Compiled> rules_;
  std::vector<std::pair<std::string, std::string>> owner_columns_;
};

}  // namespace cscore

#endif  // CSCORE_RULES_RULES_H_
