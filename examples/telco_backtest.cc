// Fits the logistic churn model on the Telco data (stratified 80/20 split, fixed seed) and
// prints the backtest of the held-out 20%: AUC, worst-decile lift, Brier score, surprise
// rate and the calibration table, plus the strongest coefficients.
//
//   example_telco_backtest                                   # examples/data/telco_sample.csv
//   example_telco_backtest ../shared/data/telco_customer_churn.csv
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "cscore/frame/csv.h"
#include "cscore/health/backtest.h"
#include "cscore/health/design_matrix.h"
#include "cscore/health/logistic.h"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "examples/data/telco_sample.csv";
  absl::StatusOr<cscore::AccountFrame> frame = cscore::ReadCsv(path);
  if (!frame.ok()) {
    std::fprintf(stderr, "%s\n", std::string(frame.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::vector<uint8_t>> churned = cscore::EncodeTarget(*frame, "Churn", "Yes");
  if (!churned.ok()) {
    std::fprintf(stderr, "%s\n", std::string(churned.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<cscore::Split> split = cscore::StratifiedSplit(*churned, 0.2, 42);
  if (!split.ok()) {
    std::fprintf(stderr, "%s\n", std::string(split.status().message()).c_str());
    return 1;
  }
  cscore::ModelSpec spec;
  spec.target = "Churn";
  spec.positive = "Yes";
  spec.fit.l2_C = 1.0;
  absl::StatusOr<cscore::LogisticModel> model =
      cscore::LogisticModel::Fit(*frame, spec, split->train);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::vector<double>> p = model->PredictProba(*frame, split->test);
  std::vector<uint8_t> y;
  for (size_t r : split->test) y.push_back((*churned)[r]);
  absl::StatusOr<cscore::BacktestReport> rep = cscore::Backtest(*p, y, {.green_below = 0.2});
  if (!p.ok() || !rep.ok()) {
    std::fprintf(stderr, "backtest failed\n");
    return 1;
  }
  std::printf("%s: trained on %zu accounts, tested on %zu (%zu churned)\n", path.c_str(),
              split->train.size(), rep->accounts, rep->churned);
  std::printf("AUC %.4f   lift (worst decile) %.2f   Brier %.4f   surprise rate %.3f\n", rep->auc,
              rep->lift_top_decile, rep->brier, rep->surprise_rate);
  std::printf("\ncalibration      count  predicted  observed\n");
  for (const cscore::CalibrationBin& b : rep->calibration) {
    std::printf("  [%.1f, %.1f)  %5zu  %9.3f  %8.3f\n", b.lower, b.upper, b.count, b.mean_predicted,
                b.observed_rate);
  }
  const auto& features = model->design().features();
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::abs(model->coef()[a]) > std::abs(model->coef()[b]);
  });
  std::printf("\nstrongest coefficients (standardised numbers, one-hot categories)\n");
  for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k) {
    std::printf("  %+.3f  %s\n", model->coef()[order[k]], features[order[k]].Name().c_str());
  }
  return 0;
}
