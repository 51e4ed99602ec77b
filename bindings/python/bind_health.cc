// Health: the logistic churn model (fit / predict over frames or matrices), the design
// encoding it carries, stratified splits and scorecard weights learned from churn.
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "cscore/health/backtest.h"
#include "cscore/health/design_matrix.h"
#include "cscore/health/logistic.h"
#include "frame_py.h"
#include "module.h"
#include "pybind11/eigen.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Calls f with a column-major view of X: a Fortran-order float64 array is mapped in place;
// any other layout or dtype is converted once (the solver works on contiguous columns).
template <typename F>
auto WithMatrix(const py::array& x, F&& f) {
  if (x.ndim() != 2) throw py::value_error("X must be a 2-D array");
  auto rows = static_cast<Eigen::Index>(x.shape(0));
  auto cols = static_cast<Eigen::Index>(x.shape(1));
  // Unpickled buffers may be misaligned; those take the copying path below.
  bool aligned = reinterpret_cast<uintptr_t>(x.data()) % alignof(double) == 0;
  if (aligned && x.dtype().is(py::dtype::of<double>()) && (x.flags() & py::array::f_style) != 0) {
    Eigen::Map<const Eigen::MatrixXd> m(static_cast<const double*>(x.data()), rows, cols);
    return f(Eigen::Ref<const Eigen::MatrixXd>(m));
  }
  auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
  if (!c) throw py::type_error("X must be numeric");
  RowMajor row_major(rows, cols);
  std::memcpy(row_major.data(), c.data(), static_cast<size_t>(c.nbytes()));
  Eigen::MatrixXd col_major = row_major;  // the solver's blocked updates want column-major
  return f(Eigen::Ref<const Eigen::MatrixXd>(col_major));
}

std::vector<uint8_t> Outcome(const py::handle& y, size_t n) {
  auto arr = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(y);
  if (!arr || arr.ndim() != 1) throw py::value_error("y must be a 1-D array of 0/1");
  if (static_cast<size_t>(arr.size()) != n) {
    throw py::value_error("y has " + std::to_string(arr.size()) + " values, X has " +
                          std::to_string(n) + " rows");
  }
  return {arr.data(), arr.data() + arr.size()};
}

LogisticOptions Options(double C, double tol, int max_iter) {
  LogisticOptions o;
  o.l2_C = C;
  o.tolerance = tol;
  o.max_iterations = max_iter;
  return o;
}

py::dict FitArray(const py::array& x, const py::handle& y, double C, double tol, int max_iter) {
  std::vector<uint8_t> outcome = Outcome(y, x.ndim() == 2 ? x.shape(0) : 0);
  LogisticOptions opt = Options(C, tol, max_iter);
  absl::StatusOr<LogisticFit> fit = WithMatrix(x, [&](const Eigen::Ref<const Eigen::MatrixXd>& m) {
    py::gil_scoped_release release;
    return FitLogistic(m, outcome, opt);
  });
  LogisticFit f = Unwrap(std::move(fit));
  py::dict out;
  out["coef"] = Eigen::VectorXd(f.coef);
  out["intercept"] = f.intercept;
  out["iterations"] = f.iterations;
  out["objective"] = f.objective;
  return out;
}

std::vector<size_t> Rows(const std::optional<std::vector<size_t>>& rows) {
  return rows ? *rows : std::vector<size_t>{};
}

