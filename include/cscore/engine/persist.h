// What the daily run persists, and the Store interface that persists it.
//
// The engine computes each run step in memory and hands the store one StepWrite: the
// accounts it registered, per-day float64 series aligned to the account registry (metric
// snapshots, scores), CTA audit rows, escalation state, sponsor assignments and rule
// re-entry bookkeeping. Store::Commit applies a StepWrite and its journal entry
// (date, step) in one transaction, so a run is never half-written and a rerun after a crash
// skips the committed steps. cscore::SqliteStore (cscore/store/sqlite_store.h) is the
// embedded default; a CRM backend may implement Store over its own database.
//
//   cscore::StepWrite w{.date = absl::CivilDay(2024, 3, 1), .step = "ingest"};
//   w.series.push_back({"metric/logins", logins});
//   absl::Status s = store.Commit(w);
#ifndef CSCORE_ENGINE_PERSIST_H_
#define CSCORE_ENGINE_PERSIST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace cscore {

// One value per registered account (index = registration order). A vector shorter than
// the registry means the accounts registered later have no value (read back as NaN).
struct DailySeries {
  std::string name;  // "metric/<column>", "score/overall", ...
  std::vector<double> values;
};

// One accepted CTA transition. `seq` numbers the whole log from 1 without gaps, so the
// log can be replayed (and compared) exactly.
struct AuditRow {
  int64_t seq = 0;
  int64_t time = 0;  // seconds since the Unix epoch
  int64_t cta_id = 0;
  std::string account_id;
  std::string event;
  std::string from_status;
  std::string to_status;
  std::string actor;
  std::string reason;
  std::string detail;  // what the event recorded beyond the above (e.g. the opened CTA's fields)
  bool operator==(const AuditRow&) const = default;
};

// Escalation progress of one CTA's current episode (from the flag that raised it); times
// are seconds since the epoch, 0 when not yet. `level` is the last level notified (0: none),
// `next_step` the flat (pass * levels + level - 1) index of the first step not yet fired,
// `next_due_at` when that step fires (0: the chain is exhausted or stopped). arr, tier and
// flags (1 renewal at risk, 2 adoption red, 4 executive decision maker left) are what the
// routing last saw, so the chain can be shown without the snapshot.
struct EscalationRow {
  int64_t cta_id = 0;
  int32_t policy_version = 0;
  int32_t level = 0;
  int64_t raised_at = 0;
  int64_t next_due_at = 0;
  int64_t acknowledged_at = 0;
  int64_t resolved_at = 0;
  std::string policy_id = {};
  int32_t next_step = 0;
  double arr = 0;
  std::string tier = {};
  int32_t flags = 0;
  bool operator==(const EscalationRow&) const = default;
};

// The executive sponsor of one account: cadence_days is 30 (monthly check-ins, strategic)
// or 90 (quarterly, enterprise); since / next_checkin are seconds since the epoch.
struct SponsorRow {
  std::string account_id;
  std::string sponsor_id;
  int32_t cadence_days = 0;
  int64_t since = 0;
  int64_t next_checkin = 0;
  bool operator==(const SponsorRow&) const = default;
};

// Re-entry bookkeeping of one (rule, account): when it last fired (seconds since the epoch,
// the start of the run's day) and how often. The engine keeps rows for the rules with a
// re-entry limit (once_every_days) and for timed CTAs, one per occurrence key
// ("<definition>|<reason>"). last_closed is kept for stores that track closes per rule; the
// engine derives cooldowns from the audit log (every close is a transition there).
struct ReentryRow {
  std::string rule_id;
  std::string account_id;
  int64_t last_fired = 0;
  int32_t times_fired = 0;
  int64_t last_closed = 0;
  bool operator==(const ReentryRow&) const = default;
};

// Everything one step of one day writes. Rows of the keyed tables are upserts.
// A write with journaled = false is not a run step (e.g. a person's CTA transition from
// `cscore cta transition`): no journal entry, `date` and `step` only label errors, and it
// does not count as a started day.
struct StepWrite {
  absl::CivilDay date = {};
  std::string step = {};
  bool journaled = true;
  std::vector<std::string> new_accounts = {};  // appended to the registry, in order
  std::vector<DailySeries> series = {};        // stored for `date`
  std::vector<AuditRow> audit = {};            // appended; seq must continue the log
  std::vector<EscalationRow> escalations = {};
  std::vector<SponsorRow> sponsors = {};
  std::vector<std::string> sponsors_removed = {};  // accounts that no longer have a sponsor
  std::vector<ReentryRow> reentry = {};
  // What the step found (counts for the report), returned by LoadStepSummary so a rerun
  // that skips this step still reports it.
  std::string summary_json = "{}";
  std::optional<std::string> report_json = {};  // the day's report, kept for idempotent reruns
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `write` and journals (date, step) atomically. AlreadyExists when that step of
  // that day is already journaled (nothing is written); on any error nothing is written.
  // Audit rows must continue the log (first seq = last seq + 1): a writer that read an older
  // log (another process appended meanwhile) gets FailedPrecondition and writes nothing.
  virtual absl::Status Commit(const StepWrite& write) = 0;

  virtual absl::StatusOr<bool> IsCommitted(absl::CivilDay date, std::string_view step) const = 0;
  // The summary_json of a committed step; nullopt when the step is not committed.
  virtual absl::StatusOr<std::optional<std::string>> LoadStepSummary(
      absl::CivilDay date, std::string_view step) const = 0;
  // The latest day with a stored report (its run completed), if any.
  virtual absl::StatusOr<std::optional<absl::CivilDay>> LastCompletedDay() const = 0;
  // The latest day with any journaled step (complete or not), if any.
  virtual absl::StatusOr<std::optional<absl::CivilDay>> LastStartedDay() const = 0;
  virtual absl::StatusOr<std::optional<std::string>> LoadReport(absl::CivilDay date) const = 0;

  virtual absl::StatusOr<std::vector<std::string>> Accounts() const = 0;
  // The series on `date`, padded with NaN to the current registry size; NotFound if absent.
  virtual absl::StatusOr<std::vector<double>> LoadSeries(std::string_view name,
                                                         absl::CivilDay date) const = 0;
  // Days in [from, to] on which `name` was stored, ascending.
  virtual absl::StatusOr<std::vector<absl::CivilDay>> SeriesDays(std::string_view name,
                                                                 absl::CivilDay from,
                                                                 absl::CivilDay to) const = 0;

  // Names of the series stored on `date`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> SeriesNames(absl::CivilDay date) const = 0;

  // Audit rows with seq > after_seq, in seq order.
  virtual absl::StatusOr<std::vector<AuditRow>> LoadAudit(int64_t after_seq = 0) const = 0;
  virtual absl::StatusOr<std::vector<EscalationRow>> LoadEscalations() const = 0;
  virtual absl::StatusOr<std::vector<SponsorRow>> LoadSponsors() const = 0;
  virtual absl::StatusOr<std::vector<ReentryRow>> LoadReentry() const = 0;
};

// "2024-03-01" <-> CivilDay; InvalidArgument naming the text when it is not a real date.
std::string FormatDay(absl::CivilDay day);
absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text);
// Seconds since the epoch at 00:00 UTC of `day`.
int64_t DayStart(absl::CivilDay day);

}  // namespace cscore

#endif  // CSCORE_ENGINE_PERSIST_H_
