#include "cscore/store/sqlite_store.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_format.h"
#include "engine/status_macros.h"
#include "store/sqlite.h"

namespace cscore {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

// Ordered migrations: entry i brings the schema from version i to i + 1. Never edit a
// shipped entry; append a new one.
constexpr const char* kMigrations[] = {
    // 1: the tables.
    R"sql(
    CREATE TABLE accounts(idx INTEGER PRIMARY KEY, account_id TEXT NOT NULL UNIQUE);
    CREATE TABLE journal(date TEXT NOT NULL, step TEXT NOT NULL, PRIMARY KEY(date, step));
    CREATE TABLE series(name TEXT NOT NULL, date TEXT NOT NULL, n INTEGER NOT NULL,
                        data BLOB NOT NULL);
    CREATE UNIQUE INDEX series_key ON series(name, date);
    CREATE TABLE audit(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL,
                       cta_id INTEGER NOT NULL, account_id TEXT NOT NULL, event TEXT NOT NULL,
                       from_status TEXT NOT NULL, to_status TEXT NOT NULL,
                       actor TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE TABLE escalations(cta_id INTEGER PRIMARY KEY, policy_version INTEGER NOT NULL,
                             level INTEGER NOT NULL, raised_at INTEGER NOT NULL,
                             next_due_at INTEGER NOT NULL, acknowledged_at INTEGER NOT NULL,
                             resolved_at INTEGER NOT NULL);
    CREATE TABLE sponsors(account_id TEXT PRIMARY KEY, sponsor_id TEXT NOT NULL,
                          cadence_days INTEGER NOT NULL, since INTEGER NOT NULL,
                          next_checkin INTEGER NOT NULL);
    CREATE TABLE reentry(rule_id TEXT NOT NULL, account_id TEXT NOT NULL,
                         last_fired INTEGER NOT NULL, times_fired INTEGER NOT NULL,
                         last_closed INTEGER NOT NULL, PRIMARY KEY(rule_id, account_id));
    CREATE TABLE reports(date TEXT PRIMARY KEY, json TEXT NOT NULL);
    )sql",
    // 2: `cscore explain` and `cscore cta` look the audit log up by CTA and by account.
    R"sql(
    CREATE INDEX audit_cta ON audit(cta_id, seq);
    CREATE INDEX audit_account ON audit(account_id, seq);
    )sql",
    // 3: each journaled step keeps its summary, so a resumed run reports what it skipped.
    R"sql(
    ALTER TABLE journal ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
    )sql",
    // 4: an escalation episode keeps the policy it was raised under and its next step.
    R"sql(
    ALTER TABLE escalations ADD COLUMN policy_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE escalations ADD COLUMN next_step INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE escalations ADD COLUMN arr REAL NOT NULL DEFAULT 0;
    ALTER TABLE escalations ADD COLUMN tier TEXT NOT NULL DEFAULT '';
    ALTER TABLE escalations ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
    )sql",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

std::span<const std::byte> AsBytes(const std::vector<double>& v) {
  return std::as_bytes(std::span<const double>(v));
}

}  // namespace

struct SqliteStore::Impl {
  Db db;
  int version = 0;
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;
int SqliteStore::schema_version() const { return impl_->version; }

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  CSCORE_ASSIGN_OR_RETURN(Db db, Db::Open(path));
  // Large pages keep the megabyte-sized series BLOBs in few overflow chains; only takes
  // effect on a new file. WAL + synchronous=NORMAL: a commit survives a killed process
  // (the crash test's promise); FULL would add an fsync per step for power loss.
  CSCORE_RETURN_IF_ERROR(db.Exec("PRAGMA page_size=65536"));
  {
    CSCORE_ASSIGN_OR_RETURN(Stmt wal, Stmt::Prepare(db, "PRAGMA journal_mode=WAL"));
    CSCORE_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: cannot switch the database to WAL mode", path));
    }
  }
  CSCORE_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"));
  // A day's run inserts ~1e5 audit and re-entry rows into tables with secondary indexes:
  // SQLite's default page cache (2 MB, 31 pages of 64 KB) would re-read index pages for
  // each. 64 MB keeps them in memory for the whole step.
  CSCORE_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY"));

  auto impl = std::unique_ptr<Impl>(new Impl{std::move(db)});
  Db& d = impl->db;
  {
    CSCORE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(d));
    CSCORE_RETURN_IF_ERROR(
        d.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    CSCORE_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(d, "SELECT max(version) FROM schema_version"));
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    int version = row && !q.IsNull(0) ? static_cast<int>(q.Int(0)) : 0;
    q.Reset();
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: schema version %d is newer than this cscore (%d); upgrade cscore",
                          path, version, kSchemaVersion));
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      if (absl::Status s = d.Exec(kMigrations[v]); !s.ok()) {
        return absl::InternalError(
            absl::StrFormat("%s: migration to schema version %d: %s", path, v + 1, s.message()));
      }
      CSCORE_ASSIGN_OR_RETURN(Stmt ins,
                              Stmt::Prepare(d, "INSERT INTO schema_version(version) VALUES(?)"));
      ins.Bind(1, static_cast<int64_t>(v + 1));
      CSCORE_RETURN_IF_ERROR(ins.Run());
    }
    CSCORE_RETURN_IF_ERROR(tx.Commit());
    impl->version = kSchemaVersion;
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

