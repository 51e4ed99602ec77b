// Escalation timers are timed events of the CTA lifecycle: a day's run fires each due step
// once into the CTA's audit log, deterministically, and a rerun of the day fires nothing.
#include "cscore/escalation/timers.h"

#include "cscore/escalation/authority.h"
#include "fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using testing_fixtures::SmallOrg;

// Monday 2024-03-04 09:00 UTC.
const absl::Time kT0 = absl::FromCivil(absl::CivilSecond(2024, 3, 4, 9, 0, 0), absl::UTCTimeZone());

PolicyDef Flagged() {
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
              {{{TargetDef::Kind::kPerson, "ceo", {}}}, absl::InfiniteDuration(), {}, {}}};
  return p;
}

struct World {
  Escalator escalator;
  std::unique_ptr<CtaStore> store;
};

World Make() {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  EXPECT_TRUE(org.ok()) << org.status();
  absl::StatusOr<Escalator> esc = Escalator::Build(*std::move(org), {Flagged()});
  EXPECT_TRUE(esc.ok()) << esc.status();
  CtaStoreOptions options;
  options.authority = std::make_shared<OrganisationAuthority>(esc->organisation());
  absl::StatusOr<std::unique_ptr<CtaStore>> store = CtaStore::Create(std::move(options));
  EXPECT_TRUE(store.ok());
  return {*std::move(esc), *std::move(store)};
}

std::vector<std::string> LogOf(const CtaStore& store) {
  std::vector<std::string> out;
  const Lifecycle& lc = Lifecycle::Default();
  for (const AuditRecord& r : store.audit()) {
    if (r.kind != AuditRecord::kTransition || lc.event_name(r.event) != "escalate") continue;
    out.push_back(
        StrCat("cta ", r.cta, " @",
               absl::FormatTime("%d %H:%M", absl::FromUnixMicros(r.time), absl::UTCTimeZone()),
               " by ", store.str(r.actor), ": ", store.str(r.s0)));
  }
  return out;
}

