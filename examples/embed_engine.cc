// Embedding the daily run the way a CRM service does: the accounts live in the service's
// own arrays (the frame views them without a copy), and persistence goes through the
// service's own implementation of cscore::Store — here an in-memory one standing in for the
// service's database. Swap it for cscore::SqliteStore to get the embedded default.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"

namespace {

// The service's persistence: every Commit is applied to a copy and swapped in, which gives
// the all-or-nothing step the Store contract asks for.
class ServiceStore final : public cscore::Store {
 public:
  absl::Status Commit(const cscore::StepWrite& w) override {
    State next = state_;
    const auto key = std::make_pair(cscore::FormatDay(w.date), w.step);
    if (next.journal.count(key)) return absl::AlreadyExistsError("step already committed");
    next.journal[key] = w.summary_json;
    for (const std::string& id : w.new_accounts) next.accounts.push_back(id);
    for (const cscore::DailySeries& s : w.series) next.series[{s.name, w.date}] = s.values;
    for (const cscore::AuditRow& r : w.audit) {
      if (r.seq != static_cast<int64_t>(next.audit.size()) + 1) {
        return absl::InvalidArgumentError("audit log out of sequence");
      }
      next.audit.push_back(r);
    }
    for (const auto& r : w.escalations) next.escalations[r.cta_id] = r;
    for (const auto& r : w.sponsors) next.sponsors[r.account_id] = r;
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

}  // namespace

int main() {
  // The service's own columns, e.g. filled from its CRM tables.
  std::vector<std::string> ids = {"acme", "globex", "initech", "umbrella"};
  std::vector<double> logins = {120, 8, 45, 0};
  std::vector<double> nps = {40, -20, 10, std::nan("")};

  ServiceStore store;
  cscore::Engine engine(store);
  for (int day = 0; day < 3; ++day) {
    logins[1] *= 0.5;  // globex is fading
    cscore::FrameBuilder b{std::span<const std::string>(ids)};
    b.ViewFloat64("logins_30d", logins).ViewFloat64("nps", nps);  // zero-copy
    absl::StatusOr<cscore::AccountFrame> frame = std::move(b).Build();
    if (!frame.ok()) return std::fprintf(stderr, "%s\n", frame.status().ToString().c_str()), 1;
    absl::StatusOr<cscore::RunReport> report = engine.Run(*frame, absl::CivilDay(2024, 3, 1) + day);
    if (!report.ok()) return std::fprintf(stderr, "%s\n", report.status().ToString().c_str()), 1;
    std::printf("%s\n", report->ToJson().c_str());
  }
  // The history the service persisted is what the engine reads back for trends.
  cscore::FrameBuilder b{std::span<const std::string>(ids)};
  b.ViewFloat64("logins_30d", logins);
  absl::StatusOr<cscore::AccountFrame> frame = std::move(b).Build();
  if (!frame.ok()) return 1;
  absl::StatusOr<cscore::MetricHistory> history =
      engine.LoadHistory(*frame, {"logins_30d"}, absl::CivilDay(2024, 3, 3), 3);
  if (!history.ok()) return std::fprintf(stderr, "%s\n", history.status().ToString().c_str()), 1;
  absl::StatusOr<double> trend =
      history->WindowAt("logins_30d", cscore::WindowOp::kTrend, 3, /*account=*/1);
  if (!trend.ok()) return 1;
  std::printf("globex logins trend: %+.1f per day\n", *trend);
  return 0;
}
