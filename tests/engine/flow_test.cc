// The daily run over the fixture book (tests/engine/fixture/config) for several days: CTAs
// from rules, dedup, snooze, escalation after the timeout, sponsor check-ins, milestones;
// idempotence, replay, resumption after a failure between any two steps, and authorization.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cscore/engine/ctas.h"
#include "cscore/engine/engine.h"
#include "cscore/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing_engine::Account;
using testing_engine::Dump;
using testing_engine::FailingStore;
using testing_engine::Frame;

const absl::CivilDay kD0(2024, 3, 4);  // a Monday

absl::Time At(absl::CivilDay day, int hour) {
  return absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), hour),
                         absl::UTCTimeZone());
}

// The book on day `d` (0-based from kD0): a1 barely logs in, a2 is a detractor, a3 drowns in
// tickets until day 4, a4 is a strategic account, a5 reaches its 30-day onboarding milestone
// and its usage falls by three quarters on day 2.
std::vector<Account> BookOf(int d) {
  std::vector<Account> b = {
      {"a1", "csm-1", "smb", 20000, 1, 20, 5, ""},
      {"a2", "csm-2", "smb", 30000, 10, -10, 4, ""},
      {"a3", "csm-1", "enterprise", 600000, 12, 30, d >= 4 ? 1 : 16, ""},
      {"a4", "csm-2", "strategic", 300000, 15, 40, 1, ""},
      {"a5", "csm-1", "smb", 10000, d >= 2 ? 2.0 : 8.0, 10, 4, FormatDay(kD0 - 29)},
  };
  return b;
}

class FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cscore_flow_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto o = LoadEngineOptions(testing_engine::FixtureConfig().string());
    ASSERT_TRUE(o.ok()) << o.status();
    options_ = *std::move(o);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::unique_ptr<SqliteStore> Open(const std::string& name) {
    auto s = SqliteStore::Open(Path(name));
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  RunReport RunDay(Store& store, int d) {
    Engine engine(store, options_);
    auto r = engine.Run(Frame(BookOf(d)), kD0 + d);
    EXPECT_TRUE(r.ok()) << "day " << d << ": " << r.status();
    return r.ok() ? *r : RunReport{};
  }
  std::unique_ptr<CtaBook> Load(const Store& store) {
    auto b = CtaBook::Load(store, options_);
    EXPECT_TRUE(b.ok()) << b.status();
    return std::move(*b);
  }
  // The id of the (only) CTA of an account with this reason.
  static CtaId Find(const CtaStore& s, std::string_view account, std::string_view reason) {
    for (CtaId id = 0; id < s.size(); ++id) {
      if (s.account(id) == account && s.reason(id) == reason) return id;
    }
    ADD_FAILURE() << "no CTA '" << reason << "' for " << account;
    return -1;
  }

  std::filesystem::path dir_;
  EngineOptions options_;
};