absl::Status SqliteStore::Commit(const StepWrite& w) {
  if (w.step.empty()) return absl::InvalidArgumentError("store commit: empty step name");
  for (const DailySeries& s : w.series) {
    if (s.name.empty()) return absl::InvalidArgumentError("store commit: a series has no name");
  }
  Db& d = impl_->db;
  const std::string date = FormatDay(w.date);
  CSCORE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(d));

  // The journal row goes first: a duplicate step fails before anything else is written.
  if (w.journaled) {
    CSCORE_ASSIGN_OR_RETURN(
        Stmt j, Stmt::Prepare(d, "INSERT INTO journal(date, step, summary) VALUES(?,?,?)"));
    j.Bind(1, date);
    j.Bind(2, w.step);
    j.Bind(3, w.summary_json);
    if (absl::Status s = j.Run(); !s.ok()) {
      if (absl::IsAlreadyExists(s)) {
        return absl::AlreadyExistsError(
            absl::StrFormat("step '%s' of %s is already committed", w.step, date));
      }
      return s;
    }
  }
  if (!w.new_accounts.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt a, Stmt::Prepare(d, "INSERT INTO accounts(account_id) VALUES(?)"));
    for (const std::string& id : w.new_accounts) {
      a.Bind(1, id);
      if (absl::Status s = a.Run(); !s.ok()) {
        return absl::AlreadyExistsError(
            absl::StrFormat("account '%s' is already registered (%s)", id, s.message()));
      }
    }
  }
  if (!w.series.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt s,
                            Stmt::Prepare(d,
                                          "INSERT OR REPLACE INTO series(name, date, n, data) "
                                          "VALUES(?,?,?,?)"));
    for (const DailySeries& ser : w.series) {
      s.Bind(1, ser.name);
      s.Bind(2, date);
      s.Bind(3, static_cast<int64_t>(ser.values.size()));
      s.BindBlob(4, AsBytes(ser.values));
      CSCORE_RETURN_IF_ERROR(s.Run());
    }
  }
  if (!w.audit.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt last, Stmt::Prepare(d, "SELECT coalesce(max(seq), 0) FROM audit"));
    CSCORE_ASSIGN_OR_RETURN(bool row, last.Step());
    int64_t next = row ? last.Int(0) + 1 : 1;
    last.Reset();
    CSCORE_ASSIGN_OR_RETURN(Stmt a,
                            Stmt::Prepare(d,
                                          "INSERT INTO audit(seq, time, cta_id, account_id, event, "
                                          "from_status, to_status, actor, reason, detail) "
                                          "VALUES(?,?,?,?,?,?,?,?,?,?)"));
    for (const AuditRow& r : w.audit) {
      if (r.seq != next) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "audit row of CTA %d has seq %d but the log continues at %d (the log changed since "
            "it was read; nothing was written)",
            r.cta_id, r.seq, next));
      }
      ++next;
      a.Bind(1, r.seq);
      a.Bind(2, r.time);
      a.Bind(3, r.cta_id);
      a.Bind(4, r.account_id);
      a.Bind(5, r.event);
      a.Bind(6, r.from_status);
      a.Bind(7, r.to_status);
      a.Bind(8, r.actor);
      a.Bind(9, r.reason);
      a.Bind(10, r.detail);
      CSCORE_RETURN_IF_ERROR(a.Run());
    }
  }
  if (!w.escalations.empty()) {
    CSCORE_ASSIGN_OR_RETURN(
        Stmt e, Stmt::Prepare(d,
                              "INSERT OR REPLACE INTO escalations(cta_id, policy_version, level, "
                              "raised_at, next_due_at, acknowledged_at, resolved_at, policy_id, "
                              "next_step, arr, tier, flags) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"));
    for (const EscalationRow& r : w.escalations) {
      e.Bind(1, r.cta_id);
      e.Bind(2, static_cast<int64_t>(r.policy_version));
      e.Bind(3, static_cast<int64_t>(r.level));
      e.Bind(4, r.raised_at);
      e.Bind(5, r.next_due_at);
      e.Bind(6, r.acknowledged_at);
      e.Bind(7, r.resolved_at);
      e.Bind(8, r.policy_id);
      e.Bind(9, static_cast<int64_t>(r.next_step));
      e.Bind(10, r.arr);
      e.Bind(11, r.tier);
      e.Bind(12, static_cast<int64_t>(r.flags));
      CSCORE_RETURN_IF_ERROR(e.Run());
    }
  }
  if (!w.sponsors.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt s,
                            Stmt::Prepare(d, "INSERT OR REPLACE INTO sponsors VALUES(?,?,?,?,?)"));
    for (const SponsorRow& r : w.sponsors) {
      s.Bind(1, r.account_id);
      s.Bind(2, r.sponsor_id);
      s.Bind(3, static_cast<int64_t>(r.cadence_days));
      s.Bind(4, r.since);
      s.Bind(5, r.next_checkin);
      CSCORE_RETURN_IF_ERROR(s.Run());
    }
  }
  if (!w.sponsors_removed.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(d, "DELETE FROM sponsors WHERE account_id = ?"));
    for (const std::string& account : w.sponsors_removed) {
      s.Bind(1, account);
      CSCORE_RETURN_IF_ERROR(s.Run());
    }
  }
  if (!w.reentry.empty()) {
    CSCORE_ASSIGN_OR_RETURN(Stmt s,
                            Stmt::Prepare(d, "INSERT OR REPLACE INTO reentry VALUES(?,?,?,?,?)"));
    for (const ReentryRow& r : w.reentry) {
      s.Bind(1, r.rule_id);
      s.Bind(2, r.account_id);
      s.Bind(3, r.last_fired);
      s.Bind(4, static_cast<int64_t>(r.times_fired));
      s.Bind(5, r.last_closed);
      CSCORE_RETURN_IF_ERROR(s.Run());
    }
  }
  if (w.report_json) {
    CSCORE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(d, "INSERT OR REPLACE INTO reports VALUES(?,?)"));
    s.Bind(1, date);
    s.Bind(2, *w.report_json);
    CSCORE_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

