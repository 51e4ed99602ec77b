// The full daily run over 1M accounts x 32 metrics x 100 rules into the SQLite store, on a
// store that already holds the previous day (the steady state a CRM backend runs every
// night: history to read, CTAs to replay and dedup), with where the time goes as counters:
//   restore_s   prepare (compile against the snapshot) + state restore (registry, CTA log
//               replay, re-entry, escalations, sponsors)
//   ingest_s health_s risk_s rules_s timed_s escalation_s report_s   each step, its commit
//               included
//   store_read_s / store_write_s   of those, the time spent inside Store calls
//   scoring_s = health_s + risk_s, compute_s = total - store_read_s - store_write_s
// Workload: 8-measure scorecard (one windowed trend), 8 domains x 3 risk thresholds, 100
// threshold rules each matching `permille` / 1000 of the accounts and opening (or, while the
// condition holds, updating) a risk CTA owned by the account's CSM. Day 2 redraws 5% of the
// accounts, so most matches persist (dedup updates) and some are new.
// Baseline in the same run: writing the day's metric bytes and ids to a plain file.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "cscore/engine/engine.h"
#include "cscore/store/sqlite_store.h"

namespace cscore {
namespace {

constexpr size_t kAccounts = 1'000'000;
constexpr size_t kMetrics = 32;
constexpr int kRules = 100;
constexpr int kCsms = 200;
const absl::CivilDay kDay1(2024, 3, 4);

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// CPU seconds of this process (the run is single-threaded): unlike the wall clock, not
// inflated when other work shares the machine.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Book {
  std::vector<std::string> ids;
  std::vector<std::string> csm_names;
  std::vector<int32_t> csm;
  std::vector<double> arr;
  std::vector<std::vector<double>> day1, day2;  // [metric][account]
};

const Book& TheBook() {
  static const Book* book = [] {
    auto* b = new Book;
    b->ids.reserve(kAccounts);
    for (size_t i = 0; i < kAccounts; ++i) b->ids.push_back(absl::StrFormat("acct-%07d", i));
    for (int c = 0; c < kCsms; ++c) b->csm_names.push_back(absl::StrFormat("csm-%03d", c));
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0, 100);
    b->csm.resize(kAccounts);
    b->arr.resize(kAccounts);
    for (size_t i = 0; i < kAccounts; ++i) {
      b->csm[i] = static_cast<int32_t>(i % kCsms);
      b->arr[i] = 1000 * u(rng);
    }
    std::vector<uint8_t> redraw(kAccounts);
    for (uint8_t& r : redraw) r = u(rng) < 5;
    b->day1.resize(kMetrics);
    b->day2.resize(kMetrics);
    for (size_t m = 0; m < kMetrics; ++m) {
      b->day1[m].resize(kAccounts);
      b->day2[m].resize(kAccounts);
      for (size_t i = 0; i < kAccounts; ++i) {
        b->day1[m][i] = u(rng);
        b->day2[m][i] = redraw[i] ? u(rng) : b->day1[m][i];
      }
    }
    return b;
  }();
  return *book;
}

// A CRM backend's own arrays, viewed by the frame without a copy.
AccountFrame FrameOf(const Book& b, const std::vector<std::vector<double>>& metrics) {
  FrameBuilder fb(std::span<const std::string>(b.ids));
  for (size_t m = 0; m < kMetrics; ++m)
    fb.ViewFloat64(absl::StrFormat("metric_%02d", m), metrics[m]);
  fb.ViewFloat64("arr", b.arr);
  fb.ViewCategorical("csm", b.csm, b.csm_names);
  return *std::move(fb).Build();
}

