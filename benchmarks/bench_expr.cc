// CEL over 1M accounts: a simple predicate, an arithmetic score and 100 typical rules,
// column-at-a-time (Program::EvaluateFrame) against row-at-a-time
// (Program::EvaluateFrameRowwise) in the same run, the score also against muparser's bulk
// mode, and the compile time of a 100-rule file. Every figure is one core (threads = 1).
//
//   build/release/benchmarks/bench_expr --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cscore/expr/cel.h"
#include "yaml-cpp/yaml.h"

#ifdef CSCORE_HAVE_MUPARSER
#include <omp.h>

#include "muParser.h"
#endif

namespace {

using cscore::AccountFrame;
using cscore::MetricHistory;
namespace cel = cscore::cel;

constexpr size_t kAccounts = 1'000'000;
constexpr int kHistoryDays = 14;
const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

struct Book {
  AccountFrame frame;
  MetricHistory history{kAccounts, kHistoryDays};
  std::vector<double> a, b, c, d;  // the score's inputs, also handed to muparser
};

// A synthetic book of business: usage, sentiment, support, commercial and lifecycle
// columns with a few missing values, plus 14 days of login history.
const Book& GetBook() {
  static const Book* book = [] {
    auto* bk = new Book;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    std::vector<std::string> ids(kAccounts);
    for (size_t i = 0; i < kAccounts; ++i) ids[i] = absl::StrFormat("A-%07d", i);
    cscore::FrameBuilder fb(ids);
    auto doubles = [&](double lo, double hi, double missing) {
      std::vector<double> v(kAccounts);
      for (auto& x : v) x = u01(rng) < missing ? std::nan("") : lo + (hi - lo) * u01(rng);
      return v;
    };
    auto ints = [&](int lo, int hi) {
      std::vector<int64_t> v(kAccounts);
      for (auto& x : v) x = lo + static_cast<int64_t>(rng() % (hi - lo + 1));
      return v;
    };
    auto cats = [&](std::vector<std::string> values) {
      std::vector<std::string> v(kAccounts);
      for (auto& x : v) x = values[rng() % values.size()];
      return v;
    };
    fb.AddFloat64("logins_30d", doubles(0, 40, 0.005));
    fb.AddCategorical("segment", cats({"SMB", "MM", "ENT", "Strategic", "tech-touch"}));
    bk->a = doubles(0, 100, 0);
    bk->b = doubles(0, 100, 0);
    bk->c = doubles(0, 10, 0);
    bk->d = doubles(0, 100, 0);
    fb.AddFloat64("a", bk->a).AddFloat64("b", bk->b).AddFloat64("c", bk->c);
    fb.AddFloat64("d", bk->d);
    fb.AddFloat64("nps", doubles(-100, 100, 0.05));
    fb.AddFloat64("csat", doubles(1, 5, 0.05));
    fb.AddInt64("open_tickets", ints(0, 30));
    fb.AddInt64("sev1", ints(0, 2));
    fb.AddInt64("employees", ints(5, 20000));
    fb.AddFloat64("seats_purchased", doubles(5, 500, 0));
    fb.AddFloat64("seats_used", doubles(0, 520, 0.01));
    fb.AddFloat64("arr", doubles(1000, 500000, 0));
    fb.AddFloat64("health", doubles(0, 100, 0.02));
    fb.AddFloat64("onboarding_days_late", doubles(0, 40, 0));
    fb.AddCategorical("region", cats({"NA", "EMEA", "APAC", "LATAM"}));
    fb.AddCategorical("tier", cats({"gold", "silver", "bronze"}));
    std::vector<uint8_t> champion(kAccounts);
    for (auto& x : champion) x = u01(rng) < 0.03;
    fb.AddBool("champion_left", std::move(champion));
    int64_t now = absl::ToUnixSeconds(kNow);
    std::vector<int64_t> renewal(kAccounts), last_login(kAccounts);
    for (size_t i = 0; i < kAccounts; ++i) {
      renewal[i] = now + static_cast<int64_t>(rng() % (400 * 86400)) - 30 * 86400;
      last_login[i] = now - static_cast<int64_t>(rng() % (90 * 86400));
    }
    fb.AddTimestamp("renewal_date", std::move(renewal));
    fb.AddTimestamp("last_login", std::move(last_login));
    bk->frame = *std::move(fb).Build();
    Eigen::MatrixXd logins(kAccounts, kHistoryDays);
    for (Eigen::Index i = 0; i < logins.rows(); ++i) {
      double base = 20 * u01(rng), slope = 2 * u01(rng) - 1;
      for (int day = 0; day < kHistoryDays; ++day) {
        logins(i, day) = u01(rng) < 0.01 ? std::nan("") : std::max(0.0, base + slope * day);
      }
    }
    if (!bk->history.AddMetric("logins", std::move(logins)).ok()) std::abort();
    return bk;
  }();
  return *book;
}

const char* kSimple = "logins_30d < 10.0 && segment == 'SMB'";
const char* kScore = "0.4 * a + 0.3 * b / (c + 1.0) - 0.3 * d";

// 100 rules in the shapes a CS team writes: thresholds, segment filters, renewal windows,
// seat utilisation, history trends, small point systems. Twenty shapes, five variants each.
std::vector<std::string> Rules() {
  const char* segs[] = {"SMB", "MM", "ENT", "Strategic", "tech-touch"};
  const char* tiers[] = {"gold", "silver", "bronze", "gold", "silver"};
  const char* regions[] = {"NA", "EMEA", "APAC", "LATAM", "EMEA"};
  std::vector<std::string> r;
  for (int v = 0; v < 5; ++v) {
    const char* s = segs[v];
    r.push_back(absl::StrFormat("logins_30d < %d.0 && segment == '%s'", 5 + 3 * v, s));
    r.push_back(absl::StrFormat("nps < %d.0", -20 + 10 * v));
    r.push_back(absl::StrFormat("open_tickets >= %d", 8 + 2 * v));
    r.push_back(absl::StrFormat("health < %d.0 && tier == '%s'", 40 + 5 * v, tiers[v]));
    r.push_back(absl::StrFormat("days_until(renewal_date) <= %d && days_until(renewal_date) > %d",
                                120 - 10 * v, 90 - 10 * v));
    r.push_back(absl::StrFormat("seats_used > 0.%d * seats_purchased", 9 - v % 3));
    r.push_back(absl::StrFormat("champion_left && segment in ['ENT', '%s']", s));
    r.push_back(absl::StrFormat("avg(logins, %d) < %d.0", 3 + 2 * v, 4 + v));
    r.push_back(absl::StrFormat("pct_change(logins, %d) < -%d.0 && segment != 'tech-touch'",
                                3 + 2 * v, 20 + 5 * v));
    r.push_back(absl::StrFormat("csat < %d.5 || nps < %d.0", 2 + v % 2, -10 * v));
    r.push_back(absl::StrFormat("arr > %d.0 && health < 50.0", 100000 + 50000 * v));
    r.push_back(
        absl::StrFormat("region == '%s' && open_tickets > %d && sev1 > 0", regions[v], 3 + v));
    r.push_back(absl::StrFormat("days_since(last_login) > %d", 14 + 7 * v));
    r.push_back(absl::StrFormat("onboarding_days_late > %d.0 && tier != 'bronze'", 10 + 2 * v));
    r.push_back(absl::StrFormat("employees > %d && seats_purchased < 50.0", 1000 * (v + 1)));
    r.push_back(absl::StrFormat("trend(logins, %d) < 0.0 && health < %d.0", 7 + v, 60 + 5 * v));
    r.push_back(absl::StrFormat(
        "(nps < 30.0 ? 1 : 0) + (csat < 3.5 ? 1 : 0) + (open_tickets > %d ? 1 : 0) >= 2", 10 + v));
    r.push_back(absl::StrFormat("segment.startsWith('%c') && logins_30d < %d.0", s[0], 1 + v));
    r.push_back(absl::StrFormat(
        "!champion_left && health > %d.0 && seats_used / seats_purchased > 0.95", 70 + 2 * v));
    r.push_back(absl::StrFormat("double(open_tickets) / (seats_purchased + 1.0) > 0.%d", 1 + v));
  }
  return r;
}

// The same 100 rules as a rules file (YAML), for the compile-time baseline.
std::string RulesYaml() {
  std::string y = "rules:\n";
  int i = 0;
  for (const std::string& r : Rules()) {
    y += absl::StrFormat("  - name: rule_%d\n    when: \"%s\"\n    actions:\n", i++, r);
    y += "      - open_cta: {type: Risk, reason: Rule fired, priority: high, due_in_days: 7}\n";
  }
  return y;
}

cel::Program MustCompile(const std::string& src, const cel::Environment& env) {
  auto p = cel::Compile(src, env);
  if (!p.ok()) {
    std::fprintf(stderr, "%s: %s\n", src.c_str(), std::string(p.status().message()).c_str());
    std::abort();
  }
  return *std::move(p);
}

cel::Environment BookEnv() {
  return cel::Environment::ForFrame(GetBook().frame, &GetBook().history);
}

void RunOne(benchmark::State& state, const char* src, bool vector) {
  const Book& bk = GetBook();
  cel::Program p = MustCompile(src, BookEnv());
  if (vector && !p.vectorized()) state.SkipWithError("expected a vectorized program");
  cel::EvalContext ctx{.now = kNow};
  for (auto _ : state) {
    auto r = vector ? p.EvaluateFrame(bk.frame, &bk.history, ctx)
                    : p.EvaluateFrameRowwise(bk.frame, &bk.history, ctx);
    if (!r.ok()) state.SkipWithError("evaluation failed");
    benchmark::DoNotOptimize(r->status.data());
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
}

void BM_SimplePredicate(benchmark::State& state) { RunOne(state, kSimple, state.range(0) == 1); }
BENCHMARK(BM_SimplePredicate)->ArgName("vector")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_ArithmeticScore(benchmark::State& state) { RunOne(state, kScore, state.range(0) == 1); }
BENCHMARK(BM_ArithmeticScore)->ArgName("vector")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// The batch size (rows per vector batch) against speed: a sweep, not a headline.
void BM_BatchSize(benchmark::State& state) {
  const Book& bk = GetBook();
  cel::Program p = MustCompile(state.range(0) == 0 ? kSimple : kScore, BookEnv());
  cel::FrameOptions opt{.threads = 1, .batch_size = static_cast<size_t>(state.range(1))};
  for (auto _ : state) {
    auto r = p.EvaluateFrame(bk.frame, nullptr, {}, opt);
    benchmark::DoNotOptimize(r->status.data());
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
}
BENCHMARK(BM_BatchSize)
    ->ArgNames({"score", "batch"})
    ->ArgsProduct({{0, 1}, {256, 1024, 4096, 16384}})
    ->Unit(benchmark::kMillisecond);

// The simple predicate on two threads, to show the frame split (not a headline).
void BM_SimplePredicateTwoThreads(benchmark::State& state) {
  const Book& bk = GetBook();
  cel::Program p = MustCompile(kSimple, BookEnv());
  for (auto _ : state) {
    auto r = p.EvaluateFrame(bk.frame, nullptr, {}, {.threads = 2});
    benchmark::DoNotOptimize(r->status.data());
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
}
BENCHMARK(BM_SimplePredicateTwoThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef CSCORE_HAVE_MUPARSER
// muparser's bulk mode: variables are arrays, one result per index; one OpenMP thread.
void BM_ArithmeticScoreMuparser(benchmark::State& state) {
  const Book& bk = GetBook();
  omp_set_num_threads(1);
  std::vector<double> out(kAccounts);
  try {
    mu::Parser parser;
    parser.DefineVar("a", const_cast<double*>(bk.a.data()));
    parser.DefineVar("b", const_cast<double*>(bk.b.data()));
    parser.DefineVar("c", const_cast<double*>(bk.c.data()));
    parser.DefineVar("d", const_cast<double*>(bk.d.data()));
    parser.SetExpr(kScore);
    for (auto _ : state) {
      parser.Eval(out.data(), static_cast<int>(kAccounts));
      benchmark::DoNotOptimize(out.data());
    }
  } catch (const mu::Parser::exception_type& e) {
    state.SkipWithError(e.GetMsg().c_str());
    return;
  }
  // Same values as CEL's (a spot check, outside the timed loop).
  cel::Program p = MustCompile(kScore, BookEnv());
  auto col = p.EvaluateFrame(bk.frame, nullptr, {});
  for (size_t i = 0; i < kAccounts; i += 9973) {
    if (std::abs(col->f64[i] - out[i]) > 1e-9 * (1 + std::abs(out[i]))) {
      state.SkipWithError("muparser and CEL disagree");
    }
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
}
BENCHMARK(BM_ArithmeticScoreMuparser)->Unit(benchmark::kMillisecond);
#endif

// 100 rules, each over every account: items are rule evaluations (100 per account).
void BM_Rules100(benchmark::State& state) {
  const Book& bk = GetBook();
  const bool vector = state.range(0) == 1;
  cel::Environment env = BookEnv();
  std::vector<cel::Program> programs;
  int vectorized = 0;
  for (const std::string& r : Rules()) {
    programs.push_back(MustCompile(r, env));
    vectorized += programs.back().vectorized();
  }
  cel::EvalContext ctx{.now = kNow};
  int64_t fired = 0;
  for (auto _ : state) {
    for (const cel::Program& p : programs) {
      auto r = vector ? p.EvaluateFrame(bk.frame, &bk.history, ctx)
                      : p.EvaluateFrameRowwise(bk.frame, &bk.history, ctx);
      if (!r.ok()) state.SkipWithError("evaluation failed");
      for (size_t i = 0; i < kAccounts; i += 4099) fired += r->IsTrue(i);
    }
  }
  benchmark::DoNotOptimize(fired);
  state.counters["vectorized_rules"] = vectorized;
  state.SetItemsProcessed(state.iterations() * kAccounts * programs.size());
}
BENCHMARK(BM_Rules100)->ArgName("vector")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Rules100)->ArgName("vector")->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond);

// Compiling (parse, check, plan) the 100 rules of a rules file.
void BM_Compile100Rules(benchmark::State& state) {
  cel::Environment env = BookEnv();
  std::vector<std::string> rules = Rules();
  for (auto _ : state) {
    for (const std::string& r : rules) {
      auto p = cel::Compile(r, env);
      benchmark::DoNotOptimize(p);
    }
  }
  state.SetItemsProcessed(state.iterations() * rules.size());
}
BENCHMARK(BM_Compile100Rules)->Unit(benchmark::kMillisecond);

// Baseline for the compile time: parsing the same 100 rules as YAML (yaml-cpp), which a
// rules file costs before any expression is compiled.
void BM_Yaml100Rules(benchmark::State& state) {
  std::string text = RulesYaml();
  for (auto _ : state) {
    YAML::Node n = YAML::Load(text);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Yaml100Rules)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
