#include "cscore/escalation/sponsors.h"

#include <random>

#include "cscore/rules/apply.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

SponsorAccount Account(std::string id, std::string tier, std::string current = "",
                       std::string sale = "", double arr = 1e6) {
  return {std::move(id), arr, std::move(tier), std::move(current), std::move(sale)};
}

std::map<std::string, std::string> ById(const SponsorPlan& plan) {
  std::map<std::string, std::string> out;
  for (const auto& a : plan.assigned) out[a.account_id] = a.sponsor_id;
  return out;
}

// The plan feeds the rules engine's timed CTAs: one check-in CTA per sponsored account, owned
// by the sponsor, monthly for strategic and quarterly for enterprise accounts.
TEST(SponsorsTest, PlanBecomesSponsorOwnedCheckInCtas) {
  SponsorPoolDef pool{{{"ceo", 1, {}}, {"cro", 1, {}}}, 250000, {}, {}};
  std::vector<SponsorAccount> accounts = {Account("a", "strategic", "cro"),
                                          Account("b", "enterprise", "", "ceo"),
                                          Account("small", "enterprise", "", "", 1000)};
  absl::StatusOr<SponsorPlan> plan = AssignSponsors(pool, accounts);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<SponsorCadence> cadences = CheckInCadences(*plan);
  ASSERT_EQ(cadences.size(), 2u);
  EXPECT_EQ(cadences[0].account, "a");
  EXPECT_EQ(cadences[0].sponsor, "cro");
  EXPECT_EQ(cadences[0].every_months, 1);
  EXPECT_EQ(cadences[1].sponsor, "ceo");
  EXPECT_EQ(cadences[1].every_months, 3);

  FrameBuilder b({"a", "b", "small"});
  b.AddFloat64("arr", {1e6, 1e6, 1000});
  AccountFrame frame = *std::move(b).Build();
  TimedCtaDefs defs;
  defs.check_ins = CheckInDef{};
  absl::StatusOr<TimedCtas> timed = TimedCtas::Compile(defs, frame.schema());
  ASSERT_TRUE(timed.ok()) << timed.status();
  absl::StatusOr<std::unique_ptr<CtaStore>> created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  RuleState state;
  const absl::CivilDay day(2024, 5, 6);
  absl::StatusOr<std::vector<TimedIntent>> intents =
      timed->Evaluate(frame, cadences, day, CtaStoreLookup(store), state);
  ASSERT_TRUE(intents.ok()) << intents.status();
  EXPECT_EQ(ApplyTimedIntents(*intents, day, store, state), 2);
  const CtaId a = *store.FindOpen("a", "Activity", "Executive check-in");
  const CtaId bb = *store.FindOpen("b", "Activity", "Executive check-in");
  EXPECT_EQ(store.owner(a), "cro");
  EXPECT_EQ(store.owner(bb), "ceo");
  EXPECT_EQ(store.source(a), "exec_checkin");
  // Strategic: due at the end of the month; enterprise: at the end of the quarter.
  EXPECT_EQ(absl::ToCivilDay(absl::FromUnixMicros(store.due_column()[a]), absl::UTCTimeZone()),
            absl::CivilDay(2024, 5, 31));
  EXPECT_EQ(absl::ToCivilDay(absl::FromUnixMicros(store.due_column()[bb]), absl::UTCTimeZone()),
            absl::CivilDay(2024, 6, 30));
  EXPECT_FALSE(store.FindOpen("small", "Activity", "Executive check-in").has_value());
}

