// A whole day of the CTA side of the daily run (rules to intents, timed CTAs, the store's
// timed lifecycle events), then the same day again: the second run changes nothing.
#include "cscore/risk/cel_predicate.h"
#include "cscore/rules/apply.h"
#include "cscore/rules/timed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

constexpr absl::CivilDay kDay(2026, 11, 23);  // a Monday

struct DayResult {
  int64_t opened = 0, updated = 0, closed = 0, timed_opened = 0, woken = 0, breached = 0;
  size_t intents = 0;
};

DayResult RunDay(const RuleSet& rules, const TimedCtas& timed, const AccountFrame& frame,
                 absl::CivilDay day, CtaStore& store, RuleState& state) {
  DayResult r;
  const TimedResult t = store.FireTimedEvents(absl::FromCivil(day, absl::UTCTimeZone()));
  r.woken = t.woken;
  r.breached = t.breached;
  CtaStoreLookup lookup(store);
  absl::StatusOr<RuleRun> run = rules.Evaluate({frame, nullptr, day}, lookup, state);
  EXPECT_TRUE(run.ok()) << run.status();
  if (!run.ok()) return r;
  r.intents = run->intents.size();
  const ApplyReport report = ApplyIntents(rules, *run, day, store, state);
  EXPECT_TRUE(report.rejected.empty());
  r.opened = report.opened;
  r.updated = report.updated;
  r.closed = report.closed;
  const std::vector<SponsorCadence> sponsors = {{"acme", "ceo", 1}};
  absl::StatusOr<std::vector<TimedIntent>> intents =
      timed.Evaluate(frame, sponsors, day, lookup, state);
  EXPECT_TRUE(intents.ok()) << intents.status();
  if (intents.ok()) r.timed_opened = ApplyTimedIntents(*intents, day, store, state);
  return r;
}

TEST(DailyRun, SameDayTwiceChangesNothing) {
  const int64_t today = (kDay - absl::CivilDay(1970, 1, 1)) * 86400;
  FrameBuilder b({"acme", "globex", "initech"});
  b.AddFloat64("nps", {-20, 50, 10});
  b.AddFloat64("tickets", {30, 0, 12});
  b.AddBool("champion_changed", {1, 0, 0});
  b.AddTimestamp("start_date", {today - 86400 * 25, today - 86400 * 400, today - 86400 * 85});
  AccountFrame frame = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = frame.schema();
  std::vector<RuleDef> defs(3);
  defs[0].name = "detractor";
  defs[0].when = "nps < 0";
  defs[0].actions = {OpenCtaAction{"Risk", "Detractor", RiskDomain::kSentiment, 1, "", "csm", 7},
                     TagAction{"detractor"}};
  defs[1].name = "tickets";
  defs[1].when = "tickets >= 10";
  defs[1].once_every_days = 7;
  defs[1].actions = {OpenCtaAction{"Risk", "Ticket flood", RiskDomain::kSupport, 0, "", "csm", 3},
                     SetMeasureAction{"support", 20, 14}};
  defs[2].name = "champion";
  defs[2].when = "champion_changed";
  defs[2].schedule = *ParseSchedule("on champion_changed");
  defs[2].actions = {OpenCtaAction{"Risk", "Champion left", RiskDomain::kCompany, 1, "", "csm", 5},
                     CloseCtaAction{"Risk", "Detractor", RiskDomain::kNone, "closed_no_action"}};
  auto rules = RuleSet::Compile(defs, CelPredicateCompiler(cel::Environment::ForFrame(frame)), ctx);
  ASSERT_TRUE(rules.ok()) << rules.status();
  TimedCtaDefs timed_defs;
  MilestoneDef m;
  m.name = "onboarding";
  m.start_column = "start_date";
  timed_defs.milestones.push_back(m);
  QbrDef q;
  q.start_column = "start_date";
  timed_defs.qbrs.push_back(q);
  timed_defs.check_ins = CheckInDef{};
  auto timed = TimedCtas::Compile(timed_defs, frame.schema());
  ASSERT_TRUE(timed.ok()) << timed.status();

  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  RuleState state;
  // An earlier CTA, due yesterday, so the day's timed events have work.
  ASSERT_TRUE(store
                  .Open({.account = "globex",
                         .type = "Activity",
                         .reason = "Call",
                         .owner = "ann",
                         .due = absl::FromCivil(kDay - 1, absl::UTCTimeZone())},
                        {.id = "ann", .role = Role::kCsm},
                        absl::FromCivil(kDay - 10, absl::UTCTimeZone()))
                  .ok());

  const DayResult first = RunDay(*rules, *timed, frame, kDay, store, state);
  EXPECT_EQ(first.breached, 1);
  EXPECT_GT(first.opened, 0);
  EXPECT_EQ(first.closed, 0);  // the detractor CTA is opened in the same run, after the close
  // acme's day-30 milestone and monthly check-in; initech's day-90 milestone and its first
  // QBR (Aug 30 + 3 months = Nov 30, inside the 21-day lead).
  EXPECT_EQ(first.timed_opened, 4);
  const std::vector<AuditRecord> log(store.audit().begin(), store.audit().end());
  const std::vector<uint8_t> status(store.status_column().begin(), store.status_column().end());

  const DayResult second = RunDay(*rules, *timed, frame, kDay, store, state);
  EXPECT_EQ(second.intents, 0u);
  EXPECT_EQ(second.opened + second.updated + second.closed + second.timed_opened, 0);
  EXPECT_EQ(second.woken + second.breached, 0);
  ASSERT_EQ(store.audit().size(), log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    const AuditRecord &x = store.audit()[i], &y = log[i];
    ASSERT_TRUE(x.time == y.time && x.t0 == y.t0 && x.cta == y.cta && x.actor == y.actor &&
                x.s0 == y.s0 && x.s1 == y.s1 && x.s2 == y.s2 && x.s3 == y.s3 && x.kind == y.kind &&
                x.event == y.event && x.from == y.from && x.to == y.to && x.role == y.role &&
                x.a == y.a && x.b == y.b && x.c == y.c)
        << "record " << i;
  }
  EXPECT_THAT(std::vector<uint8_t>(store.status_column().begin(), store.status_column().end()),
              ::testing::ElementsAreArray(status));

  // The next day the champion rule closes the detractor CTA with the chosen status.
  const DayResult next = RunDay(*rules, *timed, frame, kDay + 1, store, state);
  EXPECT_EQ(next.closed, 1);
}

}  // namespace
}  // namespace cscore
