// Health scorecards: compile from YAML (the same loader as the CLI, so the same
// file:line:column messages), score frames in column batches with the GIL released, and
// explain one account's score.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cscore/health/scorecard.h"
#include "cscore/health/scorecard_yaml.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/eigen.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

// A scored batch keeps the frame it viewed (its AccountFrame shares the caller's buffers).
struct PyScores {
  py::object frame_owner;
  SetBatch batch;
};

ScoreDetail ParseDetail(const std::string& detail) {
  if (detail == "scores") return ScoreDetail::kScores;
  if (detail == "subscores") return ScoreDetail::kSubScores;
  if (detail == "full") return ScoreDetail::kFull;
  throw py::value_error("detail must be 'scores', 'subscores' or 'full', got '" + detail + "'");
}

std::unique_ptr<PyScores> Score(const ScorecardSet& set, const py::object& frame_obj,
                                const PyHistory* history, int64_t as_of, int threads,
                                const std::string& detail, const PyScores* previous) {
  const PyFrame& frame = frame_obj.cast<const PyFrame&>();
  ScoreOptions opt;
  opt.as_of = as_of;
  opt.threads = threads;
  opt.detail = ParseDetail(detail);
  absl::StatusOr<SetBatch> batch;
  {
    py::gil_scoped_release release;
    batch = set.Score(frame.frame, history ? &history->history : nullptr, opt,
                      previous ? &previous->batch : nullptr);
  }
  auto out = std::make_unique<PyScores>();
  out->batch = Unwrap(std::move(batch));
  out->frame_owner = frame_obj;
  return out;
}

py::dict Columns(PyScores& s) {
  py::dict d;
  SetBatch& b = s.batch;
  d["score"] = ToNumpy(std::move(b.score));
  d["range"] = ToNumpy(std::move(b.range));
  d["delta"] = ToNumpy(std::move(b.delta));
  d["trend"] = ToNumpy(std::move(b.trend));
  d["card"] = ToNumpy(std::vector<int>(b.card));  // explain still needs it
  return d;
}

py::dict CardInfo(const Scorecard& card) {
  const ScorecardDef& def = card.def();
  py::dict d;
  d["name"] = def.name;
  d["aggregation"] = std::string(AggregationName(def.aggregation));
  d["missing"] = def.missing == MissingPolicy::kRenormalize ? "renormalize" : "substitute";
  d["min_coverage"] = def.min_coverage;
  py::list measures;
  for (const MeasureDef& m : def.measures) {
    py::dict md;
    md["name"] = m.name;
    md["metric"] = m.metric;
    md["kind"] = std::string(MeasureKindName(m.kind));
    md["weight"] = m.weight;
    md["window"] =
        m.window
            ? py::object(py::make_tuple(std::string(WindowOpName(m.window->op)), m.window->days))
            : py::object(py::none());
    measures.append(md);
  }
  d["measures"] = measures;
  py::list groups;
  for (const GroupDef& g : def.groups) {
    py::dict gd;
    gd["name"] = g.name;
    gd["weight"] = g.weight;
    gd["aggregation"] = std::string(AggregationName(g.aggregation));
    gd["members"] = g.members;
    groups.append(gd);
  }
  d["groups"] = groups;
  d["members"] = def.members;
  py::list ranges;
  for (const RangeDef& r : def.scheme.ranges) {
    ranges.append(py::make_tuple(r.from, r.to, r.label, r.color));
  }
  d["ranges"] = ranges;
  return d;
}