TEST(SponsorsTest, KeepsRelationshipsAndFeedsCheckins) {
  SponsorPoolDef pool{{{"ceo", 1, {}}, {"cro", 1, {}}}, 250000, {}, {}};
  std::vector<SponsorAccount> accounts = {
      Account("a", "strategic", "cro"), Account("b", "enterprise", "", "ceo"),
      Account("c", "enterprise"), Account("small", "enterprise", "", "", 1000),
      Account("smb", "smb")};
  absl::StatusOr<SponsorPlan> plan = AssignSponsors(pool, accounts);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->not_eligible, 2);
  ASSERT_EQ(plan->assigned.size(), 3u);
  EXPECT_EQ(plan->assigned[0].account_id, "a");
  EXPECT_EQ(plan->assigned[0].sponsor_id, "cro");
  EXPECT_TRUE(plan->assigned[0].kept);
  EXPECT_EQ(plan->assigned[0].cadence_months, 1);
  EXPECT_EQ(plan->assigned[0].checkin_minutes, 30);
  EXPECT_EQ(plan->assigned[1].sponsor_id, "ceo");
  EXPECT_EQ(plan->assigned[1].cadence_months, 3);
  EXPECT_FALSE(plan->assigned[1].kept);
  EXPECT_EQ(plan->assigned[2].sponsor_id, "ceo");  // balances against cro's 3 units
  EXPECT_EQ(plan->relationship_cost, 10);          // only "c" had no relationship
  EXPECT_EQ(plan->load, (std::vector<int>{2, 3}));
  EXPECT_TRUE(plan->unassigned.empty());
  EXPECT_TRUE(plan->unassigned_reason.empty());
}

TEST(SponsorsTest, BreaksRelationshipOnlyWhenCapacityForcesIt) {
  // cro holds 13 check-ins a quarter: four strategic accounts (12) fit, a fifth does not.
  SponsorPoolDef pool{{{"cro", 1, {}}, {"ceo", 1, {}}}, 0, {}, {}};
  std::vector<SponsorAccount> accounts;
  for (int i = 0; i < 5; ++i)
    accounts.push_back(Account("s" + std::to_string(i), "strategic", "cro"));
  absl::StatusOr<SponsorPlan> plan = AssignSponsors(pool, accounts);
  ASSERT_TRUE(plan.ok());
  int kept = 0;
  for (const auto& a : plan->assigned) kept += a.kept;
  EXPECT_EQ(kept, 4);
  EXPECT_EQ(plan->relationship_cost, 100);
}

TEST(SponsorsTest, InfeasibleCapacityIsReported) {
  SponsorPoolDef pool{{{"ceo", 0.5, {}}}, 0, {}, {}};  // 6 check-ins a quarter
  std::vector<SponsorAccount> accounts = {Account("s1", "strategic"), Account("s2", "strategic"),
                                          Account("s3", "strategic"), Account("e1", "enterprise")};
  absl::StatusOr<SponsorPlan> plan = AssignSponsors(pool, accounts);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->assigned.size(), 2u);
  EXPECT_EQ(plan->unassigned, (std::vector<std::string>{"s3", "e1"}));
  EXPECT_THAT(plan->unassigned_reason,
              HasSubstr("1 strategic account(s) unassigned: strategic accounts need 9 check-ins"));
  EXPECT_THAT(plan->unassigned_reason, HasSubstr("1 enterprise account(s) unassigned"));
  EXPECT_THAT(plan->unassigned_reason, HasSubstr("capacity is 6 check-ins a quarter"));
}

