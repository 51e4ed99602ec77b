// Escalation routing, authorization and sponsor assignment on a 10,000-person organisation.
// Baselines measured in the same run: a walk up the manager chain through hash-map lookups
// (routing and IsAbove) and a greedy sponsor assignment.
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "benchmark/benchmark.h"
#include "cscore/escalation/policy.h"
#include "cscore/escalation/sponsors.h"

namespace {

using namespace cscore;

constexpr int kPeople = 10000;

// CEO, 10 VPs, 100 directors, 1,000 team leads, the rest CSMs (about 9 per lead).
OrganisationDef MakeOrg() {
  OrganisationDef def;
  std::mt19937 rng(1);
  auto add = [&](int i, const char* role, int manager) {
    PersonDef p;
    p.id = "p" + std::to_string(i);
    p.role = role;
    if (manager >= 0) p.manager = "p" + std::to_string(manager);
    p.teams = {i % 7 == 0 ? "support" : "cs"};
    def.people.push_back(std::move(p));
  };
  add(0, "ceo", -1);
  for (int i = 1; i <= 10; ++i) add(i, "vp_cs", 0);
  for (int i = 11; i <= 110; ++i) add(i, "director", 1 + (i - 11) % 10);
  for (int i = 111; i <= 1110; ++i) add(i, "team_lead", 11 + (i - 111) % 100);
  for (int i = 1111; i < kPeople; ++i) add(i, "csm", 111 + static_cast<int>(rng() % 1000));
  def.teams = {{"cs", "", {}, absl::Weekday::tuesday, {}},
               {"support", "", {}, absl::Weekday::wednesday, {}}};
  for (std::string_view d : kRiskDomains) {
    def.domain_owners.push_back({std::string(d), {d == "support" ? "support" : "cs"}, {}});
  }
  return def;
}

PolicyDef MakePolicy() {
  PolicyDef p;
  p.id = "flagged";
  p.levels = {{{{TargetDef::Kind::kOwnerManager, "", {}}, {TargetDef::Kind::kDomainOwner, "", {}}},
               absl::Hours(48),
               {},
               {}},
              {{{TargetDef::Kind::kRole, "vp_cs", {}}},
               absl::Hours(72),
               {{"renewal_at_risk", "adoption_red", "edm_left"}, 0, {}},
               {}},
              {{{TargetDef::Kind::kPerson, "p0", {}}}, absl::InfiniteDuration(), {}, {}}};
  p.levels[2].when.min_arr = 500000;
  return p;
}

struct World {
  Escalator esc;
  std::vector<CtaEscalationInput> ctas;
  std::vector<std::pair<std::string, std::string>> pairs;  // (actor, owner) ids
  std::vector<std::pair<PersonId, PersonId>> pair_ids;
  std::unordered_map<std::string, std::string> manager_of;  // the naive baseline's data
  std::unordered_map<std::string, std::string> role_of;
};

const World& GetWorld() {
  static const World* world = [] {
    OrganisationDef def = MakeOrg();
    auto org = Organisation::Build(def);
    auto esc = Escalator::Build(*std::move(org), {MakePolicy()});
    if (!esc.ok()) std::abort();
    auto* w = new World{*std::move(esc), {}, {}, {}, {}, {}};
    for (const PersonDef& p : def.people) {
      w->manager_of[p.id] = p.manager;
      w->role_of[p.id] = p.role;
    }
    std::mt19937 rng(2);
    const absl::Time t0 = absl::FromUnixSeconds(1709542800);
    for (int i = 0; i < 4096; ++i) {
      CtaEscalationInput c;
      c.id = i;
      c.account_id = "a" + std::to_string(i);
      c.owner = "p" + std::to_string(1111 + rng() % (kPeople - 1111));
      c.domain = std::string(kRiskDomains[rng() % kRiskDomains.size()]);
      c.arr = static_cast<double>(rng() % 1000000);
      c.tier = "enterprise";
      c.renewal_at_risk = rng() % 3 == 0;
      c.raised_at = t0 - absl::Hours(rng() % 200);
      w->ctas.push_back(std::move(c));
      const int a = static_cast<int>(rng() % kPeople), b = static_cast<int>(rng() % kPeople);
      w->pairs.push_back({"p" + std::to_string(a), "p" + std::to_string(b)});
      w->pair_ids.push_back({a, b});
    }
    return w;
  }();
  return *world;
}

const absl::Time kNow = absl::FromUnixSeconds(1709542800);

// The routing query: the CTA's chain and who is accountable now.
void BM_RouteChainAndAccountable(benchmark::State& state) {
  const World& w = GetWorld();
  size_t i = 0;
  for (auto _ : state) {
    const CtaEscalationInput& c = w.ctas[i++ & 4095];
    auto chain = w.esc.Chain(c, kNow);  // chain->accountable: who is accountable now
    benchmark::DoNotOptimize(chain);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteChainAndAccountable)->Repetitions(5)->ReportAggregatesOnly(true);

// Baseline: the owner's manager chain by hash-map lookups up to the CEO (what a service
// without a compiled organisation does for each CTA).
void BM_RouteNaiveManagerWalk(benchmark::State& state) {
  const World& w = GetWorld();
  size_t i = 0;
  for (auto _ : state) {
    const CtaEscalationInput& c = w.ctas[i++ & 4095];
    std::vector<std::string> chain;
    std::string p = c.owner;
    while (!p.empty()) {
      chain.push_back(p);
      p = w.manager_of.at(p);
    }
    std::string vp;
    for (const std::string& q : chain) {
      if (w.role_of.at(q) == "vp_cs") vp = q;
    }
    benchmark::DoNotOptimize(chain);
    benchmark::DoNotOptimize(vp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteNaiveManagerWalk)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_IsAbove(benchmark::State& state) {
  const World& w = GetWorld();
  const Organisation& org = w.esc.organisation();
  size_t i = 0;
  for (auto _ : state) {
    const auto& [a, b] = w.pairs[i++ & 4095];
    benchmark::DoNotOptimize(org.IsAbove(a, b));
  }
}
BENCHMARK(BM_IsAbove)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_IsAboveById(benchmark::State& state) {
  const World& w = GetWorld();
  const Organisation& org = w.esc.organisation();
  size_t i = 0;
  for (auto _ : state) {
    const auto& [a, b] = w.pair_ids[i++ & 4095];
    benchmark::DoNotOptimize(org.IsAbove(a, b));
  }
}
BENCHMARK(BM_IsAboveById)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_IsAboveNaiveWalk(benchmark::State& state) {
  const World& w = GetWorld();
  size_t i = 0;
  for (auto _ : state) {
    const auto& [a, b] = w.pairs[i++ & 4095];
    bool above = false;
    for (const std::string* p = &w.manager_of.at(b); !p->empty(); p = &w.manager_of.at(*p)) {
      if (*p == a) {
        above = true;
        break;
      }
    }
    benchmark::DoNotOptimize(above);
  }
}
BENCHMARK(BM_IsAboveNaiveWalk)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_OrganisationBuild(benchmark::State& state) {
  const OrganisationDef def = MakeOrg();
  for (auto _ : state) {
    auto org = Organisation::Build(def);
    benchmark::DoNotOptimize(org);
  }
}
BENCHMARK(BM_OrganisationBuild)->Unit(benchmark::kMillisecond);

struct SponsorWorld {
  SponsorPoolDef pool;
  std::vector<SponsorAccount> accounts;
};

SponsorWorld MakeSponsors(int num_accounts, int num_sponsors) {
  SponsorWorld w;
  std::mt19937 rng(3);
  for (int s = 0; s < num_sponsors; ++s) {
    w.pool.sponsors.push_back(
        {"s" + std::to_string(s), 20.0 + static_cast<double>(rng() % 30), {}});
  }
  for (int i = 0; i < num_accounts; ++i) {
    SponsorAccount a;
    a.account_id = "acct" + std::to_string(i);
    a.arr = 300000;
    a.tier = rng() % 5 == 0 ? "strategic" : "enterprise";
    if (rng() % 2 == 0) a.current_sponsor = "s" + std::to_string(rng() % num_sponsors);
    if (rng() % 3 == 0) a.sale_sponsor = "s" + std::to_string(rng() % num_sponsors);
    w.accounts.push_back(std::move(a));
  }
  return w;
}

void BM_SponsorAssignment(benchmark::State& state) {
  const SponsorWorld w =
      MakeSponsors(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  int64_t unassigned = 0;
  for (auto _ : state) {
    auto plan = AssignSponsors(w.pool, w.accounts);
    if (!plan.ok()) state.SkipWithError("assignment failed");
    unassigned = static_cast<int64_t>(plan->unassigned.size());
    benchmark::DoNotOptimize(plan);
  }
  state.counters["unassigned"] = static_cast<double>(unassigned);
}
BENCHMARK(BM_SponsorAssignment)->Args({10000, 50})->Unit(benchmark::kMillisecond);

// Baseline: keep the current sponsor if it has room, else the least-loaded sponsor with room.
void BM_SponsorGreedy(benchmark::State& state) {
  const SponsorWorld w =
      MakeSponsors(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    std::unordered_map<std::string, int> index;
    std::vector<int> left;
    for (const SponsorDef& s : w.pool.sponsors) {
      index[s.id] = static_cast<int>(left.size());
      left.push_back(QuarterlyCapacity(s.capacity_per_week));
    }
    std::vector<int> chosen;
    chosen.reserve(w.accounts.size());
    for (const SponsorAccount& a : w.accounts) {
      const int units = a.tier == "strategic" ? 3 : 1;
      int pick = -1;
      if (!a.current_sponsor.empty() && left[index[a.current_sponsor]] >= units) {
        pick = index[a.current_sponsor];
      } else {
        for (size_t s = 0; s < left.size(); ++s) {
          if (left[s] >= units && (pick < 0 || left[s] > left[pick])) pick = static_cast<int>(s);
        }
      }
      if (pick >= 0) left[pick] -= units;
      chosen.push_back(pick);
    }
    benchmark::DoNotOptimize(chosen);
  }
}
BENCHMARK(BM_SponsorGreedy)->Args({10000, 50})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
