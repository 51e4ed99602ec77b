// The daily run: one call takes the day's account snapshot through every step and returns
// what changed.
//
// Engine::Run(snapshot, as_of) runs the steps in order, each committed to the Store in its
// own transaction together with its journal entry:
//   ingest      register new accounts, keep the day's metrics as history
//   health      health scores with their trend against the previous run (scorecards.yaml)
//   risk        the 8-domain risk scorecard; open CTAs feed the domains (risk.yaml)
//   rules       rules over the frame and its history to intents, applied to the CTA store
//               (rules.yaml); set_measure overrides and tags are kept per account, and an
//               override set on day D reaches the scores from the next run on, until
//               D + expires_in_days (exclusive)
//   timed       snooze expiry and due-date breach (lifecycles), executive sponsors and their
//               check-in CTAs, onboarding milestones and QBRs (rules.yaml `timed`,
//               organisation.yaml `sponsors`)
//   escalation  escalation timeouts of flagged CTAs (organisation.yaml + escalation.yaml)
//   report      the day's report; the day is complete once it is stored
// A step whose configuration is absent is skipped. CTA state lives in the store's audit log
// and is rebuilt by replaying it at the start of every run; rule re-entry, escalation and
// sponsor state live in their tables. A completed day returns its stored report unchanged
// (idempotent); a day interrupted half-way resumes at the first step not journaled and ends
// exactly as an uninterrupted run; days run in date order, so replaying them in order into an
// empty store rebuilds the same state. Nothing reads the clock: as_of is the only time, and
// every change the run makes is stamped 00:00 UTC of as_of.
//
//   auto store = cscore::SqliteStore::Open("cs.db");
//   cscore::Engine engine(**store, *cscore::LoadEngineOptions("config"));
//   absl::StatusOr<cscore::RunReport> report = engine.Run(frame, absl::CivilDay(2024, 3, 1));
#ifndef CSCORE_ENGINE_ENGINE_H_
#define CSCORE_ENGINE_ENGINE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/cta/lifecycle.h"
#include "cscore/cta/store.h"
#include "cscore/engine/persist.h"
#include "cscore/escalation/policy.h"
#include "cscore/escalation/sponsors.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"
#include "cscore/health/scorecard.h"
#include "cscore/risk/scorecard.h"
#include "cscore/rules/rules.h"
#include "cscore/rules/timed.h"

namespace cscore {

// The eight risk domains in report order, lower case as in the JSON report.
inline constexpr std::array<std::string_view, 8> kRiskDomainNames = {
    "habit", "sentiment", "company", "support", "implementation", "readiness", "product", "defect"};

struct RunReport {
  absl::CivilDay date;
  int64_t accounts = 0;      // accounts in the day's snapshot
  int64_t new_accounts = 0;  // seen for the first time
  int64_t metrics = 0;       // metric columns kept as history
  struct Health {
    int64_t green = 0, yellow = 0, red = 0, unscored = 0;
  } health;
  std::array<int64_t, 8> risk_red = {};  // red accounts per domain, kRiskDomainNames order
  int64_t risk_red_accounts = 0;         // accounts red in at least one domain
  struct Ctas {
    int64_t opened = 0, updated = 0, closed = 0, escalated = 0;
    int64_t woken = 0;     // snoozes that expired
    int64_t breached = 0;  // due dates that passed
    int64_t rejected = 0;  // intents the CTA store refused (see the step summaries)
    int64_t open = 0;      // open CTAs after the run
  } ctas;
  struct Rules {
    int64_t run = 0, matched = 0, intents = 0, suppressed_snoozed = 0, suppressed_reentry = 0;
    int64_t measures_set = 0;  // (account, measure) overrides set or renewed by set_measure
    int64_t tagged = 0;        // (account, tag) pairs tagged for the first time
  } rules;
  struct Timed {
    int64_t opened = 0;     // timed CTAs opened (milestones, QBRs, check-ins)
    int64_t check_ins = 0;  // of which executive check-ins
  } timed;
  struct Sponsors {
    int64_t assigned = 0, unassigned = 0, changed = 0;
  } sponsors;
  std::vector<std::string> new_red_accounts;  // red today, not red on the previous run
  // One entry per escalation step fired: "cta <id> -> level <n> (<account>)".
  std::vector<std::string> escalations;
  std::vector<std::string> steps;  // the steps this day's run consists of

  // True when Run found the day already complete and returned the stored report.
  bool from_store = false;

