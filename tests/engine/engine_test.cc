#include "cscore/engine/engine.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "cscore/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::NanSensitiveDoubleEq;
using ::testing::Pointwise;

const absl::CivilDay kDay(2024, 3, 1);

AccountFrame Frame(std::vector<std::string> ids, std::vector<double> logins) {
  std::vector<int64_t> tickets(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) tickets[i] = static_cast<int64_t>(i);
  FrameBuilder b(std::move(ids));
  b.AddFloat64("logins", std::move(logins));
  b.AddInt64("tickets", std::move(tickets));
  auto f = std::move(b).Build();
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cscore_engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Open("cs.db");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<SqliteStore> Open(const std::string& name) {
    auto s = SqliteStore::Open((dir_ / name).string());
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(EngineTest, IngestsTheSnapshotAndReportsIt) {
  Engine engine(*store_);
  auto r = engine.Run(Frame({"acme", "globex"}, {3, 4}), kDay);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->date, kDay);
  EXPECT_EQ(r->accounts, 2);
  EXPECT_EQ(r->new_accounts, 2);
  EXPECT_EQ(r->metrics, 2);
  EXPECT_FALSE(r->from_store);
  EXPECT_THAT(r->steps, ElementsAre("ingest", "report"));
  EXPECT_THAT(*store_->Accounts(), ElementsAre("acme", "globex"));
  EXPECT_THAT(*store_->LoadSeries("metric/logins", kDay), ElementsAre(3, 4));
  EXPECT_THAT(*store_->LoadSeries("metric/tickets", kDay), ElementsAre(0, 1));
  EXPECT_EQ(**store_->LastCompletedDay(), kDay);
}

TEST_F(EngineTest, RerunningACompletedDayReturnsTheStoredReportAndWritesNothing) {
  Engine engine(*store_);
  auto first = engine.Run(Frame({"acme", "globex"}, {3, 4}), kDay);
  ASSERT_TRUE(first.ok());
  // Even a different snapshot does not change a completed day.
  auto again = engine.Run(Frame({"acme", "globex", "initech"}, {9, 9, 9}), kDay);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->from_store);
  EXPECT_EQ(again->ToJson(), first->ToJson());
  EXPECT_THAT(*store_->Accounts(), ElementsAre("acme", "globex"));
  EXPECT_THAT(*store_->LoadSeries("metric/logins", kDay), ElementsAre(3, 4));
}

TEST_F(EngineTest, RefusesADayBeforeTheLastCompletedOne) {
  Engine engine(*store_);
  ASSERT_TRUE(engine.Run(Frame({"acme"}, {1}), kDay + 5).ok());
  auto r = engine.Run(Frame({"acme"}, {1}), kDay);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("2024-03-01 is before the last completed run (2024-03-06)"));
}

TEST_F(EngineTest, AnUnfinishedDayMustBeFinishedFirstAndThenResumes) {
  // A run killed after its ingest step: only that step is journaled.
  StepWrite ingest{.date = kDay, .step = "ingest", .new_accounts = {"acme", "globex"}};
  ingest.series = {{"metric/logins", {3, 4}}, {"metric/tickets", {0, 1}}};
  ingest.summary_json = R"({"accounts":2,"new_accounts":2,"metrics":2})";
  ASSERT_TRUE(store_->Commit(ingest).ok());
  Engine engine(*store_);
  auto next = engine.Run(Frame({"acme", "globex"}, {3, 4}), kDay + 1);
  EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(next.status().message()), HasSubstr("run of 2024-03-01 did not finish"));

  auto resumed = engine.Run(Frame({"acme", "globex"}, {3, 4}), kDay);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  // The skipped step still counts in the report, as in an uninterrupted run.
  auto fresh_store = Open("fresh.db");
  auto fresh = Engine(*fresh_store).Run(Frame({"acme", "globex"}, {3, 4}), kDay);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(resumed->ToJson(), fresh->ToJson());
  EXPECT_EQ(resumed->new_accounts, 2);
}

