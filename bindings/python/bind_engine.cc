// The daily run: Engine over a Store, run reports, snapshot reading and config checks.
// SqliteStore, the concrete store, is bound in bind_store.cc.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cscore/engine/config_dir.h"
#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/functional.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

absl::CivilDay Day(const std::string& text) { return Unwrap(ParseDay(text)); }

// The engine calls `progress` from its own code: a Python error there is kept and raised
// once Run returns, never thrown through the library.
struct PyEngine {
  PyEngine(Store& store, std::optional<int> history_days, py::object progress,
           const std::optional<std::string>& config)
      : progress_fn(std::move(progress)) {
    // A configuration directory gives every step its definitions (LoadEngineOptions, the
    // same loader and messages as `cscore run --config`).
    EngineOptions options = config ? Unwrap(LoadEngineOptions(*config)) : EngineOptions{};
    if (history_days) options.history_days = *history_days;
    if (!progress_fn.is_none()) {
      options.progress = [this](std::string_view step, double fraction) {
        py::gil_scoped_acquire acquire;
        if (pending) return;
        try {
          progress_fn(std::string(step), fraction);
        } catch (py::error_already_set& e) {
          pending = std::make_unique<py::error_already_set>(std::move(e));
        }
      };
    }
    engine = std::make_unique<Engine>(store, std::move(options));
  }

  RunReport Run(const PyFrame& snapshot, const std::string& as_of) {
    absl::CivilDay day = Day(as_of);
    absl::StatusOr<RunReport> report;
    {
      py::gil_scoped_release release;
      report = engine->Run(snapshot.frame, day);
    }
    if (pending) {
      auto e = std::move(pending);
      throw std::move(*e);
    }
    return Unwrap(std::move(report));
  }

