// Logistic churn model fit on 1M accounts x 32 features (the size), against the
// cost of one X^T X pass over the same matrix: every Newton iteration needs at least that
// (a weighted X^T W X), so the ratio reads as "how many GEMM passes the fit costs".
// Both run single-threaded and are read as CPU time, the "one core" of the target,
// so a busy machine does not inflate them.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "Eigen/Core"
#include "benchmark/benchmark.h"
#include "cscore/health/logistic.h"

namespace {

constexpr Eigen::Index kRows = 1'000'000;
constexpr Eigen::Index kCols = 32;

struct Data {
  Eigen::MatrixXd x;
  std::vector<uint8_t> y;
};

// Standard-normal features, churn drawn from a known logistic model with ~25% positives.
const Data& GetData() {
  static const Data data = [] {
    Data d{Eigen::MatrixXd(kRows, kCols), std::vector<uint8_t>(kRows)};
    std::mt19937_64 rng(2024);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> unif;
    for (Eigen::Index j = 0; j < kCols; ++j) {
      for (Eigen::Index i = 0; i < kRows; ++i) d.x(i, j) = normal(rng);
    }
    Eigen::VectorXd coef(kCols);
    for (Eigen::Index j = 0; j < kCols; ++j) coef[j] = (j % 2 ? -0.5 : 0.5) / (1.0 + j / 8);
    Eigen::VectorXd eta = d.x * coef;
    for (Eigen::Index i = 0; i < kRows; ++i) {
      d.y[i] = unif(rng) < 1.0 / (1.0 + std::exp(1.2 - eta[i]));
    }
    return d;
  }();
  return data;
}

void BM_XtX(benchmark::State& state) {
  const Data& d = GetData();
  for (auto _ : state) {
    Eigen::MatrixXd h = Eigen::MatrixXd::Zero(kCols, kCols);
    h.selfadjointView<Eigen::Lower>().rankUpdate(d.x.transpose());
    benchmark::DoNotOptimize(h.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_XtX)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_LogisticFit(benchmark::State& state) {
  const Data& d = GetData();
  int iterations = 0;
  for (auto _ : state) {
    absl::StatusOr<cscore::LogisticFit> fit = cscore::FitLogistic(d.x, d.y, {.l2_C = 1.0});
    if (!fit.ok()) {
      state.SkipWithError("fit failed");
      return;
    }
    iterations = fit->iterations;
    benchmark::DoNotOptimize(fit->coef.data());
  }
  state.counters["newton_iterations"] = iterations;
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_LogisticFit)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