absl::StatusOr<bool> SqliteStore::IsCommitted(absl::CivilDay date, std::string_view step) const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db, "SELECT 1 FROM journal WHERE date = ? AND step = ?"));
  std::string d = FormatDay(date);
  q.Bind(1, d);
  q.Bind(2, step);
  return q.Step();
}

absl::StatusOr<std::optional<std::string>> SqliteStore::LoadStepSummary(
    absl::CivilDay date, std::string_view step) const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db, "SELECT summary FROM journal WHERE date = ? AND step = ?"));
  std::string d = FormatDay(date);
  q.Bind(1, d);
  q.Bind(2, step);
  CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

namespace {
absl::StatusOr<std::optional<absl::CivilDay>> MaxDay(const Db& db, const char* sql) {
  CSCORE_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db, sql));
  CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return std::optional<absl::CivilDay>();
  CSCORE_ASSIGN_OR_RETURN(absl::CivilDay day, ParseDay(q.Text(0)));
  return std::optional<absl::CivilDay>(day);
}
}  // namespace

absl::StatusOr<std::optional<absl::CivilDay>> SqliteStore::LastCompletedDay() const {
  return MaxDay(impl_->db, "SELECT max(date) FROM reports");
}

absl::StatusOr<std::optional<absl::CivilDay>> SqliteStore::LastStartedDay() const {
  return MaxDay(impl_->db, "SELECT max(date) FROM journal");
}

