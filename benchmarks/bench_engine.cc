// The daily run over 1M accounts x 32 metrics into the SQLite store, with where the time
// goes (ingest, store commit, report), against a baseline in the same run: writing the
// same bytes to a plain file.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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

struct Book {
  std::vector<std::string> ids;
  std::vector<std::vector<double>> metrics;
  AccountFrame frame;
};

// A CRM backend's own arrays, viewed by the frame without a copy.
const Book& TheBook() {
  static const Book* book = [] {
    auto* b = new Book;
    b->ids.reserve(kAccounts);
    for (size_t i = 0; i < kAccounts; ++i) b->ids.push_back(absl::StrFormat("acct-%07d", i));
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0, 100);
    b->metrics.resize(kMetrics);
    FrameBuilder fb(std::span<const std::string>(b->ids));
    for (size_t m = 0; m < kMetrics; ++m) {
      b->metrics[m].resize(kAccounts);
      for (double& v : b->metrics[m]) v = u(rng);
      fb.ViewFloat64(absl::StrFormat("metric_%02d", m), b->metrics[m]);
    }
    b->frame = *std::move(fb).Build();
    return b;
  }();
  return *book;
}

std::string ScratchPath(const char* name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// One first-day run on an empty store: registers 1M accounts and stores 32 metric columns.
void BM_DailyRun(benchmark::State& state) {
  const Book& book = TheBook();
  const std::string path = ScratchPath("cscore_bench_engine.db");
  double ingest = 0, store = 0, report = 0, open = 0;
  for (auto _ : state) {
    state.PauseTiming();
    RemoveDb(path);
    state.ResumeTiming();
    using Clock = std::chrono::steady_clock;
    Clock::time_point t0 = Clock::now(), last = t0;
    std::string last_step = "open";
    auto lap = [&](std::string_view step, double) {
      Clock::time_point now = Clock::now();
      double s = std::chrono::duration<double>(now - last).count();
      // Time up to the first "ingest" call is opening the store; between ingest 0 and
      // ingest 0.5 building the columns; up to "report" the ingest commit.
      if (last_step == "open")
        open += s;
      else if (last_step == "ingest-build")
        ingest += s;
      else if (last_step == "ingest-commit")
        store += s;
      else
        report += s;
      last = now;
      last_step = step == "ingest" ? (last_step == "open" ? "ingest-build" : "ingest-commit")
                                   : std::string(step);
    };
    auto s = SqliteStore::Open(path);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.status().message()).c_str());
      return;
    }
    Engine engine(**s, {.progress = lap});
    lap("ingest-open-done", 0);  // closes the "open" lap
    last_step = "open";
    auto r = engine.Run(book.frame, absl::CivilDay(2024, 3, 1));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    lap("end", 1);
    benchmark::DoNotOptimize(r->accounts);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["open_s"] = open / n;
  state.counters["ingest_s"] = ingest / n;
  state.counters["store_s"] = store / n;
  state.counters["report_s"] = report / n;
  state.SetItemsProcessed(state.iterations() * kAccounts);
  state.SetBytesProcessed(state.iterations() * kAccounts * kMetrics * sizeof(double));
  RemoveDb(path);
}
BENCHMARK(BM_DailyRun)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

// Baseline: the same metric bytes and ids written to a plain file.
void BM_PlainFileWrite(benchmark::State& state) {
  const Book& book = TheBook();
  const std::string path = ScratchPath("cscore_bench_engine.bin");
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string ids;
    for (const std::string& id : book.ids) ids.append(id).push_back('\n');
    benchmark::DoNotOptimize(::write(fd, ids.data(), ids.size()));
    for (const std::vector<double>& m : book.metrics) {
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
