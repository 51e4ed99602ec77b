#include "cscore/health/logistic.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "Eigen/Cholesky"
#include "absl/status/status.h"
#include "cscore/base/strings.h"
#include "nlohmann/json.hpp"

namespace cscore {
namespace {

constexpr std::string_view kFormat = "cscore.logistic/1";
// Rows per block of the Hessian pass: a block of a 32-column design (~270 KB) stays in
// L2 while it is scaled and rank-updated into X^T W X.
constexpr Eigen::Index kBlockRows = 1024;

double Log1pExp(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

// Penalised log-loss at linear predictor `eta` and coefficients `coef`.
double Objective(const Eigen::VectorXd& eta, std::span<const uint8_t> y,
                 const Eigen::VectorXd& coef, double inv_c) {
  double loss = 0.0;
  for (Eigen::Index i = 0; i < eta.size(); ++i) {
    loss += Log1pExp(eta[i]) - (y[static_cast<size_t>(i)] ? eta[i] : 0.0);
  }
  return loss + 0.5 * inv_c * coef.squaredNorm();
}

// The gradient and Hessian over (intercept, coef...) are accumulated block by block: each
// block of rows is copied once, used for X^T r, then scaled by sqrt(w) and rank-updated.
struct HessianScratch {
  Eigen::MatrixXd block;
  Eigen::VectorXd r, sw;
};

void StartGradientHessian(Eigen::Index n, Eigen::Index p, HessianScratch& sc, Eigen::VectorXd& grad,
                          Eigen::MatrixXd& hess) {
  grad.setZero(p + 1);
  hess.setZero(p + 1, p + 1);
  sc.block.resize(std::min(kBlockRows, n), p + 1);
  sc.r.resize(sc.block.rows());
  sc.sw.resize(sc.block.rows());
}

// Rows [r0, r0 + nb), whose residuals and sqrt-weights are in sc.r and sc.sw.
void AddBlock(const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index r0, Eigen::Index nb,
              HessianScratch& sc, Eigen::VectorXd& grad, Eigen::MatrixXd& hess) {
  const Eigen::Index p = x.cols();
  auto b = sc.block.topRows(nb);
  b.col(0).setOnes();
  b.rightCols(p) = x.middleRows(r0, nb);
  grad.noalias() += b.transpose() * sc.r.head(nb);
  b = sc.sw.head(nb).asDiagonal() * b;
  hess.selfadjointView<Eigen::Lower>().rankUpdate(b.transpose());
}

void FinishGradientHessian(const Eigen::VectorXd& coef, double inv_c, Eigen::VectorXd& grad,
                           Eigen::MatrixXd& hess) {
  const Eigen::Index p = coef.size();
  hess.triangularView<Eigen::StrictlyUpper>() = hess.transpose();
  grad.tail(p) += inv_c * coef;
  hess.diagonal().tail(p).array() += inv_c;
}

void GradientHessian(const Eigen::Ref<const Eigen::MatrixXd>& x, std::span<const uint8_t> y,
                     const Eigen::VectorXd& eta, const Eigen::VectorXd& coef, double inv_c,
                     Eigen::VectorXd& grad, Eigen::MatrixXd& hess) {
  const Eigen::Index n = x.rows(), p = x.cols();
  HessianScratch sc;
  StartGradientHessian(n, p, sc, grad, hess);
  for (Eigen::Index r0 = 0; r0 < n; r0 += kBlockRows) {
    const Eigen::Index nb = std::min(kBlockRows, n - r0);
    for (Eigen::Index i = 0; i < nb; ++i) {
      double mu = Sigmoid(eta[r0 + i]);
      sc.r[i] = mu - (y[static_cast<size_t>(r0 + i)] ? 1.0 : 0.0);
      sc.sw[i] = std::sqrt(mu * (1.0 - mu));
    }
    AddBlock(x, r0, nb, sc, grad, hess);
  }
  FinishGradientHessian(coef, inv_c, grad, hess);
}

// A full Newton step tried in one pass over X instead of two: block by block, moves the
// linear predictor to eta + X delta (into `trial_eta`), sums the log-loss there and
// accumulates the gradient and Hessian at it, which the next iteration needs when the step
// is accepted (nearly always for Newton on a logistic loss). Returns the penalised
// objective at the trial point; the values are those of Objective() and GradientHessian()
// at trial_eta, one exp() per row serving both.
double TrialPass(const Eigen::Ref<const Eigen::MatrixXd>& x, std::span<const uint8_t> y,
                 const Eigen::VectorXd& eta, const Eigen::VectorXd& delta,
                 const Eigen::VectorXd& trial_coef, double inv_c, Eigen::VectorXd& trial_eta,
                 Eigen::VectorXd& grad, Eigen::MatrixXd& hess) {
  const Eigen::Index n = x.rows(), p = x.cols();
  HessianScratch sc;
  StartGradientHessian(n, p, sc, grad, hess);
  trial_eta.resize(n);
  double loss = 0.0;
  for (Eigen::Index r0 = 0; r0 < n; r0 += kBlockRows) {
    const Eigen::Index nb = std::min(kBlockRows, n - r0);
    auto te = trial_eta.segment(r0, nb);
    te = eta.segment(r0, nb);
    te.array() += delta[0];
    te.noalias() += x.middleRows(r0, nb) * delta.tail(p);
    for (Eigen::Index i = 0; i < nb; ++i) {
      const double z = te[i];
      const double e = std::exp(-std::abs(z));
      const bool yi = y[static_cast<size_t>(r0 + i)] != 0;
      loss += (z > 0 ? z + std::log1p(e) : std::log1p(e)) - (yi ? z : 0.0);
      const double mu = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      sc.r[i] = mu - (yi ? 1.0 : 0.0);
      sc.sw[i] = std::sqrt(mu * (1.0 - mu));
    }
    AddBlock(x, r0, nb, sc, grad, hess);
  }
  FinishGradientHessian(trial_coef, inv_c, grad, hess);
  return loss + 0.5 * inv_c * trial_coef.squaredNorm();
}

struct NewtonResult {
  Eigen::VectorXd beta;  // intercept, then coefficients
  int iterations = 0;
  double objective = 0.0;
};

// Newton's method on the penalised log-loss. With `nonneg`, the coefficients (not the
// intercept) are kept >= 0 by a projected Newton method: coordinates at the bound whose
// gradient pushes outward are held at 0 and the step is projected back onto the set.
absl::StatusOr<NewtonResult> Newton(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                    std::span<const uint8_t> y, double l2_c, double tol,
                                    int max_iterations, bool nonneg) {
  const Eigen::Index n = x.rows(), p = x.cols();
  if (static_cast<size_t>(n) != y.size()) {
    return absl::InvalidArgumentError(
        StrCat("design has ", n, " rows but there are ", y.size(), " outcomes"));
  }
  if (n == 0) return absl::InvalidArgumentError("no rows to fit");
  if (!(l2_c > 0.0) || !std::isfinite(l2_c)) {
    return absl::InvalidArgumentError(StrCat("C must be a positive number, got ", l2_c));
  }
  if (!(tol > 0.0) || max_iterations < 1) {
    return absl::InvalidArgumentError("tolerance must be > 0 and max_iterations >= 1");
  }
  if (!x.allFinite()) {
    for (Eigen::Index j = 0; j < p; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) {
        if (!std::isfinite(x(i, j))) {
          return absl::InvalidArgumentError(
              StrCat("design value at row ", i, ", column ", j, " is not finite"));
        }
      }
    }
  }
  size_t positives = 0;
  for (uint8_t v : y) positives += v != 0;
  if (positives == 0 || positives == y.size()) {
    return absl::InvalidArgumentError(StrCat("the outcome has a single class (", positives, " of ",
                                             y.size(), " positive); a logistic model needs both"));
  }
  const double inv_c = 1.0 / l2_c;
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p + 1);
  double rate = static_cast<double>(positives) / static_cast<double>(n);
  beta[0] = std::log(rate / (1.0 - rate));
  Eigen::VectorXd eta = Eigen::VectorXd::Constant(n, beta[0]);
  double f = Objective(eta, y, beta.tail(p), inv_c);
  Eigen::VectorXd grad, step, xd, trial_beta, trial_eta, trial_grad;
  Eigen::MatrixXd hess, trial_hess;
  GradientHessian(x, y, eta, beta.tail(p), inv_c, grad, hess);
  for (int it = 1; it <= max_iterations; ++it) {
    // Free coordinates: the intercept, and coefficients off the bound or pulled inward.
    std::vector<Eigen::Index> free;
    free.push_back(0);
    for (Eigen::Index j = 1; j <= p; ++j) {
      if (!nonneg || beta[j] > 0.0 || grad[j] < 0.0) free.push_back(j);
    }
    const Eigen::Index nf = static_cast<Eigen::Index>(free.size());
    Eigen::MatrixXd hf(nf, nf);
    Eigen::VectorXd gf(nf);
    for (Eigen::Index a = 0; a < nf; ++a) {
      gf[a] = grad[free[a]];
      for (Eigen::Index b = 0; b < nf; ++b) hf(a, b) = hess(free[a], free[b]);
    }
    Eigen::LDLT<Eigen::MatrixXd> ldlt(hf);
    if (ldlt.info() != Eigen::Success) {
      return absl::InternalError("the Newton system could not be factorised");
    }
    Eigen::VectorXd df = ldlt.solve(-gf);
    step.setZero(p + 1);
    for (Eigen::Index a = 0; a < nf; ++a) step[free[a]] = df[a];
    // Backtracking line search along the projected path, on the exact objective. The full
    // step (t = 1) is tried by TrialPass, which also yields the next gradient and Hessian.
    double t = 1.0;
    bool accepted = false, have_next = false;
    double f_new = f;
    for (int ls = 0; ls < 60; ++ls, t *= 0.5) {
      trial_beta = beta + t * step;
      if (nonneg) trial_beta.tail(p) = trial_beta.tail(p).cwiseMax(0.0);
      Eigen::VectorXd delta = trial_beta - beta;
      double ft;
      if (ls == 0) {
        ft = TrialPass(x, y, eta, delta, trial_beta.tail(p), inv_c, trial_eta, trial_grad,
                       trial_hess);
      } else {
        trial_eta = eta;
        trial_eta.array() += delta[0];
        trial_eta.noalias() += x * delta.tail(p);
        ft = Objective(trial_eta, y, trial_beta.tail(p), inv_c);
      }
      double decrease = grad.dot(delta);
      // Near the optimum the decrease drowns in rounding of a sum over n rows; there the
      // full Newton step is accepted, as it is what converges quadratically.
      double noise = 1e-13 * (std::abs(f) + 1.0);
      if (ft <= f + 1e-4 * decrease || (t == 1.0 && -decrease <= noise)) {
        accepted = true;
        have_next = ls == 0;
        f_new = ft;
        break;
      }
    }
    if (!accepted) {
      return absl::InternalError(StrCat("line search failed at Newton iteration ", it));
    }
    double moved = (trial_beta - beta).cwiseAbs().maxCoeff();
    beta.swap(trial_beta);
    eta.swap(trial_eta);
    f = f_new;
    if (moved <= tol * std::max(1.0, beta.cwiseAbs().maxCoeff())) {
      NewtonResult res;
      res.beta = std::move(beta);
      res.iterations = it;
      res.objective = f;
      return res;
    }
    if (have_next) {
      grad.swap(trial_grad);
      hess.swap(trial_hess);
    } else {
      GradientHessian(x, y, eta, beta.tail(p), inv_c, grad, hess);
    }
  }
  return absl::FailedPreconditionError(
      StrCat("logistic fit did not converge in ", max_iterations, " Newton iterations"));
}

}  // namespace