  py::object progress_fn;
  std::unique_ptr<py::error_already_set> pending;
  std::unique_ptr<Engine> engine;
};

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<Store>(m, "Store", "Persistence interface of the daily run (see SqliteStore).");

      py::class_<RunReport>(m, "RunReport", "What one day's run did.")
          .def_property_readonly(
              "date", [](const RunReport& r) { return FormatDay(r.date); },
              "The day run (YYYY-MM-DD).")
          .def_readonly("accounts", &RunReport::accounts, "Accounts in the day's snapshot.")
          .def_readonly("new_accounts", &RunReport::new_accounts,
                        "Accounts seen for the first time.")
          .def_readonly("metrics", &RunReport::metrics, "Metric columns kept as history.")
          .def_readonly("from_store", &RunReport::from_store,
                        "True when the day was already complete (the stored report).")
          .def_readonly("new_red_accounts", &RunReport::new_red_accounts,
                        "Accounts red today that were not red on the previous run.")
          .def_readonly("escalations", &RunReport::escalations,
                        "One entry per escalation step fired.")
          .def_readonly("steps", &RunReport::steps, "The steps the day's run consists of.")
          .def_property_readonly(
              "health",
              [](const RunReport& r) {
                py::dict d;
                d["green"] = r.health.green;
                d["yellow"] = r.health.yellow;
                d["red"] = r.health.red;
                d["unscored"] = r.health.unscored;
                return d;
              },
              "Accounts per health color: green, yellow, red, unscored.")
          .def_property_readonly(
              "risk_red",
              [](const RunReport& r) {
                py::dict d;
                for (size_t i = 0; i < kRiskDomainNames.size(); ++i)
                  d[py::str(std::string(kRiskDomainNames[i]))] = r.risk_red[i];
                return d;
              },
              "Red accounts per risk domain.")
          .def_property_readonly(
              "ctas",
              [](const RunReport& r) {
                py::dict d;
                d["opened"] = r.ctas.opened;
                d["updated"] = r.ctas.updated;
                d["closed"] = r.ctas.closed;
                d["escalated"] = r.ctas.escalated;
                d["woken"] = r.ctas.woken;
                d["breached"] = r.ctas.breached;
                d["rejected"] = r.ctas.rejected;
                d["open"] = r.ctas.open;
                return d;
              },
              "CTAs opened, updated, closed, escalated, woken, breached, rejected; open after the "
              "run.")
          .def_readonly("risk_red_accounts", &RunReport::risk_red_accounts,
                        "Accounts red in at least one risk domain.")
          .def_property_readonly(
              "rules",
              [](const RunReport& r) {
                py::dict d;
                d["run"] = r.rules.run;
                d["matched"] = r.rules.matched;
                d["intents"] = r.rules.intents;
                d["suppressed_snoozed"] = r.rules.suppressed_snoozed;
                d["suppressed_reentry"] = r.rules.suppressed_reentry;
                d["measures_set"] = r.rules.measures_set;
                d["tagged"] = r.rules.tagged;
                return d;
              },
              "Rules run, rows matched, intents, suppressed by snooze and by re-entry limits, "
              "measure overrides set and accounts newly tagged.")
          .def_property_readonly(
              "timed",
              [](const RunReport& r) {
                py::dict d;
                d["opened"] = r.timed.opened;
                d["check_ins"] = r.timed.check_ins;
                return d;
              },
              "Timed CTAs opened (milestones, QBRs, check-ins) and of them executive check-ins.")
          .def_property_readonly(
              "sponsors",
              [](const RunReport& r) {
                py::dict d;
                d["assigned"] = r.sponsors.assigned;
                d["unassigned"] = r.sponsors.unassigned;
                d["changed"] = r.sponsors.changed;
                return d;
              },
              "Sponsor assignments: assigned, unassigned, changed.")
          .def("to_json", &RunReport::ToJson, "The JSON document `cscore run --json` prints.")
          .def_static(
              "from_json",
              [](const std::string& json) { return Unwrap(RunReport::FromJson(json)); },
              py::arg("json"), "Parses a report written by to_json.");

      py::class_<PyEngine>(m, "Engine", "The daily run over a store (native; see cscore.Engine).")
          .def(
              py::init<Store&, std::optional<int>, py::object, const std::optional<std::string>&>(),
              py::arg("store"), py::arg("history_days") = std::nullopt,
              py::arg("progress") = py::none(), py::arg("config") = std::nullopt,
              py::keep_alive<1, 2>())
          .def_property_readonly(
              "steps",
              [](const PyEngine& e) {
                const EngineOptions& o = e.engine->options();
                py::dict d;
                d["health"] = o.scorecards != nullptr;
                d["risk"] = o.risk.has_value();
                d["rules"] = o.rules.has_value();
                d["escalation"] = o.escalator != nullptr;
                d["sponsors"] = o.sponsors.has_value();
                d["history_days"] = o.history_days;
                return d;
              },
              "Which configured steps the engine runs.")
          .def("run", &PyEngine::Run, py::arg("snapshot"), py::arg("as_of"),
               "Runs day `as_of` (YYYY-MM-DD) over the snapshot; idempotent per day.")
          .def(
              "load_history",
              [](const PyEngine& e, const PyFrame& snapshot,
                 const std::vector<std::string>& metrics, const std::string& as_of, int days) {
                absl::CivilDay day = Day(as_of);
                absl::StatusOr<MetricHistory> h;
                {
                  py::gil_scoped_release release;
                  h = e.engine->LoadHistory(snapshot.frame, metrics, day, days);
                }
                return std::make_unique<PyHistory>(Unwrap(std::move(h)));
              },
              py::arg("snapshot"), py::arg("metrics"), py::arg("as_of"), py::arg("days"),
              "The last `days` days of `metrics` aligned to the snapshot's accounts.");

      m.def(
          "read_snapshot",
          [](const std::string& data_dir, const std::string& date) {
            auto f = std::make_unique<PyFrame>();
            f->frame = Unwrap(ReadSnapshot(data_dir, Day(date)));
            return f;
          },
          py::arg("data_dir"), py::arg("date"),
          "The day's snapshot: <dir>/accounts-YYYY-MM-DD.csv, else <dir>/accounts.csv.");
      m.def(
          "check_config_dir",
          [](const std::string& dir) {
            ConfigCheck check = CheckConfigDir(dir);
            std::vector<std::string> errors;
            for (const absl::Status& e : check.errors) errors.emplace_back(e.message());
            return py::make_tuple(check.files, errors);
          },
          py::arg("dir"), "(files read, error messages) of a configuration directory.");
      m.def(
          "check_config_file", [](const std::string& path) { Check(CheckConfigFile(path)); },
          py::arg("path"), "Raises with file:line:column when the YAML file is not valid.");
      m.def(
          "metric_columns", [](const PyFrame& f) { return MetricColumns(f.frame); },
          py::arg("frame"), "The columns the run keeps as daily history.");
    },
    /*order=*/50);

}  // namespace
}  // namespace cscore::python