TEST_F(FlowTest, SeveralDaysOfRulesSnoozeEscalationSponsorsAndMilestones) {
  auto store = Open("cs.db");

  // Day 0: three rule CTAs, the milestone, and a check-in for each sponsored account.
  RunReport r0 = RunDay(*store, 0);
  EXPECT_THAT(r0.steps,
              ElementsAre("ingest", "health", "risk", "rules", "timed", "escalation", "report"));
  EXPECT_EQ(r0.accounts, 5);
  EXPECT_EQ(r0.ctas.opened, 6);
  EXPECT_EQ(r0.timed.opened, 3);
  EXPECT_EQ(r0.timed.check_ins, 2);
  EXPECT_EQ(r0.sponsors.assigned, 2);
  EXPECT_EQ(r0.ctas.rejected, 0);
  EXPECT_EQ(r0.risk_red[0], 1);  // habit: a1
  EXPECT_EQ(r0.risk_red[1], 1);  // sentiment: a2
  EXPECT_EQ(r0.risk_red[3], 1);  // support: a3
  EXPECT_EQ(r0.risk_red_accounts, 3);
  EXPECT_EQ(r0.health.green + r0.health.yellow + r0.health.red + r0.health.unscored, 5);
  {
    auto book = Load(*store);
    const CtaStore& s = book->ctas();
    const CtaId low = Find(s, "a1", "Low usage");
    EXPECT_EQ(s.owner(low), "csm-1");  // the account's CSM, not the role name
    EXPECT_EQ(s.task_count(low), 2);   // the playbook's tasks
    EXPECT_EQ(s.owner(Find(s, "a5", "Onboarding day 30")), "csm-1");
    const CtaId check_in = Find(s, "a4", "Executive check-in");
    EXPECT_THAT(std::string(s.owner(check_in)), ::testing::AnyOf("vp-cs", "ceo"));
    auto sponsors = store->LoadSponsors();
    ASSERT_TRUE(sponsors.ok());
    ASSERT_EQ(sponsors->size(), 2u);
    EXPECT_EQ((*sponsors)[1].account_id, "a4");
    EXPECT_EQ((*sponsors)[1].cadence_days, 30);  // strategic: monthly
    EXPECT_EQ((*sponsors)[0].cadence_days, 90);  // enterprise: quarterly
    EXPECT_EQ(s.owner(check_in), (*sponsors)[1].sponsor_id);

    // People act after the run: a2's owner snoozes the detractor CTA for three days, a3's
    // owner flags the ticket flood.
    const CtaId detractor = Find(s, "a2", "Detractor");
    auto snoozed =
        book->Transition(*store, {.cta = detractor,
                                  .event = "snooze",
                                  .actor = "csm-2",
                                  .reason = "on holiday",
                                  .at = At(kD0, 12),
                                  .until = absl::FromCivil(kD0 + 3, absl::UTCTimeZone())});
    ASSERT_TRUE(snoozed.ok()) << snoozed.status();
    auto flagged = book->Transition(*store, {.cta = Find(s, "a3", "Ticket flood"),
                                             .event = "flag",
                                             .actor = "csm-1",
                                             .reason = "need engineering",
                                             .at = At(kD0, 12)});
    ASSERT_TRUE(flagged.ok()) << flagged.status();
  }

  // Day 1: dedup updates the open CTAs instead of opening new ones; the snoozed one is
  // silent; the flag reaches level 1 (the owner's team lead); the milestone's due date passed.
  RunReport r1 = RunDay(*store, 1);
  EXPECT_EQ(r1.ctas.opened, 0);
  EXPECT_EQ(r1.ctas.updated, 2);  // a1 low usage, a3 ticket flood: due dates move on
  EXPECT_EQ(r1.rules.suppressed_snoozed, 1);
  EXPECT_EQ(r1.ctas.breached, 1);  // onboarding day 30 was due on day 1
  EXPECT_EQ(r1.ctas.escalated, 1);
  EXPECT_THAT(r1.escalations, ElementsAre("cta 2 -> level 1 (a3)"));
  EXPECT_EQ(r1.timed.opened, 0);  // this month's check-ins exist

  // Day 2: a5's logins fell by 75% over two days: the windowed rule opens a CTA. Level 2 is
  // due two days after the flag (day 2, 12:00): not yet.
  RunReport r2 = RunDay(*store, 2);
  EXPECT_EQ(r2.ctas.opened, 1);
  EXPECT_EQ(r2.ctas.escalated, 0);
  EXPECT_TRUE(r2.escalations.empty());

  // Day 3: the VP is notified; the snooze ends (after the rules, which stay silent today).
  RunReport r3 = RunDay(*store, 3);
  EXPECT_THAT(r3.escalations, ElementsAre("cta 2 -> level 2 (a3)"));
  EXPECT_EQ(r3.ctas.woken, 1);
  EXPECT_EQ(r3.rules.suppressed_snoozed, 1);

  // Day 4: the detractor rule speaks again; the tickets cleared, so their CTA closes and its
  // escalation ends.
  RunReport r4 = RunDay(*store, 4);
  EXPECT_EQ(r4.rules.suppressed_snoozed, 0);
  EXPECT_EQ(r4.ctas.closed, 1);
  EXPECT_EQ(r4.ctas.escalated, 0);
  {
    auto book = Load(*store);
    const CtaStore& s = book->ctas();
    const CtaId flood = Find(s, "a3", "Ticket flood");
    EXPECT_EQ(s.status_name(flood), "closed_success");
    EXPECT_FALSE(s.flagged(flood));
    std::optional<EscalationRow> e = book->Escalation(flood);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->level, 2);
    EXPECT_EQ(e->policy_id, "flagged");
    EXPECT_EQ(e->resolved_at, DayStart(kD0 + 4));
    EXPECT_FALSE(s.snoozed(Find(s, "a2", "Detractor")));
    std::vector<std::string> events;
    for (const AuditRow& row : book->History(flood)) events.push_back(row.event);
    EXPECT_THAT(events, ElementsAre("open", "flag", "update", "escalate", "update", "update",
                                    "escalate", "close_success"));
  }
  EXPECT_EQ(r4.ctas.open, 6);  // seven opened, the ticket flood closed
}