void BindModel(py::module_& m) {
  py::enum_<MissingPolicy>(m, "MissingPolicy")
      .value("error", MissingPolicy::kError)
      .value("impute_mean", MissingPolicy::kImputeMean);

  py::class_<DesignFeature>(m, "DesignFeature", "One column of a design matrix.")
      .def_readonly("column", &DesignFeature::column)
      .def_property_readonly("kind",
                             [](const DesignFeature& f) {
                               switch (f.kind) {
                                 case DesignFeature::Kind::kNumeric:
                                   return "numeric";
                                 case DesignFeature::Kind::kBool:
                                   return "bool";
                                 case DesignFeature::Kind::kCategory:
                                   return "category";
                               }
                               return "numeric";
                             })
      .def_readonly("category", &DesignFeature::category)
      .def_readonly("mean", &DesignFeature::mean)
      .def_readonly("scale", &DesignFeature::scale)
      .def_property_readonly("name", &DesignFeature::Name);

  py::class_<LogisticModel>(m, "LogisticModelCore",
                            "A fitted churn model: design encoding plus coefficients.")
      .def_static(
          "fit",
          [](const PyFrame& frame, const std::string& target, const std::string& positive,
             const std::vector<std::string>& exclude, MissingPolicy missing, double C, double tol,
             int max_iter, const std::optional<std::vector<size_t>>& rows) {
            ModelSpec spec;
            spec.target = target;
            spec.positive = positive;
            spec.design.exclude = exclude;
            spec.design.missing = missing;
            spec.fit = Options(C, tol, max_iter);
            std::vector<size_t> r = Rows(rows);
            absl::StatusOr<LogisticModel> model;
            {
              py::gil_scoped_release release;
              model = LogisticModel::Fit(frame.frame, spec, r);
            }
            return Unwrap(std::move(model));
          },
          py::arg("frame"), py::arg("target"), py::arg("positive"), py::arg("exclude"),
          py::arg("missing"), py::arg("C"), py::arg("tol"), py::arg("max_iter"),
          py::arg("rows") = std::nullopt)
      .def_static(
          "from_json", [](const std::string& j) { return Unwrap(LogisticModel::FromJson(j)); },
          py::arg("json"))
      .def("to_json", &LogisticModel::ToJson)
      .def(
          "predict_proba",
          [](const LogisticModel& model, const PyFrame& frame,
             const std::optional<std::vector<size_t>>& rows) {
            std::vector<size_t> r = Rows(rows);
            absl::StatusOr<std::vector<double>> p;
            {
              py::gil_scoped_release release;
              p = model.PredictProba(frame.frame, r);
            }
            return ToNumpy(Unwrap(std::move(p)));
          },
          py::arg("frame"), py::arg("rows") = std::nullopt,
          "Churn probability per row of the frame.")
      .def(
          "transform",
          [](const LogisticModel& model, const PyFrame& frame) {
            absl::StatusOr<Eigen::MatrixXd> x;
            {
              py::gil_scoped_release release;
              x = model.design().Transform(frame.frame);
            }
            return Unwrap(std::move(x));
          },
          py::arg("frame"), "The design matrix of the frame (accounts x features).")
      .def_property_readonly("features",
                             [](const LogisticModel& model) { return model.design().features(); })
      .def_property_readonly(
          "coef", [](const LogisticModel& model) { return Eigen::VectorXd(model.coef()); })
      .def_property_readonly("intercept", &LogisticModel::intercept)
      .def_property_readonly("target", &LogisticModel::target)
      .def_property_readonly("positive", &LogisticModel::positive)
      .def_property_readonly("C", &LogisticModel::l2_C);

  m.def("fit_logistic_array", &FitArray, py::arg("X"), py::arg("y"), py::arg("C") = 1.0,
        py::arg("tol") = 1e-10, py::arg("max_iter") = 100,
        "L2 logistic regression on a float64 matrix (scikit-learn's objective).");
  m.def(
      "encode_target",
      [](const PyFrame& frame, const std::string& target, const std::string& positive) {
        return ToNumpy(Unwrap(EncodeTarget(frame.frame, target, positive)));
      },
      py::arg("frame"), py::arg("target"), py::arg("positive"),
      "0/1 outcome per row from a target column.");
  m.def(
      "stratified_split",
      [](const py::handle& y, double test_fraction, uint64_t seed) {
        auto arr = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(y);
        if (!arr || arr.ndim() != 1) throw py::value_error("y must be a 1-D array of 0/1");
        Split s = Unwrap(
            StratifiedSplit({arr.data(), static_cast<size_t>(arr.size())}, test_fraction, seed));
        return py::make_tuple(ToNumpy(std::move(s.train)), ToNumpy(std::move(s.test)));
      },
      py::arg("y"), py::arg("test_fraction"), py::arg("seed"),
      "(train rows, test rows), stratified by outcome, identical on every platform.");
  m.def(
      "fit_scorecard_weights",
      [](const py::array& subscores, const py::handle& churned, double C, double tol,
         int max_iter) {
        std::vector<uint8_t> y = Outcome(churned, subscores.ndim() == 2 ? subscores.shape(0) : 0);
        ScorecardWeightOptions opt;
        opt.l2_C = C;
        opt.tolerance = tol;
        opt.max_iterations = max_iter;
        absl::StatusOr<ScorecardWeights> w =
            WithMatrix(subscores, [&](const Eigen::Ref<const Eigen::MatrixXd>& x) {
              py::gil_scoped_release release;
              return FitScorecardWeights(x, y, opt);
            });
        ScorecardWeights r = Unwrap(std::move(w));
        py::dict out;
        out["weights"] = Eigen::VectorXd(r.weights);
        out["coef"] = Eigen::VectorXd(r.coef);
        out["intercept"] = r.intercept;
        out["iterations"] = r.iterations;
        return out;
      },
      py::arg("subscores"), py::arg("churned"), py::arg("C") = 1e4, py::arg("tol") = 1e-10,
      py::arg("max_iter") = 200,
      "Non-negative scorecard weights (summing to 1) learned from churn outcomes.");
}

