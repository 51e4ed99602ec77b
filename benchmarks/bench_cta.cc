// CTA transitions and memory. Headline figures, each against a baseline from the same run:
//   BM_TableTransitions        table-driven FireBatch, no audit log (target >= 20M/s)
//   BM_TableTransitionsAudited the same with the audit append (second figure)
//   BM_NaiveTransitions        baseline: an object per CTA, a virtual state class per status,
//                              std::map<std::string, ...> lookups of statuses and events
//   BM_NaiveTransitionsAudited baseline with a log of string records
//   BM_Memory1MOpen            bytes of a store holding 1M open CTAs (target < 256 MB),
//                              against BM_NaiveMemory1MOpen (heap growth of the naive objects)
#include <malloc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "cscore/cta/store.h"

namespace cscore {
namespace {

constexpr int kCtas = 1'000'000;
const Actor kOwner{.id = "ann", .role = Role::kCsm};
const Actor kRules{.id = "rule:usage_drop", .role = Role::kSystem};
absl::Time Day(int d) { return absl::FromUnixSeconds(1'700'000'000) + absl::Hours(24 * d); }

std::unique_ptr<CtaStore> OpenStore(bool audit, int n) {
  CtaStoreOptions o;
  o.audit = audit;
  o.playbooks = {{"save", {{"call", absl::Hours(48), Role::kCsm}}}};
  std::unique_ptr<CtaStore> s = *CtaStore::Create(std::move(o));
  std::string account;
  for (int i = 0; i < n; ++i) {
    account = "acct-" + std::to_string(i);
    OpenCta c{.account = account,
              .reason = "usage drop",
              .domain = RiskDomain::kHabit,
              .owner = "ann",
              .due = Day(30),
              .playbook = "save"};
    if (!s->Open(c, kRules, Day(0)).ok()) std::abort();
  }
  return s;
}

std::vector<CtaId> AllIds(int n) {
  std::vector<CtaId> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = i;
  return ids;
}

// Alternates flag / unflag over every CTA: each row is a full table lookup, authorization,
// overlay update and (audited) log append.
void RunTable(benchmark::State& state, bool audit) {
  static std::unique_ptr<CtaStore> stores[2];
  std::unique_ptr<CtaStore>& s = stores[audit];
  if (!s) s = OpenStore(audit, kCtas);
  const std::vector<CtaId> ids = AllIds(kCtas);
  bool flag = true;
  for (auto _ : state) {
    BatchResult r = s->FireBatch(ids, flag ? "flag" : "unflag", kOwner, Day(1));
    if (r.applied != kCtas) state.SkipWithError("transition rejected");
    flag = !flag;
  }
  state.SetItemsProcessed(state.iterations() * kCtas);
}
void BM_TableTransitions(benchmark::State& state) { RunTable(state, false); }
void BM_TableTransitionsAudited(benchmark::State& state) { RunTable(state, true); }
BENCHMARK(BM_TableTransitions)->Unit(benchmark::kMillisecond)->Iterations(8);
BENCHMARK(BM_TableTransitionsAudited)->Unit(benchmark::kMillisecond)->Iterations(4);

// The object-per-CTA state pattern a first implementation would write.
struct NaiveCta {
  std::string account, owner, status, reason;
  bool flagged = false;
  int64_t flagged_at = 0;
  int64_t updated = 0;
};
struct NaiveAudit {
  std::string cta, actor, from, to, event;
  int64_t time;
};
class NaiveState {
 public:
  virtual ~NaiveState() = default;
  virtual bool Handle(const std::string& event, const std::string& actor, int64_t at,
                      NaiveCta& cta) const = 0;
};
class NaiveOpenState final : public NaiveState {
 public:
  NaiveOpenState() {
    allowed_["flag"] = {"owner", "admin"};
    allowed_["unflag"] = {"owner", "admin"};
    allowed_["start"] = {"owner", "admin"};
  }
  bool Handle(const std::string& event, const std::string& actor, int64_t at,
              NaiveCta& cta) const override {
    auto it = allowed_.find(event);
    if (it == allowed_.end()) return false;
    if (actor != cta.owner) return false;
    if (event == "flag") {
      cta.flagged = true;
      cta.flagged_at = at;
    } else if (event == "unflag") {
      cta.flagged = false;
    } else {
      cta.status = "work_in_progress";
    }
    cta.updated = at;
    return true;
  }

 private:
  std::map<std::string, std::vector<std::string>> allowed_;
};

struct NaiveStore {
  std::map<std::string, std::unique_ptr<NaiveState>> states;
  std::vector<std::unique_ptr<NaiveCta>> ctas;
  std::vector<NaiveAudit> log;
  NaiveStore() {
    states["new"] = std::make_unique<NaiveOpenState>();
    states["work_in_progress"] = std::make_unique<NaiveOpenState>();
  }
  void Open(int n) {
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<NaiveCta>();
      c->account = "acct-" + std::to_string(i);
      c->owner = "ann";
      c->status = "new";
      c->reason = "usage drop";
      ctas.push_back(std::move(c));
    }
  }
};

void RunNaive(benchmark::State& state, bool audit) {
  static std::unique_ptr<NaiveStore> stores[2];
  std::unique_ptr<NaiveStore>& s = stores[audit];
  if (!s) {
    s = std::make_unique<NaiveStore>();
    s->Open(kCtas);
  }
  const std::string owner = "ann";
  const int64_t at = absl::ToUnixMicros(Day(1));
  bool flag = true;
  for (auto _ : state) {
    const std::string event = flag ? "flag" : "unflag";
    int64_t applied = 0;
    for (auto& c : s->ctas) {
      const std::string from = c->status;
      if (s->states.at(c->status)->Handle(event, owner, at, *c)) {
        ++applied;
        if (audit) s->log.push_back({c->account, owner, from, c->status, event, at});
      }
    }
    if (applied != kCtas) state.SkipWithError("transition rejected");
    flag = !flag;
  }
  state.SetItemsProcessed(state.iterations() * kCtas);
}
void BM_NaiveTransitions(benchmark::State& state) { RunNaive(state, false); }
void BM_NaiveTransitionsAudited(benchmark::State& state) { RunNaive(state, true); }
BENCHMARK(BM_NaiveTransitions)->Unit(benchmark::kMillisecond)->Iterations(4);
BENCHMARK(BM_NaiveTransitionsAudited)->Unit(benchmark::kMillisecond)->Iterations(2);

size_t HeapInUse() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Store bytes as counted by the store itself, and the process heap growth as a cross-check.
void BM_Memory1MOpen(benchmark::State& state) {
  for (auto _ : state) {
    const size_t before = HeapInUse();
    std::unique_ptr<CtaStore> s = OpenStore(true, kCtas);
    state.counters["bytes"] = static_cast<double>(s->BytesUsed());
    state.counters["heap_bytes"] = static_cast<double>(HeapInUse() - before);
    state.counters["bytes_per_cta"] = static_cast<double>(s->BytesUsed()) / kCtas;
  }
}
BENCHMARK(BM_Memory1MOpen)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_NaiveMemory1MOpen(benchmark::State& state) {
  for (auto _ : state) {
    const size_t before = HeapInUse();
    NaiveStore s;
    s.Open(kCtas);
    state.counters["heap_bytes"] = static_cast<double>(HeapInUse() - before);
  }
}
BENCHMARK(BM_NaiveMemory1MOpen)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace cscore

BENCHMARK_MAIN();