EngineOptions Options(int permille) {
  EngineOptions o;
  ScorecardSetDef set;
  ScorecardChoice choice;
  choice.is_default = true;
  choice.def.name = "default";
  for (int m = 0; m < 8; ++m) {
    MeasureDef md;
    md.name = absl::StrFormat("m%d", m);
    md.metric = absl::StrFormat("metric_%02d", m);
    md.kind = MeasureKind::kRamp;
    md.lo = 0;
    md.hi = 100;
    md.weight = 1 + m % 3;
    choice.def.measures.push_back(md);
  }
  MeasureDef trend;
  trend.name = "trend";
  trend.metric = "metric_00";
  trend.window = WindowSource{WindowOp::kTrend, 7};
  trend.kind = MeasureKind::kRamp;
  trend.lo = -10;
  trend.hi = 10;
  choice.def.measures.push_back(trend);
  for (const MeasureDef& m : choice.def.measures) choice.def.members.push_back(m.name);
  set.scorecards.push_back(choice);
  o.scorecards = std::make_shared<const ScorecardSet>(*ScorecardSet::Compile(set));

  RiskScorecardDef risk;
  for (int d = 0; d < kNumRiskDomains; ++d) {
    RiskDomainDef dd{kAllRiskDomains[d], "", {}};
    for (int s = 0; s < 3; ++s) {
      dd.signals.push_back({absl::StrFormat("s%d", s),
                            s == 2 ? RiskStatus::kRed : RiskStatus::kYellow,
                            "",
                            ThresholdDef{absl::StrFormat("metric_%02d", (d * 3 + s) % kMetrics),
                                         "",
                                         {},
                                         30,
                                         Comparison::kLess,
                                         1.0 + s},
                            {}});
    }
    risk.domains.push_back(std::move(dd));
  }
  o.risk = std::move(risk);

  std::vector<RuleDef> rules;
  const double p = permille / 10.0;  // percent of the accounts each rule matches
  for (int r = 0; r < kRules; ++r) {
    RuleDef d;
    d.name = absl::StrFormat("rule_%03d", r);
    const bool low = r % 2 == 0;
    d.threshold = ThresholdDef{absl::StrFormat("metric_%02d", r % kMetrics),
                               "",
                               {},
                               30,
                               low ? Comparison::kLess : Comparison::kGreater,
                               low ? p : 100 - p};
    OpenCtaAction open;
    open.reason = absl::StrFormat("Reason %d", r);
    open.domain = kAllRiskDomains[r % kNumRiskDomains];
    open.owner_role = "csm";
    open.due_in_days = 7;
    d.actions.push_back(open);
    if (r % 10 == 0) d.actions.push_back(TagAction{"watch"});
    rules.push_back(std::move(d));
  }
  o.rules = std::move(rules);
  return o;
}

std::string ScratchPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Times every Store call, split into reads and writes.
class TimingStore final : public Store {
 public:
  explicit TimingStore(Store& inner) : s_(inner) {}
  double read_s = 0, write_s = 0;
  int64_t audit_rows = 0;