TEST_F(EngineTest, InfiniteMetricIsRefusedAndChangesNothing) {
  Engine engine(*store_);
  auto r =
      engine.Run(Frame({"acme", "globex"}, {3, std::numeric_limits<double>::infinity()}), kDay);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("account 'globex', column 'logins': infinite value"));
  EXPECT_TRUE(store_->Accounts()->empty());
  EXPECT_FALSE(store_->LastStartedDay()->has_value());
}

TEST_F(EngineTest, MissingValuesAndLateAccountsReadBackAsNaN) {
  Engine engine(*store_);
  ASSERT_TRUE(engine.Run(Frame({"acme", "globex"}, {1, std::nan("")}), kDay).ok());
  ASSERT_TRUE(engine.Run(Frame({"initech", "acme"}, {7, 2}), kDay + 1).ok());
  // The history is aligned to the rows of the snapshot it is loaded for.
  AccountFrame today = Frame({"initech", "acme", "globex"}, {7, 2, 0});
  auto h = engine.LoadHistory(today, {"logins"}, kDay + 1, 3);
  ASSERT_TRUE(h.ok()) << h.status();
  auto m = h->Get("logins");
  ASSERT_TRUE(m.ok());
  // Columns: kDay - 1 (never run), kDay, kDay + 1.
  EXPECT_TRUE(std::isnan((*m)(0, 0)));
  EXPECT_TRUE(std::isnan((*m)(0, 1)));  // initech arrived on day 2
  EXPECT_EQ((*m)(0, 2), 7);
  EXPECT_EQ((*m)(1, 1), 1);
  EXPECT_EQ((*m)(1, 2), 2);
  EXPECT_TRUE(std::isnan((*m)(2, 1)));  // globex's value was missing
  EXPECT_TRUE(std::isnan((*m)(2, 2)));  // globex was absent on day 2
}

TEST_F(EngineTest, ReplayingDaysInOrderRebuildsTheSameHistory) {
  std::vector<AccountFrame> days = {Frame({"a", "b"}, {1, 2}), Frame({"b", "c"}, {3, 4}),
                                    Frame({"c", "a", "d"}, {5, 6, 7})};
  Engine engine(*store_);
  std::vector<std::string> reports;
  for (size_t i = 0; i < days.size(); ++i) {
    auto r = engine.Run(days[i], kDay + static_cast<int>(i));
    ASSERT_TRUE(r.ok());
    reports.push_back(r->ToJson());
  }
  auto replay_store = Open("replay.db");
  Engine replay(*replay_store);
  for (size_t i = 0; i < days.size(); ++i) {
    auto r = replay.Run(days[i], kDay + static_cast<int>(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->ToJson(), reports[i]);
  }
  EXPECT_EQ(*replay_store->Accounts(), *store_->Accounts());
  for (size_t i = 0; i < days.size(); ++i) {
    const absl::CivilDay day = kDay + static_cast<int>(i);
    EXPECT_THAT(*replay_store->LoadSeries("metric/logins", day),
                Pointwise(NanSensitiveDoubleEq(), *store_->LoadSeries("metric/logins", day)));
  }
}

TEST(RunReportTest, JsonRoundTripsAndNamesTheEightDomains) {
  RunReport r;
  r.date = kDay;
  r.accounts = 10;
  r.health = {1, 2, 3, 4};
  r.risk_red[3] = 5;
  r.ctas = {6, 7, 8, 9};
  r.new_red_accounts = {"acme"};
  r.steps = {"ingest", "report"};
  std::string json = r.ToJson();
  EXPECT_THAT(json, HasSubstr(R"("risk":{"habit":0,"sentiment":0,"company":0,"support":5,)"
                              R"("implementation":0,"readiness":0,"product":0,"defect":0})"));
  EXPECT_THAT(json, HasSubstr(R"("ctas":{"opened":6,"updated":7,"closed":8,"escalated":9,)"));
  auto back = RunReport::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), json);
  EXPECT_FALSE(RunReport::FromJson("{").ok());
  EXPECT_FALSE(RunReport::FromJson(R"({"date":"2024-02-30"})").ok());
}

}  // namespace
}  // namespace cscore