absl::StatusOr<LogisticFit> FitLogistic(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                        std::span<const uint8_t> y,
                                        const LogisticOptions& options) {
  absl::StatusOr<NewtonResult> r =
      Newton(x, y, options.l2_C, options.tolerance, options.max_iterations, false);
  if (!r.ok()) return r.status();
  LogisticFit fit;
  fit.intercept = r->beta[0];
  fit.coef = r->beta.tail(x.cols());
  fit.iterations = r->iterations;
  fit.objective = r->objective;
  return fit;
}

absl::StatusOr<LogisticModel> LogisticModel::Fit(const AccountFrame& frame, const ModelSpec& spec,
                                                 std::span<const size_t> rows) {
  absl::StatusOr<std::vector<uint8_t>> y_all = EncodeTarget(frame, spec.target, spec.positive);
  if (!y_all.ok()) return y_all.status();
  DesignOptions design = spec.design;
  if (std::find(design.exclude.begin(), design.exclude.end(), spec.target) ==
      design.exclude.end()) {
    design.exclude.push_back(spec.target);
  }
  absl::StatusOr<DesignEncoding> enc = DesignEncoding::Fit(frame, design, rows);
  if (!enc.ok()) return enc.status();
  absl::StatusOr<Eigen::MatrixXd> x = enc->Transform(frame, rows);
  if (!x.ok()) return x.status();
  std::vector<uint8_t> y;
  if (rows.empty()) {
    y = *std::move(y_all);
  } else {
    y.reserve(rows.size());
    for (size_t r : rows) y.push_back((*y_all)[r]);
  }
  absl::StatusOr<LogisticFit> fit = FitLogistic(*x, y, spec.fit);
  if (!fit.ok()) return fit.status();
  LogisticModel m;
  m.design_ = *std::move(enc);
  m.coef_ = std::move(fit->coef);
  m.intercept_ = fit->intercept;
  m.target_ = spec.target;
  m.positive_ = spec.positive;
  m.l2_C_ = spec.fit.l2_C;
  return m;
}

