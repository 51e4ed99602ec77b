// Metric history: daily snapshots of float64 metrics for the accounts of a frame.
//
// Each metric is an accounts x days matrix, column-major, so one day is a contiguous
// column over all accounts and a window aggregate is a handful of column passes (the
// vectorized shape the scorers want). Day D-1 is the latest (as_of); NaN is missing.
//
//   cscore::MetricHistory h(/*num_accounts=*/n, /*num_days=*/90);
//   h.AddMetric("logins", matrix);                     // n x 90
//   h.Window("logins", cscore::WindowOp::kTrend, 30, out);  // slope per day, per account
#ifndef CSCORE_FRAME_HISTORY_H_
#define CSCORE_FRAME_HISTORY_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cscore {

// Aggregates over the last `days` snapshots (the window ends at the latest day).
//   kSum, kMean, kMin, kMax: over the present values; NaN when none is present.
//   kLast: the latest present value in the window.
//   kTrend: least-squares slope per day over the present values; NaN with fewer than two.
//   kPctChange: 100 * (v[last] - v[last - days]) / |v[last - days]|; NaN when either is
//     missing or the base is zero.
enum class WindowOp : uint8_t { kSum, kMean, kLast, kMin, kMax, kTrend, kPctChange };

std::string_view WindowOpName(WindowOp op);
absl::StatusOr<WindowOp> ParseWindowOp(std::string_view name);

class MetricHistory {
 public:
  MetricHistory(size_t num_accounts, size_t num_days);

  size_t num_accounts() const { return num_accounts_; }
  size_t num_days() const { return num_days_; }
  std::vector<std::string> metric_names() const;
  bool Has(std::string_view metric) const;

  // Owned copy; `values` must be num_accounts x num_days.
  absl::Status AddMetric(std::string name, Eigen::MatrixXd values);
  // Zero-copy view over a column-major num_accounts x num_days buffer.
  absl::Status ViewMetric(std::string name, std::span<const double> column_major);

  // The whole matrix of a metric (accounts x days).
  absl::StatusOr<Eigen::Map<const Eigen::MatrixXd>> Get(std::string_view metric) const;

  // Vectorized: writes one value per account into `out` (size num_accounts).
  // InvalidArgument when `days` is < 1 (< 2 for kTrend) or exceeds the history.
  absl::Status Window(std::string_view metric, WindowOp op, int days, std::span<double> out) const;
  absl::StatusOr<std::vector<double>> Window(std::string_view metric, WindowOp op, int days) const;
  // One account at a time, for row-wise evaluators.
  absl::StatusOr<double> WindowAt(std::string_view metric, WindowOp op, int days,
                                  size_t account) const;

 private:
  struct Metric {
    std::string name;
    std::vector<double> owned;
    const double* data = nullptr;
  };
  absl::StatusOr<const Metric*> Find(std::string_view metric) const;
  absl::Status CheckWindow(WindowOp op, int days) const;

  size_t num_accounts_;
  size_t num_days_;
  std::vector<std::unique_ptr<Metric>> metrics_;
};

}  // namespace cscore

#endif  // CSCORE_FRAME_HISTORY_H_
