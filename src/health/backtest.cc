#include "cscore/health/backtest.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"
#include "cscore/base/strings.h"

namespace cscore {

absl::StatusOr<BacktestReport> Backtest(std::span<const double> probability,
                                        std::span<const uint8_t> churned,
                                        const BacktestOptions& options) {
  const size_t n = probability.size();
  if (churned.size() != n) {
    return absl::InvalidArgumentError(
        StrCat(n, " probabilities but ", churned.size(), " outcomes"));
  }
  if (!options.green.empty() && options.green.size() != n) {
    return absl::InvalidArgumentError(
        StrCat(n, " probabilities but ", options.green.size(), " green flags"));
  }
  if (options.calibration_bins < 1) {
    return absl::InvalidArgumentError("calibration_bins must be >= 1");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!(probability[i] >= 0.0 && probability[i] <= 1.0)) {
      return absl::InvalidArgumentError(
          StrCat("account #", i, ": probability ", probability[i], " is not in [0, 1]"));
    }
  }
  BacktestReport rep;
  rep.accounts = n;
  for (uint8_t c : churned) rep.churned += c != 0;
  if (rep.churned == 0 || rep.churned == n) {
    return absl::InvalidArgumentError(StrCat("a backtest needs churned and retained accounts; ",
                                             rep.churned, " of ", n, " churned"));
  }
  const double nd = static_cast<double>(n);
  rep.base_rate = static_cast<double>(rep.churned) / nd;

  // Ascending by probability; stable so ties keep account order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return probability[a] < probability[b]; });

  // AUC = (rank sum of churners - n1(n1+1)/2) / (n1 n0), ranks 1-based, ties averaged.
  double rank_sum = 0.0;
  for (size_t i = 0; i < n;) {
    size_t k = i;
    size_t pos = 0;
    while (k < n && probability[order[k]] == probability[order[i]]) pos += churned[order[k++]] != 0;
    double avg_rank = 0.5 * static_cast<double>(i + 1 + k);
    rank_sum += avg_rank * static_cast<double>(pos);
    i = k;
  }
  const double n1 = static_cast<double>(rep.churned), n0 = nd - n1;
  rep.auc = (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0);

  // Worst decile: the highest probabilities; among ties, earlier accounts are taken first.
  std::vector<size_t> desc(n);
  std::iota(desc.begin(), desc.end(), 0);
  std::stable_sort(desc.begin(), desc.end(),
                   [&](size_t a, size_t b) { return probability[a] > probability[b]; });
  const size_t top = (n + 9) / 10;
  size_t top_churned = 0;
  for (size_t i = 0; i < top; ++i) top_churned += churned[desc[i]] != 0;
  rep.lift_top_decile =
      (static_cast<double>(top_churned) / static_cast<double>(top)) / rep.base_rate;

  double sq = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = probability[i] - (churned[i] ? 1.0 : 0.0);
    sq += d * d;
  }
  rep.brier = sq / nd;

  const int bins = options.calibration_bins;
  std::vector<size_t> count(bins, 0);
  std::vector<double> sum_p(bins, 0.0), sum_y(bins, 0.0);
  for (size_t i = 0; i < n; ++i) {
    int b = std::min(bins - 1, static_cast<int>(probability[i] * bins));
    ++count[b];
    sum_p[b] += probability[i];
    sum_y[b] += churned[i] ? 1.0 : 0.0;
  }
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    CalibrationBin bin;
    bin.lower = static_cast<double>(b) / bins;
    bin.upper = static_cast<double>(b + 1) / bins;
    bin.count = count[b];
    bin.mean_predicted = sum_p[b] / static_cast<double>(count[b]);
    bin.observed_rate = sum_y[b] / static_cast<double>(count[b]);
    rep.calibration.push_back(bin);
  }

  for (size_t i = 0; i < n; ++i) {
    if (!churned[i]) continue;
    bool green =
        options.green.empty() ? probability[i] < options.green_below : options.green[i] != 0;
    rep.green_churned += green;
  }
  rep.surprise_rate = static_cast<double>(rep.green_churned) / n1;
  return rep;
}

}  // namespace cscore
