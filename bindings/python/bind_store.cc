// SqliteStore, the embedded default Store of the daily run, with its read side.
#include <memory>
#include <string>
#include <vector>

#include "cscore/engine/persist.h"
#include "cscore/store/sqlite_store.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

absl::CivilDay Day(const std::string& text) { return Unwrap(ParseDay(text)); }

std::optional<std::string> OptDay(const absl::StatusOr<std::optional<absl::CivilDay>>& d) {
  if (!d.ok()) ThrowStatus(d.status());
  if (!d->has_value()) return std::nullopt;
  return FormatDay(**d);
}

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<SqliteStore, Store>(m, "SqliteStore",
                                     "One SQLite file in WAL mode, migrated when opened.")
          .def_static(
              "open", [](const std::string& path) { return Unwrap(SqliteStore::Open(path)); },
              py::arg("path"), "Opens or creates the store file and migrates it.")
          .def_property_readonly("schema_version", &SqliteStore::schema_version,
                                 "The store file's schema version after migration.")
          .def(
              "integrity_check", [](const SqliteStore& s) { Check(s.IntegrityCheck()); },
              "Raises when SQLite's integrity check finds a problem.")
          .def(
              "accounts", [](const SqliteStore& s) { return Unwrap(s.Accounts()); },
              "Registered account ids, in registration order.")
          .def(
              "last_completed_day",
              [](const SqliteStore& s) { return OptDay(s.LastCompletedDay()); },
              "The last day whose run completed (YYYY-MM-DD), or None.")
          .def(
              "last_started_day", [](const SqliteStore& s) { return OptDay(s.LastStartedDay()); },
              "The last day a run started (YYYY-MM-DD), or None.")
          .def(
              "load_report",
              [](const SqliteStore& s, const std::string& date) {
                return Unwrap(s.LoadReport(Day(date)));
              },
              py::arg("date"), "The stored JSON report of a completed day, or None.")
          .def(
              "load_series",
              [](const SqliteStore& s, const std::string& name, const std::string& date) {
                return ToNumpy(Unwrap(s.LoadSeries(name, Day(date))));
              },
              py::arg("name"), py::arg("date"),
              "A stored series (e.g. 'metric/logins') of a day, aligned to accounts().")
          .def(
              "series_days",
              [](const SqliteStore& s, const std::string& name, const std::string& from,
                 const std::string& to) {
                std::vector<std::string> out;
                for (absl::CivilDay d : Unwrap(s.SeriesDays(name, Day(from), Day(to))))
                  out.push_back(FormatDay(d));
                return out;
              },
              py::arg("name"), py::arg("start"), py::arg("end"),
              "Days in [start, end] for which the series is stored.")
          .def(
              "load_audit",
              [](const SqliteStore& s, int64_t after_seq) {
                py::dict cols;
                std::vector<AuditRow> rows = Unwrap(s.LoadAudit(after_seq));
                std::vector<int64_t> seq, time, cta;
                std::vector<std::string> account, event, from, to, actor, reason, detail;
                for (const AuditRow& r : rows) {
                  seq.push_back(r.seq);
                  time.push_back(r.time);
                  cta.push_back(r.cta_id);
                  account.push_back(r.account_id);
                  event.push_back(r.event);
                  from.push_back(r.from_status);
                  to.push_back(r.to_status);
                  actor.push_back(r.actor);
                  reason.push_back(r.reason);
                  detail.push_back(r.detail);
                }
                cols["seq"] = ToNumpy(std::move(seq));
                cols["time"] = ToNumpy(std::move(time));
                cols["cta_id"] = ToNumpy(std::move(cta));
                cols["account_id"] = account;
                cols["event"] = event;
                cols["from_status"] = from;
                cols["to_status"] = to;
                cols["actor"] = actor;
                cols["reason"] = reason;
                cols["detail"] = detail;
                return cols;
              },
              py::arg("after_seq") = 0, "Audit log columns (seq > after_seq).");
    },
    /*order=*/60);

}  // namespace
}  // namespace cscore::python