std::vector<double> LogisticModel::PredictProba(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  Eigen::VectorXd eta = x * coef_;
  std::vector<double> p(static_cast<size_t>(eta.size()));
  for (Eigen::Index i = 0; i < eta.size(); ++i) {
    p[static_cast<size_t>(i)] = Sigmoid(eta[i] + intercept_);
  }
  return p;
}

absl::StatusOr<std::vector<double>> LogisticModel::PredictProba(
    const AccountFrame& frame, std::span<const size_t> rows) const {
  absl::StatusOr<Eigen::MatrixXd> x = design_.Transform(frame, rows);
  if (!x.ok()) return x.status();
  return PredictProba(*x);
}

std::string LogisticModel::ToJson() const {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["target"] = target_;
  j["positive"] = positive_;
  j["l2_C"] = l2_C_;
  j["missing"] = design_.missing() == MissingPolicy::kError ? "error" : "impute_mean";
  j["intercept"] = intercept_;
  nlohmann::ordered_json feats = nlohmann::ordered_json::array();
  const auto& features = design_.features();
  for (size_t k = 0; k < features.size(); ++k) {
    const DesignFeature& f = features[k];
    nlohmann::ordered_json e;
    e["name"] = f.Name();
    e["column"] = f.column;
    switch (f.kind) {
      case DesignFeature::Kind::kNumeric:
        e["kind"] = "numeric";
        e["mean"] = f.mean;
        e["scale"] = f.scale;
        break;
      case DesignFeature::Kind::kBool:
        e["kind"] = "bool";
        e["mean"] = f.mean;
        break;
      case DesignFeature::Kind::kCategory:
        e["kind"] = "category";
        e["category"] = f.category;
        break;
    }
    e["coef"] = coef_[static_cast<Eigen::Index>(k)];
    feats.push_back(std::move(e));
  }
  j["features"] = std::move(feats);
  return j.dump(2);
}

