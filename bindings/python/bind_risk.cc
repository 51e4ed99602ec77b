// The 8-domain risk scorecard: YAML definitions (the CLI's loader), evaluation over a frame
// with its open CTAs (given as rows or read from a CTA store), and the weekly review list.
// Threshold signals are built in; `condition` signals compile with CEL against the frame's
// schema and history metrics, as the daily run does.
#include <memory>
#include <string>
#include <vector>

#include "cscore/expr/cel.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/risk/domains.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/risk/scorecard.h"
#include "cta_py.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

struct PyRiskBatch {
  RiskBatch batch;
};

absl::CivilDay Day(int64_t seconds) {
  return absl::ToCivilDay(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
}

// open_ctas: [(row, type, domain name, manual, flagged)]; `store` adds its open CTAs.
std::unique_ptr<PyRiskBatch> Evaluate(
    const RiskScorecardDef& def, const PyFrame& frame, const PyHistory* history, int64_t as_of,
    const std::vector<std::tuple<size_t, std::string, std::string, bool, bool>>& open_ctas,
    const PyCtaStore* store) {
  if (history != nullptr && history->history.num_accounts() != frame.frame.num_rows()) {
    throw py::value_error("history has " + std::to_string(history->history.num_accounts()) +
                          " accounts, the frame " + std::to_string(frame.frame.num_rows()));
  }
  std::vector<ColumnSpec> schema = frame.frame.schema();
  std::vector<std::string> metrics;
  if (history != nullptr) metrics = history->history.metric_names();
  PredicateCompiler compile = CelPredicateCompiler(
      cel::Environment::ForFrame(frame.frame, history ? &history->history : nullptr));
  RiskScorecard card = Unwrap(RiskScorecard::Compile(def, compile, schema, metrics));
  std::vector<RiskCtaRef> refs;
  if (store != nullptr) refs = OpenRiskCtas(*store->store, frame.frame);
  refs.reserve(open_ctas.size());
  for (const auto& [row, type, domain, manual, flagged] : open_ctas) {
    RiskCtaRef r;
    r.row = row;
    r.type = type;  // views the tuple's string, alive for this call
    r.domain = Unwrap(ParseScorecardDomain(domain));
    r.manual = manual;
    r.flagged = flagged;
    refs.push_back(r);
  }
  absl::StatusOr<RiskBatch> batch;
  {
    py::gil_scoped_release release;
    PredicateInput input{frame.frame, history ? &history->history : nullptr, Day(as_of)};
    batch = card.Evaluate(input, refs);
  }
  auto out = std::make_unique<PyRiskBatch>();
  out->batch = Unwrap(std::move(batch));
  return out;
}

py::dict Columns(const PyRiskBatch& b) {
  py::dict d;
  for (RiskDomain dom : kAllRiskDomains) {
    std::span<const uint8_t> s = b.batch.domain(dom);
    d[py::str(std::string(RiskDomainName(dom)))] =
        ToNumpy(std::vector<uint8_t>(s.begin(), s.end()));
  }
  auto copy = [](std::span<const uint8_t> s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  d["overall"] = ToNumpy(copy(b.batch.overall()));
  d["red_count"] = ToNumpy(copy(b.batch.red_count()));
  d["yellow_count"] = ToNumpy(copy(b.batch.yellow_count()));
  return d;
}

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<PyRiskBatch>(m, "RiskBatchCore", "Native risk statuses of a frame.")
          .def("columns", &Columns, "Status codes (0 green, 1 yellow, 2 red) per domain.");
      py::class_<RiskScorecardDef>(m, "RiskScorecardCore", "A parsed 8-domain risk definition.")
          .def_static(
              "from_yaml",
              [](const std::string& text, const std::string& source) {
                return Unwrap(ParseRiskScorecardYaml(text, source));
              },
              py::arg("text"), py::arg("source") = "<string>")
          .def_static(
              "load", [](const std::string& path) { return Unwrap(LoadRiskScorecardFile(path)); },
              py::arg("path"))
          .def_property_readonly(
              "owners",
              [](const RiskScorecardDef& def) {
                py::dict d;
                for (RiskDomain dom : kAllRiskDomains)
                  d[py::str(std::string(RiskDomainName(dom)))] = std::string(DefaultOwnerTeam(dom));
                for (const RiskDomainDef& dd : def.domains) {
                  if (!dd.owner_team.empty())
                    d[py::str(std::string(RiskDomainName(dd.domain)))] = dd.owner_team;
                }
                return d;
              })
          .def_property_readonly(
              "signals",
              [](const RiskScorecardDef& def) {
                std::vector<std::tuple<std::string, std::string, std::string>> out;
                for (const RiskDomainDef& dd : def.domains)
                  for (const RiskSignalDef& s : dd.signals)
                    out.emplace_back(std::string(RiskDomainName(dd.domain)), s.name,
                                     std::string(RiskStatusName(s.level)));
                return out;
              })
          .def("evaluate", &Evaluate, py::arg("frame"), py::arg("history") = nullptr,
               py::arg("as_of") = 0,
               py::arg("open_ctas") =
                   std::vector<std::tuple<size_t, std::string, std::string, bool, bool>>{},
               py::arg("store") = nullptr,
               "Compiles against the frame's schema and evaluates; the GIL is released.");
      m.def(
          "risk_review_list",
          [](const PyRiskBatch& b, const PyFrame& frame, const std::string& arr_column,
             double min_arr) {
            std::vector<std::tuple<size_t, std::string, double, int>> out;
            for (const ReviewItem& it :
                 Unwrap(ReviewList(b.batch, frame.frame, arr_column, min_arr))) {
              out.emplace_back(it.row, std::string(it.account_id), it.arr, it.red_domains);
            }
            return out;
          },
          py::arg("batch"), py::arg("frame"), py::arg("arr_column"), py::arg("min_arr"),
          "Red accounts with ARR >= min_arr, largest ARR first: (row, id, arr, red bits).");
    },
    /*order=*/30);

}  // namespace
}  // namespace cscore::python
