#include "cscore/escalation/policy.h"

#include "fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;
using testing_fixtures::SmallOrg;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Monday 2024-03-04 09:00 UTC.
const absl::Time kRaised =
    absl::FromCivil(absl::CivilSecond(2024, 3, 4, 9, 0, 0), absl::UTCTimeZone());

TargetDef Person(const char* id) { return {TargetDef::Kind::kPerson, id, {}}; }
TargetDef Role(const char* role) { return {TargetDef::Kind::kRole, role, {}}; }
TargetDef Team(const char* id) { return {TargetDef::Kind::kTeam, id, {}}; }
TargetDef OwnerManager() { return {TargetDef::Kind::kOwnerManager, "", {}}; }
TargetDef DomainOwner() { return {TargetDef::Kind::kDomainOwner, "", {}}; }

// Level 1: team lead + domain owner (2 days); level 2: VP when flagged (3 days); level 3: CEO.
PolicyDef Flagged(int version = 1, int repeat = 0, absl::Duration last = absl::InfiniteDuration()) {
  PolicyDef p;
  p.id = "flagged";
  p.version = version;
  p.repeat = repeat;
  LevelDef l1{{OwnerManager(), DomainOwner()}, absl::Hours(48), {}, {}};
  LevelDef l2{{Role("vp_cs")},
              absl::Hours(72),
              {{"renewal_at_risk", "adoption_red", "edm_left"}, 0, {}},
              {}};
  LevelDef l3{{Person("ceo")}, last, {}, {}};
  p.levels = {l1, l2, l3};
  return p;
}

Escalator Build(std::vector<PolicyDef> policies) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  EXPECT_TRUE(org.ok()) << org.status();
  absl::StatusOr<Escalator> esc = Escalator::Build(*std::move(org), std::move(policies));
  EXPECT_TRUE(esc.ok()) << esc.status();
  return *std::move(esc);
}

CtaEscalationInput Cta(int64_t id, const char* owner = "csm1", const char* domain = "support") {
  CtaEscalationInput c;
  c.id = id;
  c.account_id = "acct-" + std::to_string(id);
  c.owner = owner;
  c.domain = domain;
  c.arr = 100000;
  c.tier = "enterprise";
  c.raised_at = kRaised;
  return c;
}

std::vector<std::string> Names(const Escalator& esc, const Targets& targets) {
  std::vector<std::string> out;
  for (const ResolvedTarget& t : targets) {
    out.push_back(t.is_team ? "team:" + esc.organisation().team(t.id).id
                            : esc.organisation().person(t.id).id);
  }
  return out;
}

TEST(EscalatorTest, ChainRoutesToLeadDomainOwnerAndSkipsEmptyLevel) {
  Escalator esc = Build({Flagged()});
  absl::StatusOr<EscalationChain> chain = esc.Chain(Cta(1), kRaised + absl::Hours(1));
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->steps.size(), 2u);  // no flag: the VP level is empty and skipped
  EXPECT_EQ(chain->steps[0].level, 1);
  EXPECT_TRUE(chain->steps[0].fired);
  EXPECT_EQ(chain->steps[0].fire_at, kRaised);
  EXPECT_THAT(Names(esc, chain->steps[0].targets), ::testing::ElementsAre("lead1", "team:support"));
  // Support's weekly review is on Wednesday.
  EXPECT_EQ(chain->steps[0].targets[1].review_on, absl::CivilDay(2024, 3, 6));
  EXPECT_EQ(chain->steps[1].level, 3);
  EXPECT_FALSE(chain->steps[1].fired);
  EXPECT_EQ(chain->steps[1].fire_at, kRaised + absl::Hours(48));  // skipped level costs no time
  EXPECT_THAT(Names(esc, chain->steps[1].targets), ::testing::ElementsAre("ceo"));
}