  // The JSON document `cscore run --json` prints (README, "The run report").
  std::string ToJson() const;
  static absl::StatusOr<RunReport> FromJson(std::string_view json);
};

// Snapshot columns the engine reads beyond the metrics (engine.yaml `columns`). A column
// absent from the snapshot reads as missing (ARR 0, no tier, flags false).
struct AccountColumns {
  std::string arr = "arr";                          // numeric
  std::string tier = "tier";                        // categorical: strategic, enterprise, ...
  std::string renewal_at_risk = "renewal_at_risk";  // bool
  std::string edm_left = "edm_left";                // bool: the executive decision maker left
  std::string sale_sponsor = "sale_sponsor";        // categorical person id
};

struct EngineOptions {
  // Health scorecards; without them every account is unscored.
  std::shared_ptr<const ScorecardSet> scorecards;
  // The risk scorecard definition; compiled against each day's snapshot.
  std::optional<RiskScorecardDef> risk;
  // Rule definitions (rules.yaml); compiled against each day's snapshot.
  std::optional<std::vector<RuleDef>> rules;
  TimedCtaDefs timed;
  // The CTA store's configuration: lifecycles (lifecycles/*.yaml; none: the default),
  // custom CTA types and playbooks.
  std::vector<Lifecycle> lifecycles;
  std::vector<std::string> cta_types;
  std::vector<PlaybookDef> playbooks;
  // The organisation and escalation policies; also the authority of people's transitions.
  std::shared_ptr<const Escalator> escalator;
  std::optional<SponsorPoolDef> sponsors;
  AccountColumns columns;
  // Owner role -> categorical column of person ids, e.g. {"csm", "csm"}. A role without an
  // entry is looked up in the column named after it, when the snapshot has one.
  std::vector<std::pair<std::string, std::string>> owner_columns;
  // People who may fire any transition (Role::kAdmin).
  std::vector<std::string> admins;
  // Days of metric history loaded for windowed expressions whose window is not a literal.
  int history_days = 90;
  // Called between steps and within long ones; fraction in [0, 1] of the whole run.
  std::function<void(std::string_view step, double fraction)> progress;

  // The CTA store options these definitions make (authority included).
  CtaStoreOptions CtaOptions() const;
};

class Engine {
 public:
  // `store` must outlive the engine.
  explicit Engine(Store& store, EngineOptions options = {});

  // Validates the whole snapshot and compiles every definition against it before anything is
  // written, so bad input changes nothing: non-finite metric values, an empty snapshot, rules
  // over unknown columns... are refused with the account, column or config location.
  // FailedPrecondition when `as_of` is before the last completed day and not itself complete.
  absl::StatusOr<RunReport> Run(const AccountFrame& snapshot, absl::CivilDay as_of) const;

  // The last `days` days (ending at as_of, inclusive) of `metrics`, aligned to the rows of
  // `snapshot`; days with no stored snapshot and accounts absent on a day are NaN.
  absl::StatusOr<MetricHistory> LoadHistory(const AccountFrame& snapshot,
                                            const std::vector<std::string>& metrics,
                                            absl::CivilDay as_of, int days) const;

  const EngineOptions& options() const { return options_; }

 private:
  Store* store_;
  EngineOptions options_;
};

// The engine's definitions from a configuration directory; each file is optional and its
// step is skipped without it: engine.yaml (history_days, columns, owner_columns, admins,
// cta_types), scorecards.yaml, risk.yaml, rules.yaml (rules, playbooks, timed),
// lifecycles/*.yaml, organisation.yaml (people, teams, domain owners, sponsors),
// escalation.yaml (policies; needs organisation.yaml). Errors read "file:line:column: message".
absl::StatusOr<EngineOptions> LoadEngineOptions(const std::string& config_dir);

// Reads the day's snapshot from a data directory: <dir>/accounts-YYYY-MM-DD.csv when it
// exists, else <dir>/accounts.csv; the id column is `account_id`.
absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date);
// The same, with the columns the definitions read declared rather than inferred (timed
// CTAs' start columns as timestamps, owner / tier / sponsor columns as categories, the
// escalation flags as bools), so that a day on which such a column is empty keeps its type.
absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date,
                                          const EngineOptions& options);

// The columns of `frame` kept as daily metric history: float64, int64 and bool, in frame
// order.
std::vector<std::string> MetricColumns(const AccountFrame& frame);

// Series names the run stores per day, besides "metric/<column>":
//   score/overall, score/color (0 green, 1 yellow, 2 red), score/card, score/trend (+1/0/-1),
//   risk/domains (2 bits per domain, habit lowest: 0 green, 1 yellow, 2 red; the overall
//   status is the worst of them).
// The rules step also stores the whole state of its set_measure and tag actions, carried
// forward from the previous run (NaN = none; a series may be shorter than the registry):
//   override/<measure> (the value), override_until/<measure> (the expiry, seconds since the
//   epoch, exclusive), override_rule/<measure> (the setting rule: an index into the
//   "override_rules" list of that day's rules step summary), tag/<tag> (1 = tagged).
int RiskStatusOf(double packed_domains, int domain_index);

// A health measure override set by a rule's set_measure action.
struct RuleOverride {
  std::string measure;
  double value = 0;
  absl::CivilDay expires;  // the first day it no longer applies
  std::string rule;        // the rule that set it (the override's author)
};

// What the rules' set_measure and tag actions left on one account after the run of a day:
// the overrides the next run scores with (unless expired by then) and the account's tags.
// Tags are sticky: no action removes them.
struct AccountRuleState {
  std::vector<RuleOverride> overrides;  // by measure
  std::vector<std::string> tags;        // sorted
};

// The state stored by the rules step of `day` for `account_id`: empty when that day had no
// rules step; NotFound when the account is not registered.
absl::StatusOr<AccountRuleState> LoadAccountRuleState(const Store& store, absl::CivilDay day,
                                                      std::string_view account_id);

}  // namespace cscore

#endif  // CSCORE_ENGINE_ENGINE_H_
