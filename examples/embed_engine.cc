// Embedding the daily run the way a CRM service does: the accounts live in the service's
// own arrays (the frame views them without a copy), the definitions come from the service
// (here YAML strings; structs built in code work the same), and persistence goes through the
// service's own implementation of cscore::Store: an in-memory one standing in for the
// service's database. Swap it for cscore::SqliteStore to get the embedded default.
//
// Three days run: health scores with their trend, the risk scorecard, rules opening and
// updating CTAs, a CSM flagging one through CtaBook (authorized by the organisation), and the
// escalation step notifying the team lead the next day.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cscore/engine/ctas.h"
#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"
#include "cscore/escalation/organisation_yaml.h"
#include "cscore/health/scorecard_yaml.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/rules/rules_yaml.h"

namespace {

// The service's persistence: every Commit is applied to a copy and swapped in, which gives
// the all-or-nothing step the Store contract asks for.
class ServiceStore final : public cscore::Store {
 public:
  absl::Status Commit(const cscore::StepWrite& w) override {
    State next = state_;
    const auto key = std::make_pair(cscore::FormatDay(w.date), w.step);
    if (w.journaled) {
      if (next.journal.count(key)) return absl::AlreadyExistsError("step already committed");
      next.journal[key] = w.summary_json;
    }
    for (const std::string& id : w.new_accounts) next.accounts.push_back(id);
    for (const cscore::DailySeries& s : w.series) next.series[{s.name, w.date}] = s.values;
    for (const cscore::AuditRow& r : w.audit) {
      if (r.seq != static_cast<int64_t>(next.audit.size()) + 1) {
        return absl::FailedPreconditionError("audit log out of sequence");
      }
      next.audit.push_back(r);
    }
    for (const auto& r : w.escalations) next.escalations[r.cta_id] = r;
    for (const auto& r : w.sponsors) next.sponsors[r.account_id] = r;
    for (const auto& a : w.sponsors_removed) next.sponsors.erase(a);
    for (const auto& r : w.reentry) next.reentry[{r.rule_id, r.account_id}] = r;
    if (w.report_json) next.reports[w.date] = *w.report_json;
    state_ = std::move(next);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> IsCommitted(absl::CivilDay d, std::string_view step) const override {
    return state_.journal.count({cscore::FormatDay(d), std::string(step)}) > 0;
  }
  absl::StatusOr<std::optional<std::string>> LoadStepSummary(absl::CivilDay d,
                                                             std::string_view step) const override {
    auto it = state_.journal.find({cscore::FormatDay(d), std::string(step)});
    if (it == state_.journal.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastCompletedDay() const override {
    if (state_.reports.empty()) return std::optional<absl::CivilDay>();
    return std::optional<absl::CivilDay>(state_.reports.rbegin()->first);
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastStartedDay() const override {
    if (state_.journal.empty()) return std::optional<absl::CivilDay>();
    return cscore::ParseDay(state_.journal.rbegin()->first.first);
  }
  absl::StatusOr<std::optional<std::string>> LoadReport(absl::CivilDay d) const override {
    auto it = state_.reports.find(d);
    if (it == state_.reports.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::StatusOr<std::vector<std::string>> Accounts() const override { return state_.accounts; }
  absl::StatusOr<std::vector<double>> LoadSeries(std::string_view name,
                                                 absl::CivilDay d) const override {
    auto it = state_.series.find({std::string(name), d});
    if (it == state_.series.end()) return absl::NotFoundError("no such series");
    std::vector<double> v = it->second;
    v.resize(std::max(v.size(), state_.accounts.size()), std::nan(""));
    return v;
  }
  absl::StatusOr<std::vector<absl::CivilDay>> SeriesDays(std::string_view name, absl::CivilDay from,
                                                         absl::CivilDay to) const override {
    std::vector<absl::CivilDay> out;
    for (const auto& [key, values] : state_.series) {
      if (key.first == name && key.second >= from && key.second <= to) out.push_back(key.second);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> SeriesNames(absl::CivilDay d) const override {
    std::vector<std::string> out;
    for (const auto& [key, values] : state_.series) {
      if (key.second == d) out.push_back(key.first);
    }
    return out;
  }
  absl::StatusOr<std::vector<cscore::AuditRow>> LoadAudit(int64_t after) const override {
    return std::vector<cscore::AuditRow>(
        state_.audit.begin() + std::min<int64_t>(after, state_.audit.size()), state_.audit.end());
  }
  absl::StatusOr<std::vector<cscore::EscalationRow>> LoadEscalations() const override {
    std::vector<cscore::EscalationRow> out;
    for (const auto& [id, r] : state_.escalations) out.push_back(r);
    return out;
  }
  absl::StatusOr<std::vector<cscore::SponsorRow>> LoadSponsors() const override {
    std::vector<cscore::SponsorRow> out;
    for (const auto& [id, r] : state_.sponsors) out.push_back(r);
    return out;
  }
  absl::StatusOr<std::vector<cscore::ReentryRow>> LoadReentry() const override {
    std::vector<cscore::ReentryRow> out;
    for (const auto& [id, r] : state_.reentry) out.push_back(r);
    return out;
  }

 private:
  struct State {
    std::map<std::pair<std::string, std::string>, std::string> journal;
    std::vector<std::string> accounts;
    std::map<std::pair<std::string, absl::CivilDay>, std::vector<double>> series;
    std::vector<cscore::AuditRow> audit;
    std::map<int64_t, cscore::EscalationRow> escalations;
    std::map<std::string, cscore::SponsorRow> sponsors;
    std::map<std::pair<std::string, std::string>, cscore::ReentryRow> reentry;
    std::map<absl::CivilDay, std::string> reports;
  };
  State state_;
};

// The service's definitions.
constexpr char kScorecards[] = R"(scorecards:
  - name: default
    default: true
    measures:
      - {name: logins, metric: logins_30d, weight: 3, ramp: {from: 0, to: 100}}
      - {name: nps, metric: nps, weight: 1, ramp: {from: -50, to: 50}}
)";
constexpr char kRisk[] = R"(domains:
  Habit:
    signals: [{name: fading, level: red, threshold: {column: logins_30d, compare: "<", value: 5}}]
  Sentiment:
    signals: [{name: detractor, level: red, threshold: {column: nps, compare: "<", value: 0}}]
)";
constexpr char kRules[] = R"(rules:
  - name: fading_usage
    when: "logins_30d < 5.0"
    actions:
      - open_cta: {type: Risk, reason: Fading usage, domain: Habit, priority: high,
                   owner_role: csm, due_in_days: 5}
)";
constexpr char kOrganisation[] = R"(people:
  - {id: ceo, role: ceo}
  - {id: lead, role: team_lead, manager: ceo, teams: [cs]}
  - {id: kim, role: csm, manager: lead, teams: [cs]}
teams: [{id: cs, review_day: tuesday}]
domain_owners: {habit: cs, sentiment: cs, company: cs, support: cs, implementation: cs,
                readiness: cs, product: cs, defect: cs}
)";
constexpr char kPolicies[] = R"(policies:
  - id: flagged
    levels:
      - {targets: [owner_manager], timeout: 2d}
      - {targets: [{person: ceo}], timeout: 3d}
)";

template <typename T>
T OrDie(absl::StatusOr<T> v) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s\n", v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}

}  // namespace

int main() {
  cscore::EngineOptions options;
  options.scorecards = std::make_shared<const cscore::ScorecardSet>(
      OrDie(cscore::ScorecardSet::Compile(OrDie(cscore::ParseScorecardsYaml(kScorecards)))));
  options.risk = OrDie(cscore::ParseRiskScorecardYaml(kRisk));
  options.rules = OrDie(cscore::ParseRulesYaml(kRules));
  cscore::EscalationSetup esc =
      OrDie(cscore::BuildEscalation(OrDie(cscore::LoadOrganisationString(kOrganisation)),
                                    OrDie(cscore::LoadPoliciesString(kPolicies))));
  options.escalator = std::make_shared<const cscore::Escalator>(std::move(esc.escalator));
  // Lifecycles: the library's default (it has the escalation timer's event).

  // The service's own columns, e.g. filled from its CRM tables; `csm` owns the CTAs.
  std::vector<std::string> ids = {"acme", "globex", "initech", "umbrella"};
  std::vector<double> logins = {120, 8, 45, 0};
  std::vector<double> nps = {40, -20, 10, std::nan("")};
  std::vector<int32_t> csm_codes = {0, 0, 0, 0};
  std::vector<std::string> csm_names = {"kim"};

  ServiceStore store;
  cscore::Engine engine(store, options);
  const absl::CivilDay first(2024, 3, 4);
  for (int day = 0; day < 3; ++day) {
    logins[1] *= 0.5;  // globex is fading
    cscore::FrameBuilder b{std::span<const std::string>(ids)};
    b.ViewFloat64("logins_30d", logins).ViewFloat64("nps", nps);  // zero-copy
    b.ViewCategorical("csm", csm_codes, csm_names);
    cscore::AccountFrame frame = OrDie(std::move(b).Build());
    cscore::RunReport report = OrDie(engine.Run(frame, first + day));
    std::printf("%s\n", report.ToJson().c_str());

    if (day == 0) {
      // The CSM asks for help on globex's CTA; the next run escalates it to the team lead.
      std::unique_ptr<cscore::CtaBook> book = OrDie(cscore::CtaBook::Load(store, options));
      const cscore::CtaStore& ctas = book->ctas();
      for (cscore::CtaId id = 0; id < ctas.size(); ++id) {
        if (ctas.account(id) != "globex") continue;
        OrDie(book->Transition(
            store, {.cta = id,
                    .event = "flag",
                    .actor = "kim",
                    .reason = "needs a product fix",
                    .at = absl::FromCivil(first, absl::UTCTimeZone()) + absl::Hours(15)}));
        std::printf("kim flagged CTA %d of globex\n", id);
      }
    }
  }
  // The history the service persisted is what the engine reads back for trends.
  cscore::FrameBuilder b{std::span<const std::string>(ids)};
  b.ViewFloat64("logins_30d", logins);
  cscore::AccountFrame frame = OrDie(std::move(b).Build());
  cscore::MetricHistory history = OrDie(engine.LoadHistory(frame, {"logins_30d"}, first + 2, 3));
  double trend = OrDie(history.WindowAt("logins_30d", cscore::WindowOp::kTrend, 3, /*account=*/1));
  std::printf("globex logins trend: %+.1f per day\n", trend);
  return 0;
}
