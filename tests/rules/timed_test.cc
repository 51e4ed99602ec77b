#include "cscore/rules/timed.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memory_ctas.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t Seconds(absl::CivilDay d) { return (d - absl::CivilDay(1970, 1, 1)) * 86400 + 3600; }

AccountFrame Book() {
  FrameBuilder b({"new", "older", "none"});
  b.AddTimestamp("start_date",
                 {Seconds(absl::CivilDay(2026, 10, 1)), Seconds(absl::CivilDay(2025, 8, 31)), 0},
                 {1, 1, 0});
  b.AddFloat64("arr", {1, 2, 3});
  return *std::move(b).Build();
}

TimedCtaDefs Defs() {
  TimedCtaDefs defs;
  MilestoneDef m;
  m.name = "onboarding";
  m.start_column = "start_date";
  defs.milestones.push_back(m);
  QbrDef q;
  q.start_column = "start_date";
  defs.qbrs.push_back(q);
  defs.check_ins = CheckInDef{};
  return defs;
}

std::vector<std::string> Describe(const std::vector<TimedIntent>& intents) {
  std::vector<std::string> out;
  for (const TimedIntent& in : intents) {
    out.push_back(StrCat(in.account, " ", in.reason, " due ", absl::FormatCivilTime(in.due),
                         in.owner.empty() ? "" : StrCat(" ", in.owner)));
  }
  return out;
}

TEST(TimedCtas, MilestonesOpenWithinTheirLeadWindow) {
  AccountFrame f = Book();
  auto timed = TimedCtas::Compile(Defs(), f.schema());
  ASSERT_TRUE(timed.ok()) << timed.status();
  testing::MemoryCtas ctas;
  RuleState state;
  // Day 30 after Oct 1 is Oct 31; its window opens Oct 24.
  auto before = timed->Evaluate(f, {}, absl::CivilDay(2026, 10, 23), ctas, state);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->empty());
  auto in_window = timed->Evaluate(f, {}, absl::CivilDay(2026, 10, 24), ctas, state);
  ASSERT_TRUE(in_window.ok());
  EXPECT_THAT(Describe(*in_window), ElementsAre("new Onboarding day 30 due 2026-10-31 csm"));
  // Opened (or still open): nothing more until the next milestone.
  state.RecordFired("onboarding|Onboarding day 30", "new", absl::CivilDay(2026, 10, 24));
  auto later = timed->Evaluate(f, {}, absl::CivilDay(2026, 10, 30), ctas, state);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
}

TEST(TimedCtas, QbrFollowsTheAnniversaryCadenceClampedToMonthEnds) {
  AccountFrame f = Book();
  auto timed = TimedCtas::Compile(Defs(), f.schema());
  ASSERT_TRUE(timed.ok());
  testing::MemoryCtas ctas;
  RuleState state;
  // "older" started Aug 31 2025: QBRs fall on Nov 30, Feb 28, May 31, Aug 31, Nov 30 2026.
  auto run = timed->Evaluate(f, {}, absl::CivilDay(2026, 11, 9), ctas, state);
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*run), ElementsAre("older Quarterly business review due 2026-11-30 csm"));
  ctas.Add({"older", "Activity", "Quarterly business review", RiskDomain::kNone, false});
  auto deduped = timed->Evaluate(f, {}, absl::CivilDay(2026, 11, 10), ctas, state);
  ASSERT_TRUE(deduped.ok());
  EXPECT_TRUE(deduped->empty());
}

TEST(TimedCtas, CheckInsFollowTheSponsorCadence) {
  AccountFrame f = Book();
  auto timed = TimedCtas::Compile(Defs(), f.schema());
  ASSERT_TRUE(timed.ok());
  testing::MemoryCtas ctas;
  RuleState state;
  std::vector<SponsorCadence> sponsors = {{"none", "vp_sales", 1}, {"older", "ceo", 3}};
  auto run = timed->Evaluate(f, sponsors, absl::CivilDay(2026, 12, 5), ctas, state);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(Describe(*run), ElementsAre("older Executive check-in due 2026-12-31 ceo",
                                          "none Executive check-in due 2026-12-31 vp_sales"));
  std::vector<SponsorCadence> unknown = {{"ghost", "ceo", 3}};
  EXPECT_THAT(
      std::string(
          timed->Evaluate(f, unknown, absl::CivilDay(2026, 12, 5), ctas, state).status().message()),
      HasSubstr("account 'ghost'"));
  std::vector<SponsorCadence> weekly = {{"new", "ceo", 2}};
  EXPECT_FALSE(timed->Evaluate(f, weekly, absl::CivilDay(2026, 12, 5), ctas, state).ok());
}

TEST(TimedCtas, ApplyOpensOnceAndARerunOpensNothing) {
  AccountFrame f = Book();
  auto timed = TimedCtas::Compile(Defs(), f.schema());
  ASSERT_TRUE(timed.ok());
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  RuleState state;
  CtaStoreLookup lookup(store);
  std::vector<SponsorCadence> sponsors = {{"older", "ceo", 3}};
  const absl::CivilDay day(2026, 11, 9);
  auto run = timed->Evaluate(f, sponsors, day, lookup, state);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(ApplyTimedIntents(*run, day, store, state), 2);
  EXPECT_EQ(store.owner(*store.FindOpen("older", "Activity", "Executive check-in")), "ceo");
  auto rerun = timed->Evaluate(f, sponsors, day, lookup, state);
  ASSERT_TRUE(rerun.ok());
  EXPECT_TRUE(rerun->empty());
}

TEST(TimedCtas, CompileRejectsBadDefinitions) {
  AccountFrame f = Book();
  TimedCtaDefs d = Defs();
  d.milestones[0].start_column = "arr";
  EXPECT_THAT(std::string(TimedCtas::Compile(d, f.schema()).status().message()),
              HasSubstr("not timestamp"));
  d = Defs();
  d.milestones[0].start_column = "started";
  EXPECT_THAT(std::string(TimedCtas::Compile(d, f.schema()).status().message()),
              HasSubstr("unknown start column 'started'"));
  d = Defs();
  d.milestones[0].days = {30, 0};
  EXPECT_FALSE(TimedCtas::Compile(d, f.schema()).ok());
  d = Defs();
  d.qbrs[0].every_months = 0;
  EXPECT_FALSE(TimedCtas::Compile(d, f.schema()).ok());
  d = Defs();
  d.qbrs[0].name = "onboarding";
  EXPECT_THAT(std::string(TimedCtas::Compile(d, f.schema()).status().message()),
              HasSubstr("duplicate timed CTA name"));
}

}  // namespace
}  // namespace cscore
