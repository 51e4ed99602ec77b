// Scorecard scoring over 1M accounts x 32 float64 measures in 3 groups (the size),
// each figure read against a baseline measured in the same run:
//  - BM_ReadBandwidth: a plain vectorized sum over the same 256 MB of columns; the
//    scorecards' bytes/s are read as a share of it (targets 50% for a weighted sum of
//    identity ramps, 25% with ramps, inverted ramps and bands on every measure).
//  - BM_Percentile*: the population rank one percentile measure needs, next to a
//    std::sort of the same column.
//  - BM_ScoreRowAtATime: the same mixed scorecard evaluated account by account through
//    the generic tree walk (Scorecard::ScoreRow); the batch path should be >= 20x faster.
//  - BM_ScoreThreads/N: the mixed scorecard on N threads, against itself on one thread.
// Single-thread figures are CPU time (the "one core" of the targets, robust to a busy
// machine); the thread figures are wall time, the only clock that shows a speedup. Each
// figure is the median of several repetitions.
//
// Every column has 5% missing values (NaN), so the NaN masks are exercised.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "cscore/frame/frame.h"
#include "cscore/health/scorecard.h"

namespace {

constexpr size_t kRows = 1'000'000;
constexpr int kMeasures = 32;
constexpr int kGroups = 3;
constexpr size_t kBytes = kRows * kMeasures * sizeof(double);

struct Data {
  std::vector<std::string> ids;
  std::vector<std::vector<double>> cols;
  std::vector<std::string> segments;
  cscore::AccountFrame frame;
};

// Appended rather than "m" + to_string(j), which trips GCC 12's -Wrestrict false positive.
std::string Col(int j) {
  std::string name = "m";
  name += std::to_string(j);
  return name;
}

const Data& GetData() {
  static const Data* data = [] {
    auto* d = new Data;
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> unif(0, 100);
    d->ids.reserve(kRows);
    for (size_t i = 0; i < kRows; ++i) {
      std::string id = "acct-";
      id += std::to_string(i);
      d->ids.push_back(std::move(id));
    }
    d->cols.resize(kMeasures);
    for (int j = 0; j < kMeasures; ++j) {
      std::vector<double>& c = d->cols[static_cast<size_t>(j)];
      c.resize(kRows);
      for (double& x : c) {
        double u = unif(rng);
        x = u < 5 ? std::nan("") : unif(rng);
      }
    }
    static const char* kSegments[] = {"strategic",  "enterprise", "mid-market", "smb",
                                      "tech-touch", "partner",    "public",     "startup"};
    d->segments.resize(kRows);
    for (size_t i = 0; i < kRows; ++i) d->segments[i] = kSegments[rng() % 8];
    cscore::FrameBuilder b(std::span<const std::string>(d->ids));
    for (int j = 0; j < kMeasures; ++j) b.ViewFloat64(Col(j), d->cols[static_cast<size_t>(j)]);
    b.AddCategorical("segment", d->segments);
    d->frame = *std::move(b).Build();
    return d;
  }();
  return *data;
}

cscore::MeasureDef Ramp(int j, double weight, double lo, double hi) {
  cscore::MeasureDef m;
  m.name = m.metric = Col(j);
  m.kind = cscore::MeasureKind::kRamp;
  m.weight = weight;
  m.lo = lo;
  m.hi = hi;
  return m;
}

// 32 measures in 3 weighted-mean groups (11, 11, 10 measures) with uneven weights.
cscore::ScorecardDef Skeleton(std::vector<cscore::MeasureDef> measures) {
  cscore::ScorecardDef d;
  d.name = "bench";
  d.measures = std::move(measures);
  const char* names[kGroups] = {"adoption", "engagement", "support"};
  for (int g = 0; g < kGroups; ++g) {
    cscore::GroupDef grp;
    grp.name = names[g];
    grp.weight = 1.0 + g;
    for (int j = 0; j < kMeasures; ++j) {
      if (j % kGroups == g) grp.members.push_back(Col(j));
    }
    d.groups.push_back(grp);
    d.members.push_back(grp.name);
  }
  return d;
}

// Pure weighted sum: each measure's value is its 0-100 sub-score (an identity ramp).
cscore::ScorecardDef WeightedSumDef() {
  std::vector<cscore::MeasureDef> m;
  for (int j = 0; j < kMeasures; ++j) m.push_back(Ramp(j, 1.0 + j % 4, 0, 100));
  return Skeleton(std::move(m));
}

// Ramps, inverted ramps, 4 bands and 6 bands in turn; a minimum coverage of 50%.
cscore::ScorecardDef RampsBandsDef() {
  std::vector<cscore::MeasureDef> m;
  for (int j = 0; j < kMeasures; ++j) {
    cscore::MeasureDef d = Ramp(j, 1.0 + j % 5, 10 + j % 7, 80 + j % 11);
    switch (j % 4) {
      case 0:
        break;
      case 1:
        d.kind = cscore::MeasureKind::kInvertedRamp;
        break;
      case 2:
        d.kind = cscore::MeasureKind::kBands;
        d.bands = {{20, 0}, {45, 40}, {70, 75}, {cscore::Band().upper, 100}};
        break;
      case 3:
        d.kind = cscore::MeasureKind::kBands;
        d.bands = {{10, 100}, {25, 85}, {40, 65}, {60, 45}, {85, 20}, {cscore::Band().upper, 0}};
        break;
    }
    m.push_back(d);
  }
  cscore::ScorecardDef d = Skeleton(std::move(m));
  d.min_coverage = 0.5;
  return d;
}

// Compiled once and kept for the whole run.
const cscore::Scorecard& Card(const cscore::ScorecardDef& def) {
  return *new cscore::Scorecard(*cscore::Scorecard::Compile(def));
}

const cscore::Scorecard& WeightedSum() {
  static const cscore::Scorecard& c = Card(WeightedSumDef());
  return c;
}
const cscore::Scorecard& RampsBands() {
  static const cscore::Scorecard& c = Card(RampsBandsDef());
  return c;
}

// The baseline: every byte the scorecards read, summed column by column with independent
// accumulators so the loop vectorizes and is bound by memory, not by the add latency.
void BM_ReadBandwidth(benchmark::State& state) {
  const Data& d = GetData();
  for (auto _ : state) {
    double total = 0;
    for (const std::vector<double>& c : d.cols) {
      double acc[16] = {};
      const double* x = c.data();
      size_t i = 0;
      for (; i + 16 <= kRows; i += 16) {
        for (int k = 0; k < 16; ++k) acc[k] += x[i + static_cast<size_t>(k)];
      }
      for (; i < kRows; ++i) acc[0] += x[i];
      for (double a : acc) total += a;
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_ReadBandwidth)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// Steady state of a service scoring snapshot after snapshot: ScoreInto() reuses the result
// buffers. `fresh` calls Score() instead, which allocates (and page-faults in) 18 MB of
// results on every call.
void RunScore(benchmark::State& state, const cscore::Scorecard& card, cscore::ScoreDetail detail,
              int threads, bool fresh = false) {
  const Data& d = GetData();
  cscore::ScoreOptions o;
  o.detail = detail;
  o.threads = threads;
  cscore::ScoreBatch b;
  for (auto _ : state) {
    absl::Status st;
    if (fresh) {
      absl::StatusOr<cscore::ScoreBatch> r = card.Score(d.frame, nullptr, o);
      st = r.status();
      if (st.ok()) b = *std::move(r);
    } else {
      st = card.ScoreInto(d.frame, nullptr, o, &b);
    }
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(b.score.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.counters["na_share"] =
      static_cast<double>(std::count(b.range.begin(), b.range.end(), -1)) / kRows;
}

void BM_ScoreWeightedSum(benchmark::State& state) {
  RunScore(state, WeightedSum(), cscore::ScoreDetail::kScores, 1);
}
BENCHMARK(BM_ScoreWeightedSum)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ScoreWeightedSumFresh(benchmark::State& state) {
  RunScore(state, WeightedSum(), cscore::ScoreDetail::kScores, 1, /*fresh=*/true);
}
BENCHMARK(BM_ScoreWeightedSumFresh)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ScoreRampsBands(benchmark::State& state) {
  RunScore(state, RampsBands(), cscore::ScoreDetail::kScores, 1);
}
BENCHMARK(BM_ScoreRampsBands)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// With the accounts x measures sub-score matrix written out (another 256 MB).
void BM_ScoreRampsBandsSubScores(benchmark::State& state) {
  RunScore(state, RampsBands(), cscore::ScoreDetail::kSubScores, 1);
}
BENCHMARK(BM_ScoreRampsBandsSubScores)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ScoreThreads(benchmark::State& state) {
  RunScore(state, RampsBands(), cscore::ScoreDetail::kScores, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_ScoreThreads)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->UseRealTime();

// Account by account through the generic walk, over all the accounts.
void BM_ScoreRowAtATime(benchmark::State& state) {
  const Data& d = GetData();
  const cscore::Scorecard& card = RampsBands();
  for (auto _ : state) {
    double sum = 0;
    for (size_t i = 0; i < kRows; ++i) {
      absl::StatusOr<double> s = card.ScoreRow(d.frame, nullptr, i);
      if (!s.ok()) {
        state.SkipWithError(std::string(s.status().message()).c_str());
        return;
      }
      sum += std::isnan(*s) ? 0 : *s;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_ScoreRowAtATime)->Unit(benchmark::kMillisecond)->Iterations(2);

// One percentile measure over the 1M accounts, in the population or within 8 segments.
void RunPercentile(benchmark::State& state, bool within) {
  const Data& d = GetData();
  cscore::MeasureDef m;
  m.name = "pct";
  m.metric = Col(0);
  m.kind = cscore::MeasureKind::kPercentile;
  if (within) m.within = "segment";
  cscore::ScorecardBuilder b("percentile");
  b.AddMeasure(m);
  cscore::Scorecard card = *b.Build();
  cscore::ScoreOptions o;
  o.detail = cscore::ScoreDetail::kScores;
  cscore::ScoreBatch r;
  for (auto _ : state) {
    absl::Status st = card.ScoreInto(d.frame, nullptr, o, &r);
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(r.score.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
void BM_PercentilePopulation(benchmark::State& state) { RunPercentile(state, false); }
BENCHMARK(BM_PercentilePopulation)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);
void BM_PercentileWithinSegment(benchmark::State& state) { RunPercentile(state, true); }
BENCHMARK(BM_PercentileWithinSegment)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

// The baseline: a copy of the same column, sorted (missing values dropped, as the rank does).
void BM_StdSortColumn(benchmark::State& state) {
  const Data& d = GetData();
  std::vector<double> v;
  v.reserve(kRows);
  for (auto _ : state) {
    v.clear();
    for (double x : d.cols[0]) {
      if (!std::isnan(x)) v.push_back(x);
    }
    std::sort(v.begin(), v.end());
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_StdSortColumn)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