TEST(EscalatorTest, RenewalAtRiskBringsInTheVp) {
  Escalator esc = Build({Flagged()});
  CtaEscalationInput cta = Cta(1, "csm3", "implementation");
  cta.renewal_at_risk = true;
  absl::StatusOr<EscalationChain> chain = esc.Chain(cta, kRaised + absl::Hours(100));
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->steps.size(), 3u);
  EXPECT_THAT(Names(esc, chain->steps[0].targets),
              ::testing::ElementsAre("lead2", "team:services"));
  EXPECT_EQ(chain->steps[0].targets[1].review_on, absl::CivilDay(2024, 3, 8));  // Friday
  EXPECT_THAT(Names(esc, chain->steps[1].targets), ::testing::ElementsAre("vp-cs"));
  EXPECT_EQ(chain->steps[2].fire_at, kRaised + absl::Hours(120));
  EXPECT_TRUE(chain->steps[1].fired);
  EXPECT_FALSE(chain->steps[2].fired);
  absl::StatusOr<Targets> who = esc.Accountable(cta, kRaised + absl::Hours(100));
  ASSERT_TRUE(who.ok());
  EXPECT_THAT(Names(esc, *who), ::testing::ElementsAre("vp-cs"));
  who = esc.Accountable(cta, kRaised - absl::Hours(1));
  ASSERT_TRUE(who.ok());
  EXPECT_THAT(Names(esc, *who), ::testing::ElementsAre("csm3"));
}

TEST(EscalatorTest, AcknowledgeStopsUnlessPolicyWaitsForResolve) {
  CtaEscalationInput cta = Cta(1);
  cta.edm_left = true;
  cta.acknowledged_at = kRaised + absl::Hours(50);  // after level 2 fired at +48h
  Escalator esc = Build({Flagged()});
  absl::StatusOr<DueBatch> due = esc.Due({&cta, 1}, {}, kRaised + absl::Hours(24 * 30));
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->events.size(), 2u);
  EXPECT_EQ(due->events[1].step.level, 2);

  PolicyDef resolve = Flagged();
  resolve.stop_on = PolicyDef::StopOn::kResolve;
  Escalator esc2 = Build({resolve});
  cta.resolved_at = kRaised + absl::Hours(24 * 10);
  due = esc2.Due({&cta, 1}, {}, kRaised + absl::Hours(24 * 30));
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->events.size(), 3u);  // the CEO at +120h, before the resolve
  EXPECT_EQ(due->events[2].step.level, 3);

  // An acknowledgement not yet known at the query time does not stop the chain.
  absl::StatusOr<EscalationChain> chain = esc.Chain(cta, kRaised + absl::Hours(49));
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->steps.size(), 3u);
  EXPECT_EQ(chain->stopped_at, absl::InfiniteFuture());
}

TEST(EscalatorTest, DueIsIdempotentAndCatchesUp) {
  Escalator esc = Build({Flagged()});
  std::vector<CtaEscalationInput> ctas = {Cta(1), Cta(2, "csm3", "defect")};
  ctas[1].adoption_red = true;
  ctas[1].raised_at = kRaised + absl::Hours(1);

  absl::StatusOr<DueBatch> day1 = esc.Due(ctas, {}, kRaised + absl::Hours(60));
  ASSERT_TRUE(day1.ok()) << day1.status();
  // cta 1: level 1 (+0) and level 3 (+48h); cta 2: level 1 (+1h) and level 2 (+49h).
  ASSERT_EQ(day1->events.size(), 4u);
  EXPECT_EQ(day1->events[0].cta_id, 1);
  EXPECT_EQ(day1->events[1].cta_id, 2);
  EXPECT_EQ(day1->events[2].step.level, 3);
  EXPECT_EQ(day1->events[3].step.level, 2);
  EXPECT_EQ(day1->states[0], (EscalationState{"flagged", 1, 3}));

  absl::StatusOr<DueBatch> again = esc.Due(ctas, day1->states, kRaised + absl::Hours(60));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->events.empty());
  EXPECT_EQ(again->states, day1->states);

  absl::StatusOr<DueBatch> later = esc.Due(ctas, day1->states, kRaised + absl::Hours(24 * 10));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->events.size(), 1u);
  EXPECT_EQ(later->events[0].cta_id, 2);
  EXPECT_EQ(later->events[0].step.level, 3);

  // One late run fires everything due, in time order.
  absl::StatusOr<DueBatch> late = esc.Due(ctas, {}, kRaised + absl::Hours(24 * 10));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->events.size(), 5u);
}