absl::StatusOr<LogisticModel> LogisticModel::FromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("model JSON does not parse as an object");
  }
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(StrCat("model JSON: ", what));
  };
  auto number = [&](const nlohmann::json& obj, const char* key, double& out) -> absl::Status {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number()) return bad(StrCat("'", key, "' must be a number"));
    out = it->get<double>();
    if (!std::isfinite(out)) return bad(StrCat("'", key, "' must be finite"));
    return absl::OkStatus();
  };
  auto string = [&](const nlohmann::json& obj, const char* key, std::string& out) -> absl::Status {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return bad(StrCat("'", key, "' must be a string"));
    out = it->get<std::string>();
    return absl::OkStatus();
  };
  std::string format, missing;
  LogisticModel m;
  for (absl::Status s : {string(j, "format", format), string(j, "target", m.target_),
                         string(j, "positive", m.positive_), string(j, "missing", missing),
                         number(j, "l2_C", m.l2_C_), number(j, "intercept", m.intercept_)}) {
    if (!s.ok()) return s;
  }
  if (format != kFormat) return bad(StrCat("format must be '", kFormat, "', got '", format, "'"));
  MissingPolicy policy;
  if (missing == "error") {
    policy = MissingPolicy::kError;
  } else if (missing == "impute_mean") {
    policy = MissingPolicy::kImputeMean;
  } else {
    return bad(StrCat("'missing' must be error or impute_mean, got '", missing, "'"));
  }
  auto fit = j.find("features");
  if (fit == j.end() || !fit->is_array()) return bad("'features' must be an array");
  std::vector<DesignFeature> features;
  m.coef_.resize(static_cast<Eigen::Index>(fit->size()));
  for (size_t k = 0; k < fit->size(); ++k) {
    const nlohmann::json& e = (*fit)[k];
    if (!e.is_object()) return bad(StrCat("feature ", k, " must be an object"));
    DesignFeature f;
    std::string kind;
    double coef = 0.0;
    for (absl::Status s :
         {string(e, "column", f.column), string(e, "kind", kind), number(e, "coef", coef)}) {
      if (!s.ok()) return bad(StrCat("feature ", k, ": ", ToStd(s.message())));
    }
    absl::Status s = absl::OkStatus();
    if (kind == "numeric") {
      f.kind = DesignFeature::Kind::kNumeric;
      s = number(e, "mean", f.mean);
      if (s.ok()) s = number(e, "scale", f.scale);
    } else if (kind == "bool") {
      f.kind = DesignFeature::Kind::kBool;
      s = number(e, "mean", f.mean);
    } else if (kind == "category") {
      f.kind = DesignFeature::Kind::kCategory;
      s = string(e, "category", f.category);
    } else {
      s = bad(StrCat("'kind' must be numeric, bool or category, got '", kind, "'"));
    }
    if (!s.ok()) return bad(StrCat("feature ", k, ": ", ToStd(s.message())));
    m.coef_[static_cast<Eigen::Index>(k)] = coef;
    features.push_back(std::move(f));
  }
  absl::StatusOr<DesignEncoding> enc = DesignEncoding::FromFeatures(std::move(features), policy);
  if (!enc.ok()) return bad(ToStd(enc.status().message()));
  m.design_ = *std::move(enc);
  return m;
}