py::dict ExplanationDict(const Explanation& e) {
  py::dict d;
  d["account_id"] = e.account_id;
  d["score"] = e.score;
  d["previous"] = e.previous;
  d["label"] = e.label;
  d["color"] = e.color;
  py::dict cols;
  std::vector<std::string> measure, path;
  std::vector<double> raw, sub, weight, contribution, points, prev_points, delta_points;
  std::vector<bool> overridden;
  for (const MeasureExplanation& m : e.measures) {
    measure.push_back(m.measure);
    path.push_back(m.path);
    raw.push_back(m.raw);
    sub.push_back(m.sub_score);
    weight.push_back(m.weight);
    contribution.push_back(m.contribution);
    points.push_back(m.points);
    prev_points.push_back(m.previous_points);
    delta_points.push_back(m.delta_points);
    overridden.push_back(m.overridden);
  }
  cols["measure"] = measure;
  cols["path"] = path;
  cols["raw"] = ToNumpy(std::move(raw));
  cols["sub_score"] = ToNumpy(std::move(sub));
  cols["weight"] = ToNumpy(std::move(weight));
  cols["contribution"] = ToNumpy(std::move(contribution));
  cols["points"] = ToNumpy(std::move(points));
  cols["previous_points"] = ToNumpy(std::move(prev_points));
  cols["delta_points"] = ToNumpy(std::move(delta_points));
  cols["overridden"] = overridden;
  d["measures"] = cols;
  d["top_movers"] = e.top_movers;
  d["top_drivers"] = e.top_drivers;
  return d;
}

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<PyScores>(m, "ScoreBatchCore", "Native result of scoring a frame.")
          .def("columns", &Columns,
               "Moves score, range, delta, trend and card out as numpy arrays (once).")
          .def(
              "subscores",
              [](const PyScores& s, size_t card) {
                if (card >= s.batch.batches.size()) throw py::index_error("no such scorecard");
                return Eigen::MatrixXd(s.batch.batches[card].sub);
              },
              py::arg("card"), "Accounts x measures sub-scores of one scorecard.");

      py::class_<ScorecardSet>(m, "ScorecardSetCore",
                               "Compiled scorecards, one chosen per account (native).")
          .def_static(
              "from_yaml",
              [](const std::string& text, const std::string& source) {
                ScorecardSetDef def = Unwrap(ParseScorecardsYaml(text, source));
                return Unwrap(ScorecardSet::Compile(def));
              },
              py::arg("text"), py::arg("source") = "<string>")
          .def_static(
              "load", [](const std::string& path) { return Unwrap(LoadScorecardSet(path)); },
              py::arg("path"))
          .def_property_readonly("size", &ScorecardSet::size)
          .def(
              "card_info",
              [](const ScorecardSet& s, size_t i) {
                if (i >= s.size()) throw py::index_error("no such scorecard");
                return CardInfo(s.card(i));
              },
              py::arg("index"))
          .def(
              "range_of",
              [](const ScorecardSet& s, size_t card, double score) {
                if (card >= s.size()) throw py::index_error("no such scorecard");
                return s.card(card).RangeOf(score);
              },
              py::arg("card"), py::arg("score"))
          .def("score", &Score, py::arg("frame"), py::arg("history") = nullptr,
               py::arg("as_of") = 0, py::arg("threads") = 1, py::arg("detail") = "subscores",
               py::arg("previous") = nullptr, "Scores every account; the GIL is released.")
          .def(
              "score_only",
              [](const ScorecardSet& set, const PyFrame& frame, const PyHistory* history,
                 int64_t as_of, int threads) {
                // The C++ figure the binding overhead is measured against: scoring alone,
                // no result handed to Python.
                ScoreOptions opt;
                opt.as_of = as_of;
                opt.threads = threads;
                opt.detail = ScoreDetail::kScores;
                absl::StatusOr<SetBatch> batch;
                {
                  py::gil_scoped_release release;
                  batch = set.Score(frame.frame, history ? &history->history : nullptr, opt);
                }
                return Unwrap(std::move(batch)).score.size();
              },
              py::arg("frame"), py::arg("history") = nullptr, py::arg("as_of") = 0,
              py::arg("threads") = 1)
          .def(
              "explain",
              [](const ScorecardSet& set, const PyScores& scores, size_t row,
                 const PyScores* previous) {
                const SetBatch& b = scores.batch;
                if (row >= b.card.size()) throw py::index_error("row out of range");
                size_t c = static_cast<size_t>(b.card[row]);
                const ScoreBatch* prev = nullptr;
                if (previous != nullptr && previous->batch.batches.size() == b.batches.size()) {
                  prev = &previous->batch.batches[c];
                }
                return ExplanationDict(Unwrap(set.card(c).Explain(b.batches[c], row, prev)));
              },
              py::arg("scores"), py::arg("row"), py::arg("previous") = nullptr,
              "Why an account scored what it did (scores scored with detail='full').");
    },
    /*order=*/20);

}  // namespace
}  // namespace cscore::python