  template <typename F>
  auto Read(F f) const {
    Clock::time_point t = Clock::now();
    auto r = f();
    const_cast<TimingStore*>(this)->read_s += Since(t);
    return r;
  }
  absl::Status Commit(const StepWrite& w) override {
    Clock::time_point t = Clock::now();
    absl::Status s = s_.Commit(w);
    write_s += Since(t);
    audit_rows += static_cast<int64_t>(w.audit.size());
    return s;
  }
  absl::StatusOr<bool> IsCommitted(absl::CivilDay d, std::string_view st) const override {
    return Read([&] { return s_.IsCommitted(d, st); });
  }
  absl::StatusOr<std::optional<std::string>> LoadStepSummary(absl::CivilDay d,
                                                             std::string_view st) const override {
    return Read([&] { return s_.LoadStepSummary(d, st); });
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastCompletedDay() const override {
    return Read([&] { return s_.LastCompletedDay(); });
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastStartedDay() const override {
    return Read([&] { return s_.LastStartedDay(); });
  }
  absl::StatusOr<std::optional<std::string>> LoadReport(absl::CivilDay d) const override {
    return Read([&] { return s_.LoadReport(d); });
  }
  absl::StatusOr<std::vector<std::string>> Accounts() const override {
    return Read([&] { return s_.Accounts(); });
  }
  absl::StatusOr<std::vector<double>> LoadSeries(std::string_view n,
                                                 absl::CivilDay d) const override {
    return Read([&] { return s_.LoadSeries(n, d); });
  }
  absl::StatusOr<std::vector<absl::CivilDay>> SeriesDays(std::string_view n, absl::CivilDay f,
                                                         absl::CivilDay t) const override {
    return Read([&] { return s_.SeriesDays(n, f, t); });
  }
  absl::StatusOr<std::vector<std::string>> SeriesNames(absl::CivilDay d) const override {
    return Read([&] { return s_.SeriesNames(d); });
  }
  absl::StatusOr<std::vector<AuditRow>> LoadAudit(int64_t after) const override {
    return Read([&] { return s_.LoadAudit(after); });
  }
  absl::StatusOr<std::vector<EscalationRow>> LoadEscalations() const override {
    return Read([&] { return s_.LoadEscalations(); });
  }
  absl::StatusOr<std::vector<SponsorRow>> LoadSponsors() const override {
    return Read([&] { return s_.LoadSponsors(); });
  }
  absl::StatusOr<std::vector<ReentryRow>> LoadReentry() const override {
    return Read([&] { return s_.LoadReentry(); });
  }

 private:
  Store& s_;
};

// The previous day, run once per workload into a store file the iterations copy.
const std::string& DayOneStore(int permille) {
  static std::map<int, std::string>* made = new std::map<int, std::string>;
  auto it = made->find(permille);
  if (it != made->end()) return it->second;
  const std::string path = ScratchPath(absl::StrFormat("cscore_bench_engine_day1_%d.db", permille));
  RemoveDb(path);
  auto store = SqliteStore::Open(path);
  Engine engine(**store, Options(permille));
  const Book& b = TheBook();
  auto r = engine.Run(FrameOf(b, b.day1), kDay1);
  if (!r.ok()) {
    std::fprintf(stderr, "day 1: %s\n", std::string(r.status().message()).c_str());
    std::abort();
  }
  store->reset();
  return made->emplace(permille, path).first->second;
}

void CopyDb(const std::string& from, const std::string& to) {
  RemoveDb(to);
  for (const char* suffix : {"", "-wal"}) {
    if (std::filesystem::exists(from + suffix))
      std::filesystem::copy_file(from + suffix, to + suffix);
  }
}

void BM_DailyRun(benchmark::State& state) {
  const int permille = static_cast<int>(state.range(0));
  const Book& book = TheBook();
  const std::string base = DayOneStore(permille);
  const std::string path = ScratchPath("cscore_bench_engine.db");
  const EngineOptions options = Options(permille);
  const AccountFrame frame = FrameOf(book, book.day2);
  std::map<std::string, double> laps, cpu_laps;
  double read_s = 0, write_s = 0;
  int64_t audit_rows = 0, intents = 0, opened = 0, updated = 0;
  for (auto _ : state) {
    state.PauseTiming();
    CopyDb(base, path);
    state.ResumeTiming();
    Clock::time_point last = Clock::now();
    double last_cpu = CpuNow();
    std::string step = "restore";
    EngineOptions o = options;
    o.progress = [&](std::string_view s, double) {
      if (s == step) return;  // a step's second progress call
      laps[step] += Since(last);
      cpu_laps[step] += CpuNow() - last_cpu;
      last = Clock::now();
      last_cpu = CpuNow();
      step = std::string(s);
    };
    auto sqlite = SqliteStore::Open(path);
    if (!sqlite.ok()) {
      state.SkipWithError(std::string(sqlite.status().message()).c_str());
      return;
    }
    TimingStore store(**sqlite);
    Engine engine(store, o);
    auto r = engine.Run(frame, kDay1 + 1);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    laps[step] += Since(last);
    cpu_laps[step] += CpuNow() - last_cpu;
    read_s += store.read_s;
    write_s += store.write_s;
    audit_rows = store.audit_rows;
    intents = r->rules.intents;
    opened = r->ctas.opened;
    updated = r->ctas.updated;
    benchmark::DoNotOptimize(r->accounts);
    state.PauseTiming();
    sqlite->reset();
    state.ResumeTiming();
  }
  const double n = static_cast<double>(state.iterations());
  double total = 0;
  for (const auto& [name, s] : laps) {
    state.counters[name + "_s"] = s / n;
    total += s;
  }
  double cpu_total = 0;
  for (const auto& [name, s] : cpu_laps) cpu_total += s;
  state.counters["cpu_s"] = cpu_total / n;
  state.counters["cpu_scoring_s"] = (cpu_laps["health"] + cpu_laps["risk"]) / n;
  state.counters["cpu_rules_s"] = cpu_laps["rules"] / n;
  state.counters["cpu_ingest_s"] = cpu_laps["ingest"] / n;
  state.counters["cpu_restore_s"] = cpu_laps["restore"] / n;
  state.counters["scoring_s"] = (laps["health"] + laps["risk"]) / n;
  state.counters["store_read_s"] = read_s / n;
  state.counters["store_write_s"] = write_s / n;
  state.counters["compute_s"] = (total - read_s - write_s) / n;
  state.counters["intents"] = static_cast<double>(intents);
  state.counters["audit_rows"] = static_cast<double>(audit_rows);
  state.counters["ctas_opened"] = static_cast<double>(opened);
  state.counters["ctas_updated"] = static_cast<double>(updated);
  state.SetItemsProcessed(state.iterations() * kAccounts);
  RemoveDb(path);
}
// 1 per mille per rule (100 rules: ~10% of the accounts matched): the headline workload.
// 10 per mille (every account matched about once a day): the heavy end.
BENCHMARK(BM_DailyRun)
    ->Arg(1)
    ->Arg(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

// Baseline: the same metric bytes and ids written to a plain file.
void BM_PlainFileWrite(benchmark::State& state) {
  const Book& book = TheBook();
  const std::string path = ScratchPath("cscore_bench_engine.bin");
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string ids;
    for (const std::string& id : book.ids) ids.append(id).push_back('\n');
    benchmark::DoNotOptimize(::write(fd, ids.data(), ids.size()));
    for (const std::vector<double>& m : book.day2) {
      benchmark::DoNotOptimize(::write(fd, m.data(), m.size() * sizeof(double)));
    }
    ::close(fd);
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
  state.SetBytesProcessed(state.iterations() * kAccounts * kMetrics * sizeof(double));
  std::filesystem::remove(path);
}
BENCHMARK(BM_PlainFileWrite)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
}  // namespace cscore

BENCHMARK_MAIN();
