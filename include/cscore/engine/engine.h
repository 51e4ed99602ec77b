// The daily run: one call takes the day's account snapshot through every step and returns
// what changed.
//
// Engine::Run(snapshot, as_of) runs the steps in order — ingest (register accounts, keep the
// day's metrics as history), then the module steps this build provides — committing each
// step to the Store in its own transaction together with a journal entry. A day that has
// already completed returns its stored report unchanged (idempotent); a day interrupted
// half-way (a crash, a killed process) resumes at the first step not journaled; days run in
// date order, so replaying them in order into an empty store rebuilds the history. Nothing
// reads the clock: as_of is the only time.
//
//   auto store = cscore::SqliteStore::Open("cs.db");
//   cscore::Engine engine(**store);
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
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/engine/persist.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"
#include "cscore/health/scorecard.h"

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
  struct Ctas {
    int64_t opened = 0, updated = 0, closed = 0, escalated = 0;
  } ctas;
  std::vector<std::string> new_red_accounts;  // red today, not red on the previous run
  std::vector<std::string> escalations;       // "cta <id> -> level <n>"
  std::vector<std::string> steps;             // the steps this day's run consists of

  // True when Run found the day already complete and returned the stored report.
  bool from_store = false;

  // The JSON document `cscore run --json` prints (README, "The run report").
  std::string ToJson() const;
  static absl::StatusOr<RunReport> FromJson(std::string_view json);
};

struct EngineOptions {
  // Health scorecards; without them the run keeps history only and every account is unscored.
  std::shared_ptr<const ScorecardSet> scorecards;
  // Days of metric history loaded for windowed measures and trends.
  int history_days = 90;
  // Called between steps and within long ones; fraction in [0, 1] of the whole run.
  std::function<void(std::string_view step, double fraction)> progress;
};

class Engine {
 public:
  // `store` must outlive the engine.
  explicit Engine(Store& store, EngineOptions options = {});

  // Validates the whole snapshot before anything is written, so bad input changes nothing:
  // non-finite metric values and an empty snapshot are refused with the account and column.
  // FailedPrecondition when `as_of` is before the last completed day and not itself complete.
  absl::StatusOr<RunReport> Run(const AccountFrame& snapshot, absl::CivilDay as_of) const;

  // The last `days` days (ending at as_of, inclusive) of `metrics`, aligned to the rows of
  // `snapshot`; days with no stored snapshot and accounts absent on a day are NaN.
  absl::StatusOr<MetricHistory> LoadHistory(const AccountFrame& snapshot,
                                            const std::vector<std::string>& metrics,
                                            absl::CivilDay as_of, int days) const;

 private:
  absl::Status HealthStep(const AccountFrame& snapshot, absl::CivilDay as_of,
                          std::optional<absl::CivilDay> previous_day, RunReport& report) const;
  void progress_(std::string_view step, double fraction) const;

  Store* store_;
  EngineOptions options_;
};

// The engine's definitions from a configuration directory: scorecards.yaml when present.
// Errors read "file:line:column: message".
absl::StatusOr<EngineOptions> LoadEngineOptions(const std::string& config_dir);

// Reads the day's snapshot from a data directory: <dir>/accounts-YYYY-MM-DD.csv when it
// exists, else <dir>/accounts.csv; the id column is `account_id`.
absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date);

// The columns of `frame` kept as daily metric history: float64, int64 and bool, in frame
// order.
std::vector<std::string> MetricColumns(const AccountFrame& frame);

}  // namespace cscore

#endif  // CSCORE_ENGINE_ENGINE_H_