TEST(EscalatorTest, RepeatIsBoundedAndEachStepFiresOnce) {
  Escalator esc = Build({Flagged(1, 2, absl::Hours(24))});
  absl::StatusOr<DueBatch> due = esc.Due(std::vector{Cta(1)}, {}, kRaised + absl::Hours(24 * 365));
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->events.size(), 6u);  // 3 passes x (levels 1 and 3)
  std::set<int> flats;
  for (const auto& e : due->events) flats.insert(e.step.flat);
  EXPECT_EQ(flats.size(), 6u);
  EXPECT_EQ(due->events.back().step.repeat, 2);
  EXPECT_EQ(due->events.back().step.fire_at, kRaised + absl::Hours(2 * 72 + 48));
}

TEST(EscalatorTest, CtaKeepsThePolicyVersionItWasRaisedUnder) {
  PolicyDef v1 = Flagged(1);
  v1.effective_from = kRaised - absl::Hours(24 * 60);
  PolicyDef v2 = Flagged(2);
  v2.effective_from = kRaised + absl::Hours(24 * 7);
  v2.levels[0].timeout = absl::Hours(4);
  Escalator esc = Build({v2, v1});

  CtaEscalationInput old_cta = Cta(1);
  CtaEscalationInput new_cta = Cta(2);
  new_cta.raised_at = kRaised + absl::Hours(24 * 8);
  std::vector<CtaEscalationInput> ctas = {old_cta, new_cta};
  absl::StatusOr<DueBatch> due = esc.Due(ctas, {}, kRaised + absl::Hours(24 * 9));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->states[0].policy_version, 1);
  EXPECT_EQ(due->states[1].policy_version, 2);
  absl::StatusOr<EscalationChain> chain = esc.Chain(new_cta, new_cta.raised_at);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->steps[1].fire_at, new_cta.raised_at + absl::Hours(4));

  // A stored state pins the version even when the CTA would route elsewhere today.
  EscalationState pinned{"flagged", 1, 0};
  chain = esc.Chain(new_cta, new_cta.raised_at, &pinned);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->policy_version, 1);
  EXPECT_EQ(chain->steps[1].fire_at, new_cta.raised_at + absl::Hours(48));

  EscalationState missing{"flagged", 7, 0};
  EXPECT_THAT(Message(esc.Chain(new_cta, kRaised, &missing).status()),
              HasSubstr("no policy 'flagged' version 7"));
}

TEST(EscalatorTest, RoutesByDomainAndArr) {
  PolicyDef big = Flagged();
  big.id = "big-accounts";
  big.min_arr = 500000;
  big.levels = {LevelDef{{Person("ceo")}, absl::InfiniteDuration(), {}, {}}};
  PolicyDef product = Flagged();
  product.id = "product";
  product.domains = {"product", "defect"};
  product.levels = {LevelDef{{DomainOwner()}, absl::InfiniteDuration(), {}, {}}};
  Escalator esc = Build({big, product, Flagged()});
  CtaEscalationInput cta = Cta(1, "csm1", "defect");
  EXPECT_EQ(esc.Chain(cta, kRaised)->policy_id, "product");
  cta.arr = 600000;
  EXPECT_EQ(esc.Chain(cta, kRaised)->policy_id, "big-accounts");
  cta = Cta(2, "csm1", "habit");
  EXPECT_EQ(esc.Chain(cta, kRaised)->policy_id, "flagged");
}

