// Backtest of a churn score against what actually happened: did the model rank the churners
// first, were its probabilities honest, and were any churners shown green?
//
// Inputs are one predicted churn probability and one 0/1 outcome per account, plus how to
// tell a green account: either a caller-given green flag per account (e.g. the scorecard's
// colour at the horizon) or, when none is given, "probability below green_below".
//
//   cscore::BacktestOptions opt{.green_below = 0.2};
//   absl::StatusOr<cscore::BacktestReport> r = cscore::Backtest(probs, churned, opt);
//   std::cout << r->auc << " " << r->lift_top_decile << " " << r->surprise_rate;
#ifndef CSCORE_HEALTH_BACKTEST_H_
#define CSCORE_HEALTH_BACKTEST_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace cscore {

struct BacktestOptions {
  // Accounts with a probability below this count as green when `green` is empty.
  double green_below = 0.2;
  // Optional green flag per account (non-zero = green); overrides `green_below`.
  std::span<const uint8_t> green = {};
  // Equal-width probability bins of the calibration table ([0, 1/bins), ..., [.., 1]).
  int calibration_bins = 10;
};

struct CalibrationBin {
  double lower = 0.0;
  double upper = 0.0;
  size_t count = 0;
  double mean_predicted = 0.0;
  double observed_rate = 0.0;
};

struct BacktestReport {
  size_t accounts = 0;
  size_t churned = 0;
  double base_rate = 0.0;
  // ROC AUC by the rank-sum formula, tied probabilities sharing their average rank.
  double auc = 0.0;
  // Churn rate among the ceil(10%) highest-probability accounts over the overall rate.
  // Ties at the decile edge are broken by account order.
  double lift_top_decile = 0.0;
  double brier = 0.0;
  // Non-empty bins only, in increasing probability.
  std::vector<CalibrationBin> calibration;
  size_t green_churned = 0;
  // Share of churned accounts that were green: churn that came as a surprise.
  double surprise_rate = 0.0;
};

// Probabilities must lie in [0, 1] and both outcome classes must occur; errors name the
// offending account position.
absl::StatusOr<BacktestReport> Backtest(std::span<const double> probability,
                                        std::span<const uint8_t> churned,
                                        const BacktestOptions& options = {});

}  // namespace cscore

#endif  // CSCORE_HEALTH_BACKTEST_H_