TEST_F(FlowTest, TheSameDayTwiceChangesNothingAndReturnsTheSameReport) {
  auto store = Open("cs.db");
  RunReport first = RunDay(*store, 0);
  const std::string before = Dump(Path("cs.db"));
  RunReport again = RunDay(*store, 0);
  EXPECT_TRUE(again.from_store);
  EXPECT_EQ(again.ToJson(), first.ToJson());
  EXPECT_EQ(Dump(Path("cs.db")), before);
}

TEST_F(FlowTest, ReplayingTheDaysInOrderIntoAnEmptyStoreReproducesTheState) {
  std::vector<std::string> reports;
  {
    auto store = Open("a.db");
    for (int d = 0; d < 5; ++d) reports.push_back(RunDay(*store, d).ToJson());
  }
  auto replay = Open("b.db");
  for (int d = 0; d < 5; ++d) EXPECT_EQ(RunDay(*replay, d).ToJson(), reports[d]) << "day " << d;
  replay.reset();
  EXPECT_EQ(Dump(Path("b.db")), Dump(Path("a.db")));
}

TEST_F(FlowTest, AFailureBetweenAnyTwoStepsResumesToTheUninterruptedResult) {
  // The reference: days 0..3 without interruption (day 3 escalates and wakes the snooze).
  std::vector<std::string> reference_reports;
  {
    auto ref = Open("reference.db");
    for (int d = 0; d < 4; ++d) reference_reports.push_back(RunDay(*ref, d).ToJson());
  }
  const std::string reference = Dump(Path("reference.db"));
  for (const char* step : {"ingest", "health", "risk", "rules", "timed", "escalation", "report"}) {
    SCOPED_TRACE(step);
    const std::string name = StrCat("fail_", step, ".db");
    auto store = Open(name);
    for (int d = 0; d < 3; ++d) RunDay(*store, d);
    {
      FailingStore failing(*store, step);
      Engine engine(failing, options_);
      auto r = engine.Run(Frame(BookOf(3)), kD0 + 3);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
      EXPECT_THAT(std::string(r.status().message()), HasSubstr(StrCat("step '", step, "'")));
    }
    // The next day may not run before this one is finished (a failed ingest left nothing
    // to finish); rerunning it completes it.
    if (std::string_view(step) != "ingest") {
      Engine engine(*store, options_);
      EXPECT_EQ(engine.Run(Frame(BookOf(4)), kD0 + 4).status().code(),
                absl::StatusCode::kFailedPrecondition);
    }
    EXPECT_EQ(RunDay(*store, 3).ToJson(), reference_reports[3]);
    store.reset();
    EXPECT_EQ(Dump(Path(name)), reference);
  }
}