py::dict BacktestDict(const BacktestReport& r) {
  py::dict d;
  d["accounts"] = r.accounts;
  d["churned"] = r.churned;
  d["base_rate"] = r.base_rate;
  d["auc"] = r.auc;
  d["lift_top_decile"] = r.lift_top_decile;
  d["brier"] = r.brier;
  d["green_churned"] = r.green_churned;
  d["surprise_rate"] = r.surprise_rate;
  std::vector<double> lower, upper, mean, rate;
  std::vector<int64_t> count;
  for (const CalibrationBin& b : r.calibration) {
    lower.push_back(b.lower);
    upper.push_back(b.upper);
    count.push_back(static_cast<int64_t>(b.count));
    mean.push_back(b.mean_predicted);
    rate.push_back(b.observed_rate);
  }
  py::dict cal;
  cal["lower"] = ToNumpy(std::move(lower));
  cal["upper"] = ToNumpy(std::move(upper));
  cal["count"] = ToNumpy(std::move(count));
  cal["mean_predicted"] = ToNumpy(std::move(mean));
  cal["observed_rate"] = ToNumpy(std::move(rate));
  d["calibration"] = cal;
  return d;
}

void BindBacktest(py::module_& m) {
  m.def(
      "backtest",
      [](const py::handle& probability, const py::handle& churned, double green_below,
         const py::object& green, int bins) {
        auto p =
            py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(probability);
        if (!p || p.ndim() != 1) throw py::value_error("probability must be a 1-D array");
        std::vector<uint8_t> y = Outcome(churned, static_cast<size_t>(p.size()));
        std::vector<uint8_t> g;
        if (!green.is_none()) g = Outcome(green, static_cast<size_t>(p.size()));
        BacktestOptions opt;
        opt.green_below = green_below;
        opt.green = g;
        opt.calibration_bins = bins;
        absl::StatusOr<BacktestReport> r;
        {
          py::gil_scoped_release release;
          r = Backtest({p.data(), static_cast<size_t>(p.size())}, y, opt);
        }
        return BacktestDict(Unwrap(std::move(r)));
      },
      py::arg("probability"), py::arg("churned"), py::arg("green_below") = 0.2,
      py::arg("green") = py::none(), py::arg("calibration_bins") = 10,
      "AUC, top-decile lift, Brier score, calibration and surprise rate of a churn score.");
}

BinderRegistrar reg(
    [](py::module_& m) {
      BindModel(m);
      BindBacktest(m);
    },
    /*order=*/10);

}  // namespace
}  // namespace cscore::python
