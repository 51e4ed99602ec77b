// SqliteStore: the embedded default cscore::Store, one SQLite file in WAL mode.
//
// The schema is versioned (table schema_version) and brought up to date by ordered
// migrations when the file is opened; a file written by a newer cscore is refused. Each
// Commit is one IMMEDIATE transaction holding the step's rows and its journal entry, so a
// process killed at any point leaves either the whole step or nothing. Per-day series are
// stored column-wise, one float64 BLOB per (series, day), aligned to the accounts table.
//
//   absl::StatusOr<std::unique_ptr<cscore::SqliteStore>> store =
//   cscore::SqliteStore::Open("cs.db"); if (!store.ok()) return store.status(); absl::Status s =
//   (*store)->Commit(write);
#ifndef CSCORE_STORE_SQLITE_STORE_H_
#define CSCORE_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cscore/engine/persist.h"

namespace cscore {

class SqliteStore final : public Store {
 public:
  // The schema version this library writes.
  static constexpr int kSchemaVersion = 4;

  // Opens or creates `path` and migrates it to kSchemaVersion.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  absl::Status Commit(const StepWrite& write) override;
  absl::StatusOr<bool> IsCommitted(absl::CivilDay date, std::string_view step) const override;
  absl::StatusOr<std::optional<std::string>> LoadStepSummary(absl::CivilDay date,
                                                             std::string_view step) const override;
  absl::StatusOr<std::optional<absl::CivilDay>> LastCompletedDay() const override;
  absl::StatusOr<std::optional<absl::CivilDay>> LastStartedDay() const override;
  absl::StatusOr<std::optional<std::string>> LoadReport(absl::CivilDay date) const override;
  absl::StatusOr<std::vector<std::string>> Accounts() const override;
  absl::StatusOr<std::vector<double>> LoadSeries(std::string_view name,
                                                 absl::CivilDay date) const override;
  absl::StatusOr<std::vector<absl::CivilDay>> SeriesDays(std::string_view name, absl::CivilDay from,
                                                         absl::CivilDay to) const override;
  absl::StatusOr<std::vector<std::string>> SeriesNames(absl::CivilDay date) const override;
  absl::StatusOr<std::vector<AuditRow>> LoadAudit(int64_t after_seq = 0) const override;
  absl::StatusOr<std::vector<EscalationRow>> LoadEscalations() const override;
  absl::StatusOr<std::vector<SponsorRow>> LoadSponsors() const override;
  absl::StatusOr<std::vector<ReentryRow>> LoadReentry() const override;

  int schema_version() const;
  // PRAGMA integrity_check: OK, or DataLoss with SQLite's findings.
  absl::Status IntegrityCheck() const;

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cscore

#endif  // CSCORE_STORE_SQLITE_STORE_H_