TEST_F(FlowTest, OnlyTheOwnerTheirChainAndAdminsMayFireAndARefusalWritesNothing) {
  auto store = Open("cs.db");
  RunDay(*store, 0);
  auto book = Load(*store);
  const CtaId low = Find(book->ctas(), "a1", "Low usage");  // owned by csm-1
  const std::string before = Dump(Path("cs.db"));

  // Another CSM of the same team is not above the owner.
  auto refused =
      book->Transition(*store, {.cta = low, .event = "start", .actor = "csm-2", .at = At(kD0, 9)});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("may not fire 'start'"));
  auto stranger = book->Transition(
      *store, {.cta = low, .event = "start", .actor = "mallory", .at = At(kD0, 9)});
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);
  // The run's own actors cannot be borrowed.
  EXPECT_FALSE(
      book->Transition(*store,
                       {.cta = low, .event = "close_success", .actor = "rules", .at = At(kD0, 9)})
          .ok());
  EXPECT_EQ(Dump(Path("cs.db")), before);

  // The owner's team lead (up the chain), then the VP above them, then an admin.
  ASSERT_TRUE(
      book->Transition(*store, {.cta = low, .event = "start", .actor = "lead-1", .at = At(kD0, 9)})
          .ok());
  ASSERT_TRUE(
      book->Transition(*store, {.cta = low, .event = "flag", .actor = "vp-cs", .at = At(kD0, 10)})
          .ok());
  auto closed = book->Transition(*store, {.cta = low,
                                          .event = "close_no_action",
                                          .actor = "ops-1",
                                          .reason = "duplicate",
                                          .at = At(kD0, 11)});
  ASSERT_TRUE(closed.ok()) << closed.status();
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].actor, "ops-1");
  EXPECT_EQ((*closed)[0].reason, "duplicate");
  EXPECT_EQ((*closed)[0].time, absl::ToUnixSeconds(At(kD0, 11)));

  // What was written is what a fresh reader (and the next run) sees.
  auto fresh = Load(*store);
  EXPECT_EQ(fresh->ctas().status_name(low), "closed_no_action");
  std::vector<std::string> actors;
  for (const AuditRow& r : fresh->History(low)) actors.push_back(r.actor);
  EXPECT_THAT(actors, ElementsAre("low_usage", "lead-1", "vp-cs", "ops-1"));
  EXPECT_FALSE(store->LastStartedDay().value() > kD0);  // no run step was journaled
}

TEST_F(FlowTest, ACloseByAPersonIsSeenByTheNextRun) {
  auto store = Open("cs.db");
  RunDay(*store, 0);
  {
    auto book = Load(*store);
    ASSERT_TRUE(book->Transition(*store, {.cta = Find(book->ctas(), "a1", "Low usage"),
                                          .event = "close_lost",
                                          .actor = "csm-1",
                                          .at = At(kD0, 15)})
                    .ok());
  }
  // low_usage has no cooldown: the next day opens a new CTA for the same key.
  RunReport r1 = RunDay(*store, 1);
  EXPECT_EQ(r1.ctas.opened, 1);
  auto book = Load(*store);
  int low_usage = 0;
  for (CtaId id = 0; id < book->ctas().size(); ++id) {
    low_usage += book->ctas().account(id) == "a1" && book->ctas().reason(id) == "Low usage";
  }
  EXPECT_EQ(low_usage, 2);
}

TEST_F(FlowTest, ADefinitionThatDoesNotFitTheSnapshotIsRefusedBeforeAnyWrite) {
  auto store = Open("cs.db");
  RunDay(*store, 0);
  const std::string before = Dump(Path("cs.db"));
  // The next day's export lost the column two rules read.
  std::vector<Account> book = BookOf(1);
  std::vector<std::string> ids;
  std::vector<double> logins, nps;
  for (const Account& a : book) {
    ids.push_back(a.id);
    logins.push_back(a.logins);
    nps.push_back(a.nps);
  }
  FrameBuilder b(ids);
  b.AddFloat64("logins", logins);
  b.AddFloat64("nps", nps);
  auto frame = std::move(b).Build();
  ASSERT_TRUE(frame.ok());
  Engine engine(*store, options_);
  auto r = engine.Run(*frame, kD0 + 1);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("open_tickets"));
  EXPECT_EQ(Dump(Path("cs.db")), before);
}

}  // namespace
}  // namespace cscore
