// 1M accounts x 100 rules, evaluated to intents, against a plain read of the same columns
// (the floor any evaluator pays: every rule must at least look at its column once). The
// rules are column thresholds (BM_RulesToIntents, the headline: a fresh day, every match an
// open), the same with 1M CTAs already open (BM_RulesToIntentsSteady: every match a dedup
// hit), and the same conditions as CEL (BM_RulesToIntentsCel).
#include <benchmark/benchmark.h>

#include <random>

#include "absl/strings/str_format.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/risk/scorecard.h"
#include "cscore/rules/apply.h"
#include "cscore/rules/rules.h"

namespace cscore {
namespace {

constexpr int kColumns = 10;
constexpr int kRules = 100;
constexpr absl::CivilDay kDay(2026, 11, 23);

struct Book {
  std::vector<std::string> ids;
  std::vector<std::vector<double>> columns;
  AccountFrame frame;
};

const Book& GetBook(size_t n) {
  static Book* book = [n] {
    auto* b = new Book;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0, 100);
    b->ids.reserve(n);
    for (size_t i = 0; i < n; ++i) b->ids.push_back(StrCat("acct-", i));
    FrameBuilder fb(std::span<const std::string>(b->ids));
    b->columns.resize(kColumns);
    for (int c = 0; c < kColumns; ++c) {
      b->columns[c].resize(n);
      for (double& v : b->columns[c]) v = u(rng);
    }
    for (int c = 0; c < kColumns; ++c) fb.ViewFloat64(StrCat("m", c), b->columns[c]);
    b->frame = *std::move(fb).Build();
    return b;
  }();
  return *book;
}

// Typical rules: a threshold on one metric matching ~1% of accounts, opening (or updating)
// a risk CTA; every tenth also tags.
std::vector<RuleDef> TypicalRules() {
  std::vector<RuleDef> defs;
  for (int r = 0; r < kRules; ++r) {
    RuleDef d;
    d.name = StrCat("rule_", r);
    const bool low = r % 2 == 0;
    d.threshold = ThresholdDef{StrCat("m", r % kColumns),
                               "",
                               {},
                               30,
                               low ? Comparison::kLess : Comparison::kGreater,
                               low ? 1.0 - 0.001 * r : 99.0 + 0.001 * r};
    OpenCtaAction open;
    open.reason = StrCat("Reason ", r);
    open.domain = kAllRiskDomains[r % kNumRiskDomains];
    d.actions.push_back(open);
    if (r % 10 == 0) d.actions.push_back(TagAction{"watch"});
    defs.push_back(std::move(d));
  }
  return defs;
}

void BM_RulesToIntents(benchmark::State& state) {
  const Book& book = GetBook(static_cast<size_t>(state.range(0)));
  RuleContext ctx;
  ctx.schema = book.frame.schema();
  auto rules = RuleSet::Compile(TypicalRules(), nullptr, ctx);
  if (!rules.ok()) {
    state.SkipWithError(std::string(rules.status().message()).c_str());
    return;
  }
  auto store = CtaStore::Create({});
  CtaStoreLookup lookup(**store);
  RuleState rule_state;
  size_t intents = 0;
  for (auto _ : state) {
    auto run = rules->Evaluate({book.frame, nullptr, kDay}, lookup, rule_state);
    intents = run->intents.size();
    benchmark::DoNotOptimize(run->intents.data());
  }
  state.counters["intents"] = static_cast<double>(intents);
  state.SetItemsProcessed(state.iterations() * state.range(0) * kRules);
}
BENCHMARK(BM_RulesToIntents)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

// Steady state: yesterday's run opened every CTA the rules ask for (about 1M), so today each
// match is a dedup hit in a store of 1M open CTAs and becomes an update intent.
void BM_RulesToIntentsSteady(benchmark::State& state) {
  const Book& book = GetBook(static_cast<size_t>(state.range(0)));
  RuleContext ctx;
  ctx.schema = book.frame.schema();
  auto rules = RuleSet::Compile(TypicalRules(), nullptr, ctx);
  if (!rules.ok()) {
    state.SkipWithError(std::string(rules.status().message()).c_str());
    return;
  }
  auto store = CtaStore::Create({});
  CtaStoreLookup lookup(**store);
  RuleState rule_state;
  auto first = rules->Evaluate({book.frame, nullptr, kDay - 1}, lookup, rule_state);
  const ApplyReport applied = ApplyIntents(*rules, *first, kDay - 1, **store, rule_state);
  size_t intents = 0, updates = 0;
  for (auto _ : state) {
    auto run = rules->Evaluate({book.frame, nullptr, kDay}, lookup, rule_state);
    intents = run->intents.size();
    benchmark::DoNotOptimize(run->intents.data());
    state.PauseTiming();
    updates = 0;
    for (const Intent& in : run->intents) updates += in.kind == IntentKind::kUpdate;
    state.ResumeTiming();
  }
  state.counters["open_ctas"] = static_cast<double>(applied.opened);
  state.counters["intents"] = static_cast<double>(intents);
  state.counters["updates"] = static_cast<double>(updates);
  state.SetItemsProcessed(state.iterations() * state.range(0) * kRules);
}
BENCHMARK(BM_RulesToIntentsSteady)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same 100 rules written as CEL conditions ("m3 < 0.997"), compiled by the production
// PredicateCompiler and evaluated column-at-a-time.
std::vector<RuleDef> CelRules() {
  std::vector<RuleDef> defs = TypicalRules();
  for (RuleDef& d : defs) {
    d.when = StrCat(d.threshold->column, " ", ComparisonSymbol(d.threshold->compare), " ",
                    absl::StrFormat("%.3f", d.threshold->value));
    d.threshold.reset();
  }
  return defs;
}

void BM_RulesToIntentsCel(benchmark::State& state) {
  const Book& book = GetBook(static_cast<size_t>(state.range(0)));
  RuleContext ctx;
  ctx.schema = book.frame.schema();
  auto rules = RuleSet::Compile(CelRules(),
                                CelPredicateCompiler(cel::Environment::ForFrame(book.frame)), ctx);
  if (!rules.ok()) {
    state.SkipWithError(std::string(rules.status().message()).c_str());
    return;
  }
  auto store = CtaStore::Create({});
  CtaStoreLookup lookup(**store);
  RuleState rule_state;
  size_t intents = 0;
  for (auto _ : state) {
    auto run = rules->Evaluate({book.frame, nullptr, kDay}, lookup, rule_state);
    intents = run->intents.size();
    benchmark::DoNotOptimize(run->intents.data());
  }
  state.counters["intents"] = static_cast<double>(intents);
  state.SetItemsProcessed(state.iterations() * state.range(0) * kRules);
}
BENCHMARK(BM_RulesToIntentsCel)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: one pass over each rule's column (100 column reads of 1M doubles).
void BM_ReadRuleColumns(benchmark::State& state) {
  const Book& book = GetBook(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    double sum = 0;
    for (int r = 0; r < kRules; ++r) {
      for (double v : book.columns[r % kColumns]) sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * kRules);
}
BENCHMARK(BM_ReadRuleColumns)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

// The risk scorecard over the same book: 8 domains x 3 threshold signals.
void BM_RiskScorecard(benchmark::State& state) {
  const Book& book = GetBook(static_cast<size_t>(state.range(0)));
  RiskScorecardDef def;
  for (int d = 0; d < kNumRiskDomains; ++d) {
    RiskDomainDef dd{kAllRiskDomains[d], "", {}};
    for (int s = 0; s < 3; ++s) {
      dd.signals.push_back(
          {StrCat("s", s),
           s == 2 ? RiskStatus::kRed : RiskStatus::kYellow,
           "",
           ThresholdDef{StrCat("m", (d + s) % kColumns), "", {}, 30, Comparison::kLess, 5.0 + s},
           {}});
    }
    def.domains.push_back(std::move(dd));
  }
  auto card = RiskScorecard::Compile(def, nullptr, book.frame.schema(), {});
  for (auto _ : state) {
    auto batch = card->Evaluate({book.frame, nullptr, kDay}, {});
    benchmark::DoNotOptimize(batch->overall().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RiskScorecard)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace cscore

BENCHMARK_MAIN();