TEST(EscalationTimers, DueStepsFireAsLifecycleEventsOnceAndDeterministically) {
  World s = Make();
  CtaStore& store = *s.store;
  const Actor rules{.id = "ticket_flood", .role = Role::kSystem};
  const CtaId support = *store.Open(
      {.account = "acme", .reason = "tickets", .domain = RiskDomain::kSupport, .owner = "csm1"},
      rules, kT0 - absl::Hours(24));
  const CtaId impl = *store.Open({.account = "globex",
                                  .reason = "onboarding late",
                                  .domain = RiskDomain::kImplementation,
                                  .owner = "csm3"},
                                 rules, kT0 - absl::Hours(24));
  const CtaId activity =
      *store.Open({.account = "initech", .type = "Activity", .reason = "call", .owner = "csm2"},
                  rules, kT0 - absl::Hours(24));
  const CtaId quiet = *store.Open(
      {.account = "hooli", .reason = "usage", .domain = RiskDomain::kHabit, .owner = "csm2"}, rules,
      kT0 - absl::Hours(24));
  ASSERT_TRUE(store.Fire(support, "flag", {.id = "csm1", .role = Role::kCsm}, kT0).ok());
  ASSERT_TRUE(store.Fire(impl, "flag", {.id = "csm3", .role = Role::kCsm}, kT0).ok());
  ASSERT_TRUE(
      store.Fire(activity, "flag", {.id = "csm2", .role = Role::kCsm}, kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(EscalationInputOf(store, quiet).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(EscalationInputOf(store, 99).status().code(), absl::StatusCode::kNotFound);

  auto inputs_of = [&] {
    std::vector<CtaEscalationInput> in = EscalationInputs(store);
    for (CtaEscalationInput& c : in) c.renewal_at_risk = c.account_id == "globex";
    return in;
  };
  std::vector<CtaEscalationInput> in = inputs_of();
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].owner, "csm1");
  EXPECT_EQ(in[0].domain, "support");
  EXPECT_EQ(in[0].raised_at, kT0);
  EXPECT_EQ(in[2].domain, "none");

  // Day 3 09:30: level 1 for all three; globex (renewal at risk) reached the VP at +48h, the
  // others skipped the VP level and reached the CEO.
  const absl::Time day3 = kT0 + absl::Hours(48) + absl::Minutes(30);
  absl::StatusOr<DueBatch> due = s.escalator.Due(in, {}, day3);
  ASSERT_TRUE(due.ok()) << due.status();
  EscalationFireReport fired = FireEscalations(*due, s.escalator, store);
  EXPECT_TRUE(fired.rejected.empty());
  EXPECT_EQ(fired.fired, 5);
  EXPECT_THAT(LogOf(store),
              ElementsAre("cta 0 @04 09:00 by escalation: policy 'flagged' v1, level 1 (pass 1): "
                          "lead1, team support",
                          "cta 1 @04 09:00 by escalation: policy 'flagged' v1, level 1 (pass 1): "
                          "lead2, team services",
                          "cta 2 @04 10:00 by escalation: policy 'flagged' v1, level 1 (pass 1): "
                          "lead1",
                          "cta 0 @06 09:00 by escalation: policy 'flagged' v1, level 3 (pass 1): "
                          "ceo",
                          "cta 1 @06 09:00 by escalation: policy 'flagged' v1, level 2 (pass 1): "
                          "vp-cs"));
  EXPECT_TRUE(store.IsOpen(support));
  EXPECT_EQ(store.status_name(support), "new");  // an overlay: the status does not move

  // The same day again, with the persisted states: nothing is due, nothing is logged.
  const size_t log = store.audit().size();
  absl::StatusOr<DueBatch> again = s.escalator.Due(inputs_of(), due->states, day3);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->events.empty());
  EXPECT_EQ(FireEscalations(*again, s.escalator, store).fired, 0);
  EXPECT_EQ(store.audit().size(), log);

  // Days later only globex's CEO step is left; the activity CTA was unflagged meanwhile.
  ASSERT_TRUE(
      store.Fire(activity, "unflag", {.id = "csm2", .role = Role::kCsm}, kT0 + absl::Hours(60))
          .ok());
  std::vector<CtaEscalationInput> later_in = inputs_of();
  ASSERT_EQ(later_in.size(), 2u);
  std::vector<EscalationState> states = {due->states[0], due->states[1]};
  absl::StatusOr<DueBatch> later = s.escalator.Due(later_in, states, kT0 + absl::Hours(24 * 10));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->events.size(), 1u);
  EXPECT_EQ(FireEscalations(*later, s.escalator, store).fired, 1);
  EXPECT_EQ(LogOf(store).back(),
            "cta 1 @09 09:00 by escalation: policy 'flagged' v1, level 3 (pass 1): ceo");

  // The escalations are part of the log the store folds: a replay rebuilds the same store.
  absl::StatusOr<std::unique_ptr<CtaStore>> replayed =
      CtaStore::Replay({}, store.audit(), store.strings());
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(LogOf(**replayed), LogOf(store));
  EXPECT_TRUE(std::equal(store.updated_column().begin(), store.updated_column().end(),
                         (*replayed)->updated_column().begin()));

  // A step for a CTA that closed since is rejected with its reason; the rest proceed.
  ASSERT_TRUE(store
                  .Close(support, "closed_success", {.id = "csm1", .role = Role::kCsm},
                         kT0 + absl::Hours(24 * 11))
                  .ok());
  DueBatch stale;
  stale.events = {due->events[0], later->events[0]};
  fired = FireEscalations(stale, s.escalator, store);
  EXPECT_EQ(fired.fired, 1);
  ASSERT_EQ(fired.rejected.size(), 1u);
  EXPECT_EQ(fired.rejected[0].first, 0u);
  EXPECT_THAT(std::string(fired.rejected[0].second.message()),
              ::testing::HasSubstr("does not apply to status 'closed_success'"));
}

}  // namespace
}  // namespace cscore