TEST(SponsorsTest, NextCheckinFollowsTheCadence) {
  const absl::CivilDay since(2024, 1, 31);
  EXPECT_EQ(NextCheckin(since, 1, absl::CivilDay(2024, 1, 10)), since);
  EXPECT_EQ(NextCheckin(since, 1, absl::CivilDay(2024, 2, 3)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(NextCheckin(since, 1, absl::CivilDay(2024, 2, 29)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(NextCheckin(since, 3, absl::CivilDay(2024, 2, 3)), absl::CivilDay(2024, 4, 30));
  EXPECT_EQ(NextCheckin(since, 3, absl::CivilDay(2025, 11, 1)), absl::CivilDay(2026, 1, 31));
}

TEST(SponsorsTest, BadInputIsAnError) {
  SponsorPoolDef pool{{{"ceo", -1, {"org.yaml", 30, 7}}}, 0, {}, {}};
  EXPECT_EQ(Message(AssignSponsors(pool, {}).status()),
            "org.yaml:30:7: sponsor 'ceo': capacity -1 is below zero or not a number (check-ins a "
            "week)");
  pool.sponsors[0].capacity_per_week = 1e12;
  EXPECT_THAT(Message(AssignSponsors(pool, {}).status()),
              HasSubstr("sponsor 'ceo': capacity 1e+12 is above 10000 check-ins a week"));
  pool.sponsors[0].capacity_per_week = 1;
  std::vector<SponsorAccount> accounts = {Account("a", "strategic", "cfo")};
  EXPECT_EQ(Message(AssignSponsors(pool, accounts).status()),
            "account a, column current_sponsor: 'cfo' is not in the sponsor pool");
  accounts = {Account("a", "strategic"), Account("a", "enterprise")};
  EXPECT_THAT(Message(AssignSponsors(pool, accounts).status()),
              HasSubstr("account a: listed twice"));
  accounts = {Account("a", "strategic", "", "", std::nan(""))};
  EXPECT_THAT(Message(AssignSponsors(pool, accounts).status()), HasSubstr("account a, column arr"));
  pool.sponsors.push_back(pool.sponsors[0]);
  EXPECT_THAT(Message(AssignSponsors(pool, {}).status()), HasSubstr("duplicate sponsor 'ceo'"));
}

// The objective, written independently of the solver: per stage, as many accounts as fit,
// then relationship cost plus the growth of the convex load cost.
struct Instance {
  SponsorPoolDef pool;
  std::vector<SponsorAccount> accounts;
};

int64_t RelationCost(const Instance& in, int account, int sponsor) {
  const SponsorAccount& a = in.accounts[account];
  const std::string& s = in.pool.sponsors[sponsor].id;
  if (!a.current_sponsor.empty())
    return s == a.current_sponsor ? 0 : in.pool.costs.break_relationship;
  return s == a.sale_sponsor ? 0 : in.pool.costs.no_relationship;
}

int64_t BandCost(int units, int capacity, const SponsorCosts& costs) {
  const int band = std::max(1, (capacity + costs.bands - 1) / costs.bands);
  int64_t total = 0;
  for (int u = 0; u < units; ++u) total += costs.imbalance * (u / band);
  return total;
}

struct StageResult {
  int assigned = 0;
  int64_t cost = 0;
};

// Exhaustive search over every assignment (or none) of the accounts of one tier.
StageResult BruteForce(const Instance& in, const std::vector<int>& accounts, int units,
                       const std::vector<int>& base, const std::vector<int>& capacity) {
  const int s = static_cast<int>(capacity.size());
  StageResult best{-1, 0};
  std::vector<int> choice(accounts.size(), 0);  // 0: none, k: sponsor k-1
  while (true) {
    std::vector<int> load = base;
    StageResult r;
    bool ok = true;
    for (size_t i = 0; i < accounts.size(); ++i) {
      if (choice[i] == 0) continue;
      load[choice[i] - 1] += units;
      r.assigned++;
      r.cost += RelationCost(in, accounts[i], choice[i] - 1);
    }
    for (int k = 0; k < s; ++k) {
      ok = ok && load[k] <= capacity[k];
      r.cost += BandCost(load[k], capacity[k], in.pool.costs) -
                BandCost(base[k], capacity[k], in.pool.costs);
    }
    if (ok && (r.assigned > best.assigned || (r.assigned == best.assigned && r.cost < best.cost))) {
      best = r;
    }
    size_t i = 0;
    while (i < choice.size() && ++choice[i] > s) choice[i++] = 0;
    if (i == choice.size()) break;
  }
  return best;
}

TEST(SponsorsTest, OptimalAgainstBruteForceOnSmallRandomCases) {
  std::mt19937 rng(2024);
  for (int round = 0; round < 150; ++round) {
    Instance in;
    const int num_sponsors = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int k = 0; k < num_sponsors; ++k) {
      in.pool.sponsors.push_back(
          {"x" + std::to_string(k), std::uniform_int_distribution<int>(0, 8)(rng) / 8.0, {}});
    }
    in.pool.costs.break_relationship = std::uniform_int_distribution<int>(0, 12)(rng);
    in.pool.costs.no_relationship = std::uniform_int_distribution<int>(0, 6)(rng);
    in.pool.costs.imbalance = std::uniform_int_distribution<int>(0, 3)(rng);
    in.pool.costs.bands = std::uniform_int_distribution<int>(1, 6)(rng);
    const int n = std::uniform_int_distribution<int>(1, 6)(rng);
    auto pick = [&]() -> std::string {
      const int k = std::uniform_int_distribution<int>(-1, num_sponsors - 1)(rng);
      return k < 0 ? "" : "x" + std::to_string(k);
    };
    for (int i = 0; i < n; ++i) {
      in.accounts.push_back(Account("acct" + std::to_string(i),
                                    rng() % 3 == 0 ? "strategic" : "enterprise", pick(), pick()));
    }
    absl::StatusOr<SponsorPlan> plan = AssignSponsors(in.pool, in.accounts);
    ASSERT_TRUE(plan.ok()) << plan.status();

    std::vector<int> capacity;
    for (const auto& s : in.pool.sponsors)
      capacity.push_back(QuarterlyCapacity(s.capacity_per_week));
    std::map<std::string, int> sponsor_index;
    for (int k = 0; k < num_sponsors; ++k) sponsor_index[in.pool.sponsors[k].id] = k;
    const auto assigned = ById(*plan);
    std::array<std::vector<int>, 2> tier_accounts;
    std::array<StageResult, 2> solver;
    std::vector<int> strategic_load(num_sponsors, 0), zero(num_sponsors, 0);
    for (int i = 0; i < n; ++i) {
      const int tier = in.accounts[i].tier == "strategic" ? 0 : 1;
      tier_accounts[tier].push_back(i);
      auto it = assigned.find(in.accounts[i].account_id);
      if (it == assigned.end()) continue;
      const int k = sponsor_index[it->second];
      solver[tier].assigned++;
      solver[tier].cost += RelationCost(in, i, k);
      if (tier == 0) strategic_load[k] += 3;
    }
    std::vector<int> total_load = strategic_load;
    for (int i : tier_accounts[1]) {
      auto it = assigned.find(in.accounts[i].account_id);
      if (it != assigned.end()) total_load[sponsor_index[it->second]] += 1;
    }
    for (int k = 0; k < num_sponsors; ++k) {
      ASSERT_LE(total_load[k], capacity[k]);
      solver[0].cost += BandCost(strategic_load[k], capacity[k], in.pool.costs);
      solver[1].cost += BandCost(total_load[k], capacity[k], in.pool.costs) -
                        BandCost(strategic_load[k], capacity[k], in.pool.costs);
    }
    ASSERT_EQ(plan->load, total_load);
    // Stage 1 is optimal over all strategic assignments; stage 2 over all enterprise
    // assignments given the strategic ones.
    const StageResult best0 = BruteForce(in, tier_accounts[0], 3, zero, capacity);
    ASSERT_EQ(solver[0].assigned, best0.assigned) << "round " << round;
    ASSERT_EQ(solver[0].cost, best0.cost) << "round " << round;
    const StageResult best1 = BruteForce(in, tier_accounts[1], 1, strategic_load, capacity);
    ASSERT_EQ(solver[1].assigned, best1.assigned) << "round " << round;
    ASSERT_EQ(solver[1].cost, best1.cost) << "round " << round;
    ASSERT_EQ(plan->relationship_cost + plan->imbalance_cost, solver[0].cost + solver[1].cost);
  }
}

}  // namespace
}  // namespace cscore