// Level conditions on ARR and tier: the CEO level applies to strategic accounts or to
// accounts of 500k ARR and more; others stop after the VP level.
TEST(EscalatorTest, LevelsByArrThresholdAndTier) {
  PolicyDef p = Flagged(1, 0, absl::InfiniteDuration());
  p.levels[1].when.any_flag.clear();  // the VP for everyone here
  LevelDef strategic_ceo{{Person("ceo")}, absl::InfiniteDuration(), {{}, 0, {"strategic"}}, {}};
  LevelDef big_ceo{{Person("ceo")}, absl::InfiniteDuration(), {{}, 500000, {}}, {}};
  p.levels[2] = strategic_ceo;
  PolicyDef by_arr = p;
  by_arr.id = "by-arr";
  by_arr.levels[2] = big_ceo;
  by_arr.domains = {"habit"};
  Escalator esc = Build({by_arr, p});
  const absl::Time later = kRaised + absl::Hours(24 * 30);
  auto levels = [&](const CtaEscalationInput& c) {
    std::vector<int> out;
    absl::StatusOr<EscalationChain> chain = esc.Chain(c, later);
    EXPECT_TRUE(chain.ok()) << chain.status();
    if (chain.ok()) {
      for (const EscalationStep& s : chain->steps) out.push_back(s.level);
    }
    return out;
  };
  CtaEscalationInput cta = Cta(1);  // support, enterprise, 100k: policy 'flagged'
  EXPECT_THAT(levels(cta), ::testing::ElementsAre(1, 2));
  cta.tier = "strategic";
  EXPECT_THAT(levels(cta), ::testing::ElementsAre(1, 2, 3));
  CtaEscalationInput habit = Cta(2, "csm1", "habit");  // policy 'by-arr'
  EXPECT_THAT(levels(habit), ::testing::ElementsAre(1, 2));
  habit.arr = 750000;
  EXPECT_THAT(levels(habit), ::testing::ElementsAre(1, 2, 3));
  absl::StatusOr<Targets> who = esc.Accountable(habit, later);
  ASSERT_TRUE(who.ok());
  EXPECT_THAT(Names(esc, *who), ::testing::ElementsAre("ceo"));
  // A CTA outside the risk scorecard routes only to a policy covering every domain.
  CtaEscalationInput no_domain = Cta(3, "csm1", "none");
  EXPECT_EQ(esc.Chain(no_domain, later)->policy_id, "flagged");
  EXPECT_THAT(Names(esc, esc.Chain(no_domain, later)->steps[0].targets),
              ::testing::ElementsAre("lead1"));  // no domain owner to add
  Escalator only_habit = Build({by_arr});
  EXPECT_THAT(Message(only_habit.Chain(no_domain, later).status()),
              HasSubstr("no escalation policy for domain 'none'"));
}

TEST(EscalatorTest, InboxOldestFirst) {
  Escalator esc = Build({Flagged()});
  std::vector<CtaEscalationInput> ctas = {Cta(1), Cta(2), Cta(3, "csm3"), Cta(4)};
  ctas[0].raised_at = kRaised + absl::Hours(5);
  ctas[1].raised_at = kRaised + absl::Hours(2);
  ctas[3].resolved_at = kRaised + absl::Hours(3);
  const absl::Time now = kRaised + absl::Hours(10);
  absl::StatusOr<std::vector<InboxItem>> inbox = esc.InboxOfPerson(ctas, "lead1", now);
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_EQ((*inbox)[0].cta_id, 2);
  EXPECT_EQ((*inbox)[1].cta_id, 1);
  // sup1 sees them through the Support team.
  inbox = esc.InboxOfPerson(ctas, "sup1", now);
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->size(), 3u);
  inbox = esc.InboxOfTeam(ctas, "support", now);
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->size(), 3u);
  EXPECT_EQ((*inbox)[0].cta_id, 3);
  // Two days later level 3 went to the CEO.
  inbox = esc.InboxOfPerson(ctas, "ceo", kRaised + absl::Hours(51));
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_EQ((*inbox)[0].cta_id, 3);
  EXPECT_EQ((*inbox)[0].level, 3);
  EXPECT_FALSE(esc.InboxOfPerson(ctas, "ghost", now).ok());
}

