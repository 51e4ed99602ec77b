// Predictive churn model: L2-regularised logistic regression over a design matrix, and
// non-negative scorecard weights learned from churn outcomes.
//
// The objective is scikit-learn's: minimise sum_i logloss_i + ||w||^2 / (2C), intercept not
// penalised, so `l2_C` means the same as LogisticRegression(C=...). It is solved by Newton's
// method (Cholesky/LDLT of the p x p Hessian, X^T W X built with blocked rank updates) with
// a backtracking line search, to a tight tolerance. LogisticModel bundles the design
// encoding with the coefficients and serialises to JSON, so scoring needs nothing else.
//
//   cscore::ModelSpec spec{.target = "Churn", .positive = "Yes"};
//   absl::StatusOr<cscore::LogisticModel> m = cscore::LogisticModel::Fit(frame, spec);
//   absl::StatusOr<std::vector<double>> p = m->PredictProba(new_frame);
#ifndef CSCORE_HEALTH_LOGISTIC_H_
#define CSCORE_HEALTH_LOGISTIC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "cscore/frame/frame.h"
#include "cscore/health/design_matrix.h"

namespace cscore {

struct LogisticOptions {
  double l2_C = 1.0;         // scikit-learn's C: penalty ||w||^2 / (2C); must be > 0
  double tolerance = 1e-10;  // stop when the largest Newton step is below this
  int max_iterations = 100;  // not converging within this is an error, not a result
};

struct LogisticFit {
  Eigen::VectorXd coef;  // one per design column
  double intercept = 0.0;
  int iterations = 0;
  double objective = 0.0;  // penalised log-loss at the solution
};

// Fits P(y=1|x) = sigmoid(intercept + x.coef) to the rows of `x` (accounts x features).
absl::StatusOr<LogisticFit> FitLogistic(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                        std::span<const uint8_t> y,
                                        const LogisticOptions& options = {});

// Everything needed to fit a model from a frame.
struct ModelSpec {
  std::string target = {};    // outcome column
  std::string positive = {};  // value of `target` meaning churned (see EncodeTarget)
  DesignOptions design = {};  // `target` is excluded automatically
  LogisticOptions fit = {};
};

class LogisticModel {
 public:
  // Fits on `rows` of `frame` (all rows when empty).
  static absl::StatusOr<LogisticModel> Fit(const AccountFrame& frame, const ModelSpec& spec,
                                           std::span<const size_t> rows = {});
  static absl::StatusOr<LogisticModel> FromJson(std::string_view json);
  std::string ToJson() const;

  // Churn probability of each of `rows` (all rows when empty), in that order.
  absl::StatusOr<std::vector<double>> PredictProba(const AccountFrame& frame,
                                                   std::span<const size_t> rows = {}) const;
  // The same for an already-encoded design matrix.
  std::vector<double> PredictProba(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  const DesignEncoding& design() const { return design_; }
  const Eigen::VectorXd& coef() const { return coef_; }
  double intercept() const { return intercept_; }
  const std::string& target() const { return target_; }
  const std::string& positive() const { return positive_; }
  double l2_C() const { return l2_C_; }

 private:
  DesignEncoding design_;
  Eigen::VectorXd coef_;
  double intercept_ = 0.0;
  std::string target_;
  std::string positive_;
  double l2_C_ = 1.0;
};

struct ScorecardWeightOptions {
  // Penalty on the per-unit coefficients in standardised units, as LogisticOptions::l2_C.
  double l2_C = 1e4;
  double tolerance = 1e-10;
  int max_iterations = 200;
};

struct ScorecardWeights {
  // Non-negative, summing to 1 (all zero when no measure predicts churn): plug into a
  // weighted-sum scorecard.
  Eigen::VectorXd weights;
  // P(churn) = sigmoid(intercept - subscores . coef), coef >= 0 per unit of sub-score:
  // a higher health sub-score never raises the churn probability.
  Eigen::VectorXd coef;
  double intercept = 0.0;
  int iterations = 0;
};

// Learns scorecard weights from churn outcomes: a logistic regression of `churned` on the
// measure sub-scores (accounts x measures) with every weight constrained to be >= 0, solved
// by a projected Newton method with an active set. A measure whose sub-score goes up with
// churn gets weight 0 rather than a negative one.
absl::StatusOr<ScorecardWeights> FitScorecardWeights(
    const Eigen::Ref<const Eigen::MatrixXd>& subscores, std::span<const uint8_t> churned,
    const ScorecardWeightOptions& options = {});

}  // namespace cscore

#endif  // CSCORE_HEALTH_LOGISTIC_H_