absl::StatusOr<std::optional<std::string>> SqliteStore::LoadReport(absl::CivilDay date) const {
  CSCORE_ASSIGN_OR_RETURN(Stmt q,
                          Stmt::Prepare(impl_->db, "SELECT json FROM reports WHERE date = ?"));
  std::string d = FormatDay(date);
  q.Bind(1, d);
  CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

absl::StatusOr<std::vector<std::string>> SqliteStore::Accounts() const {
  CSCORE_ASSIGN_OR_RETURN(Stmt q,
                          Stmt::Prepare(impl_->db, "SELECT account_id FROM accounts ORDER BY idx"));
  std::vector<std::string> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

absl::StatusOr<std::vector<double>> SqliteStore::LoadSeries(std::string_view name,
                                                            absl::CivilDay date) const {
  const Db& d = impl_->db;
  CSCORE_ASSIGN_OR_RETURN(Stmt count, Stmt::Prepare(d, "SELECT count(*) FROM accounts"));
  CSCORE_ASSIGN_OR_RETURN(bool crow, count.Step());
  size_t registry = crow ? static_cast<size_t>(count.Int(0)) : 0;
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(d, "SELECT n, data FROM series WHERE name = ? AND date = ?"));
  std::string day = FormatDay(date);
  q.Bind(1, name);
  q.Bind(2, day);
  CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrFormat("no series '%s' on %s", name, day));
  }
  size_t n = static_cast<size_t>(q.Int(0));
  std::span<const std::byte> blob = q.Blob(1);
  if (blob.size() != n * sizeof(double)) {
    return absl::DataLossError(
        absl::StrFormat("series '%s' on %s: %d bytes for %d values", name, day, blob.size(), n));
  }
  std::vector<double> out(std::max(n, registry), std::numeric_limits<double>::quiet_NaN());
  if (n) std::memcpy(out.data(), blob.data(), blob.size());
  return out;
}

absl::StatusOr<std::vector<absl::CivilDay>> SqliteStore::SeriesDays(std::string_view name,
                                                                    absl::CivilDay from,
                                                                    absl::CivilDay to) const {
  CSCORE_ASSIGN_OR_RETURN(Stmt q,
                          Stmt::Prepare(impl_->db,
                                        "SELECT date FROM series WHERE name = ? AND date >= ? "
                                        "AND date <= ? ORDER BY date"));
  std::string f = FormatDay(from), t = FormatDay(to);
  q.Bind(1, name);
  q.Bind(2, f);
  q.Bind(3, t);
  std::vector<absl::CivilDay> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    CSCORE_ASSIGN_OR_RETURN(absl::CivilDay day, ParseDay(q.Text(0)));
    out.push_back(day);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> SqliteStore::SeriesNames(absl::CivilDay date) const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db, "SELECT name FROM series WHERE date = ? ORDER BY name"));
  std::string d = FormatDay(date);
  q.Bind(1, d);
  std::vector<std::string> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

absl::StatusOr<std::vector<AuditRow>> SqliteStore::LoadAudit(int64_t after_seq) const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db,
                            "SELECT seq, time, cta_id, account_id, event, from_status, to_status, "
                            "actor, reason, detail FROM audit WHERE seq > ? ORDER BY seq"));
  q.Bind(1, after_seq);
  std::vector<AuditRow> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), q.Int(1), q.Int(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6),
                   q.Text(7), q.Text(8), q.Text(9)});
  }
  return out;
}

absl::StatusOr<std::vector<EscalationRow>> SqliteStore::LoadEscalations() const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db,
                            "SELECT cta_id, policy_version, level, raised_at, next_due_at, "
                            "acknowledged_at, resolved_at, policy_id, next_step, arr, tier, "
                            "flags FROM escalations ORDER BY cta_id"));
  std::vector<EscalationRow> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), static_cast<int32_t>(q.Int(1)), static_cast<int32_t>(q.Int(2)),
                   q.Int(3), q.Int(4), q.Int(5), q.Int(6), q.Text(7),
                   static_cast<int32_t>(q.Int(8)), q.Double(9), q.Text(10),
                   static_cast<int32_t>(q.Int(11))});
  }
  return out;
}

absl::StatusOr<std::vector<SponsorRow>> SqliteStore::LoadSponsors() const {
  CSCORE_ASSIGN_OR_RETURN(Stmt q,
                          Stmt::Prepare(impl_->db, "SELECT * FROM sponsors ORDER BY account_id"));
  std::vector<SponsorRow> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), static_cast<int32_t>(q.Int(2)), q.Int(3), q.Int(4)});
  }
  return out;
}

absl::StatusOr<std::vector<ReentryRow>> SqliteStore::LoadReentry() const {
  CSCORE_ASSIGN_OR_RETURN(
      Stmt q, Stmt::Prepare(impl_->db, "SELECT * FROM reentry ORDER BY rule_id, account_id"));
  std::vector<ReentryRow> out;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Int(2), static_cast<int32_t>(q.Int(3)), q.Int(4)});
  }
  return out;
}

absl::Status SqliteStore::IntegrityCheck() const {
  CSCORE_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(impl_->db, "PRAGMA integrity_check"));
  std::string findings;
  while (true) {
    CSCORE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string line = q.Text(0);
    if (line != "ok") findings += line + "\n";
  }
  if (findings.empty()) return absl::OkStatus();
  return absl::DataLossError("integrity_check: " + findings);
}

}  // namespace cscore