absl::StatusOr<ScorecardWeights> FitScorecardWeights(
    const Eigen::Ref<const Eigen::MatrixXd>& subscores, std::span<const uint8_t> churned,
    const ScorecardWeightOptions& options) {
  const Eigen::Index n = subscores.rows(), m = subscores.cols();
  if (m == 0) return absl::InvalidArgumentError("no measures to weight");
  if (n == 0) return absl::InvalidArgumentError("no accounts to learn weights from");
  if (!subscores.allFinite()) {
    return absl::InvalidArgumentError("sub-scores must be finite (impute missing ones first)");
  }
  // Standardise so the penalty and the Newton system treat every measure alike; a
  // positive rescaling keeps the sign constraint, so it is undone exactly afterwards.
  Eigen::RowVectorXd mean = subscores.colwise().mean();
  Eigen::RowVectorXd sd =
      ((subscores.rowwise() - mean).array().square().colwise().sum() / static_cast<double>(n))
          .sqrt();
  Eigen::MatrixXd z(n, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    // Negated: the constrained coefficient is then "churn odds drop per unit of health".
    if (sd[j] > 0.0) {
      z.col(j) = -(subscores.col(j).array() - mean[j]) / sd[j];
    } else {
      z.col(j).setZero();
    }
  }
  absl::StatusOr<NewtonResult> r =
      Newton(z, churned, options.l2_C, options.tolerance, options.max_iterations, true);
  if (!r.ok()) return r.status();
  ScorecardWeights out;
  out.coef.resize(m);
  out.intercept = r->beta[0];
  for (Eigen::Index j = 0; j < m; ++j) {
    out.coef[j] = sd[j] > 0.0 ? r->beta[j + 1] / sd[j] : 0.0;
    out.intercept += out.coef[j] * mean[j];
  }
  double total = out.coef.sum();
  out.weights = total > 0.0 ? Eigen::VectorXd(out.coef / total) : Eigen::VectorXd::Zero(m);
  out.iterations = r->iterations;
  return out;
}

}  // namespace cscore