TEST(EscalatorTest, PathDot) {
  Escalator esc = Build({Flagged()});
  CtaEscalationInput cta = Cta(9);
  cta.acknowledged_at = kRaised + absl::Hours(30);
  absl::StatusOr<std::string> dot = esc.PathDot(cta, kRaised + absl::Hours(40));
  ASSERT_TRUE(dot.ok()) << dot.status();
  EXPECT_THAT(*dot, HasSubstr("digraph cta_9"));
  EXPECT_THAT(*dot, HasSubstr("level 1 (pass 1)\\nlead1, team support"));
  EXPECT_THAT(*dot, HasSubstr("owner -> step0;"));
  EXPECT_THAT(*dot, HasSubstr("stopped\\n2024-03-05 15:00"));
  EXPECT_THAT(*dot, ::testing::Not(HasSubstr("ceo")));
}

TEST(EscalatorTest, BadCtaInputNamesTheCta) {
  Escalator esc = Build({Flagged()});
  std::vector<CtaEscalationInput> ctas = {Cta(1), Cta(2, "ghost")};
  absl::StatusOr<DueBatch> due = esc.Due(ctas, {}, kRaised);
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(Message(due.status()), "cta 2 (account acct-2): unknown owner 'ghost'");
  ctas = {Cta(3, "csm1", "weather")};
  EXPECT_EQ(Message(esc.Due(ctas, {}, kRaised).status()),
            "cta 3 (account acct-3): unknown risk domain 'weather'");
  std::vector<EscalationState> states(3);
  EXPECT_THAT(Message(esc.Due(ctas, states, kRaised).status()), HasSubstr("3 given for 1 CTAs"));
}

absl::Status BuildError(PolicyDef p) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  return Escalator::Build(*std::move(org), {std::move(p)}).status();
}

TEST(EscalatorBuildTest, BadPoliciesAreLocatedErrors) {
  PolicyDef p = Flagged();
  p.levels[2].targets[0] = {TargetDef::Kind::kPerson, "ghost", {"esc.yaml", 12, 20}};
  EXPECT_EQ(Message(BuildError(p)),
            "esc.yaml:12:20: policy 'flagged' v1 level 3: unknown person 'ghost'");
  p = Flagged();
  p.levels[0].targets.push_back(Team("nope"));
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("level 1: unknown team 'nope'"));
  p = Flagged();
  p.levels[1].targets = {Role("cfo")};
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("level 2: no person has role 'cfo'"));
  p = Flagged();
  p.levels[0].timeout = absl::Hours(-2);
  p.levels[0].loc = {"esc.yaml", 7, 9};
  EXPECT_EQ(Message(BuildError(p)),
            "esc.yaml:7:9: policy 'flagged' v1 level 1: timeout must be positive");
  p = Flagged();
  p.repeat = 10;
  p.loc = {"esc.yaml", 2, 5};
  EXPECT_EQ(Message(BuildError(p)),
            "esc.yaml:2:5: policy 'flagged' v1: repeat 10 is out of range 0..9");
  p.repeat = -1;
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("repeat -1 is out of range"));
  p = Flagged();
  p.levels[0].timeout = absl::InfiniteDuration();
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("level 2 is unreachable: level 1 has no timeout"));
  p = Flagged(1, 1);
  EXPECT_THAT(Message(BuildError(p)),
              HasSubstr("repeat is unreachable, the last level has no timeout"));
  p = Flagged();
  p.levels[1].when.any_flag = {"churned"};
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("unknown flag 'churned'"));
  p = Flagged();
  p.levels[1].targets.clear();
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("level 2: no targets"));
  p = Flagged();
  p.domains = {"weather"};
  EXPECT_THAT(Message(BuildError(p)), HasSubstr("unknown risk domain 'weather'"));

  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  EXPECT_THAT(Message(Escalator::Build(*org, {Flagged(), Flagged()}).status()),
              HasSubstr("duplicate policy 'flagged' v1"));
}

}  // namespace
}  // namespace cscore
