#include "cscore/store/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cscore_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "cs.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteStore> OpenOrDie() {
    auto s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Runs SQL on the file directly, bypassing the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  int64_t RawCount(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string sql = "SELECT count(*) FROM " + table;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
};

const absl::CivilDay kDay(2024, 3, 1);

AuditRow Audit(int64_t seq, int64_t cta, std::string event) {
  return {seq,   DayStart(kDay),     cta,       "acme",       std::move(event),
          "New", "Work in progress", "csm.ann", "usage drop", "{}"};
}

TEST_F(SqliteStoreTest, MigratesAnEmptyFileToTheCurrentSchema) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
  EXPECT_EQ(RawCount("schema_version"), SqliteStore::kSchemaVersion);
  EXPECT_TRUE(store->IntegrityCheck().ok());
  store.reset();
  // Reopening runs no migration twice.
  store = OpenOrDie();
  EXPECT_EQ(RawCount("schema_version"), SqliteStore::kSchemaVersion);
}

TEST_F(SqliteStoreTest, MigratesAVersionOneFileAndKeepsItsData) {
  {
    auto store = OpenOrDie();
    StepWrite w{.date = kDay, .step = "ingest", .new_accounts = {"acme"}};
    ASSERT_TRUE(store->Commit(w).ok());
  }
  // Turn the file back into what version 1 wrote.
  RawExec(
      "DROP INDEX audit_cta; DROP INDEX audit_account; ALTER TABLE journal DROP COLUMN summary; "
      "ALTER TABLE escalations DROP COLUMN policy_id; ALTER TABLE escalations DROP COLUMN "
      "next_step; ALTER TABLE escalations DROP COLUMN arr; ALTER TABLE escalations DROP COLUMN "
      "tier; ALTER TABLE escalations DROP COLUMN flags; "
      "DELETE FROM schema_version WHERE version > 1;");
  ASSERT_EQ(RawCount("sqlite_master WHERE name = 'audit_cta'"), 0);
  auto store = OpenOrDie();
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
  EXPECT_EQ(RawCount("sqlite_master WHERE name = 'audit_cta'"), 1);
  EXPECT_EQ(RawCount("pragma_table_info('journal') WHERE name = 'summary'"), 1);
  EXPECT_EQ(RawCount("pragma_table_info('escalations') WHERE name IN ('policy_id', 'next_step', "
                     "'arr', 'tier', 'flags')"),
            5);
  // Rows journaled before version 3 read back with an empty summary.
  EXPECT_EQ(**store->LoadStepSummary(kDay, "ingest"), "{}");
  EXPECT_THAT(*store->Accounts(), ElementsAre("acme"));
}

TEST_F(SqliteStoreTest, RefusesAFileFromANewerVersion) {
  { OpenOrDie(); }
  RawExec("INSERT INTO schema_version VALUES(99)");
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("schema version 99"));
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  std::ofstream(path_) << std::string(8192, 'x');
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a database"));
}

TEST_F(SqliteStoreTest, RoundTripsEveryKindOfRow) {
  auto store = OpenOrDie();
  StepWrite w{.date = kDay, .step = "ingest"};
  w.new_accounts = {"acme", "globex"};
  w.series = {{"metric/logins", {3.5, std::nan("")}}};
  w.audit = {Audit(1, 7, "open"), Audit(2, 7, "start")};
  w.escalations = {{7, 3, 1, 100, 200, 0, 0}};
  w.sponsors = {{"acme", "vp.kim", 30, 100, 2692000}};
  w.reentry = {{"usage_drop", "acme", 100, 2, 50}};
  w.report_json = R"({"date":"2024-03-01"})";
  w.summary_json = R"({"new_accounts":2})";
  ASSERT_TRUE(store->Commit(w).ok());
  // A later day registers one more account: older series read back padded with NaN.
  StepWrite w2{.date = kDay + 1, .step = "ingest", .new_accounts = {"initech"}};
  w2.series = {{"metric/logins", {4, 5, 6}}};
  ASSERT_TRUE(store->Commit(w2).ok());

  store.reset();
  store = OpenOrDie();
  EXPECT_THAT(*store->Accounts(), ElementsAre("acme", "globex", "initech"));
  auto day1 = store->LoadSeries("metric/logins", kDay);
  ASSERT_TRUE(day1.ok());
  ASSERT_EQ(day1->size(), 3u);
  EXPECT_EQ((*day1)[0], 3.5);
  EXPECT_TRUE(std::isnan((*day1)[1]));
  EXPECT_TRUE(std::isnan((*day1)[2]));
  EXPECT_THAT(*store->LoadSeries("metric/logins", kDay + 1), ElementsAre(4, 5, 6));
  EXPECT_EQ(store->LoadSeries("metric/logins", kDay + 2).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(*store->SeriesNames(kDay), ElementsAre("metric/logins"));
  EXPECT_TRUE(store->SeriesNames(kDay + 5)->empty());
  EXPECT_THAT(*store->SeriesDays("metric/logins", kDay - 10, kDay + 10),
              ElementsAre(kDay, kDay + 1));
  EXPECT_THAT(*store->LoadAudit(), ElementsAre(Audit(1, 7, "open"), Audit(2, 7, "start")));
  EXPECT_THAT(*store->LoadAudit(1), ElementsAre(Audit(2, 7, "start")));
  EXPECT_THAT(*store->LoadEscalations(), ElementsAre(EscalationRow{7, 3, 1, 100, 200, 0, 0}));
  EXPECT_THAT(*store->LoadSponsors(), ElementsAre(SponsorRow{"acme", "vp.kim", 30, 100, 2692000}));
  EXPECT_THAT(*store->LoadReentry(), ElementsAre(ReentryRow{"usage_drop", "acme", 100, 2, 50}));
  EXPECT_EQ(**store->LoadReport(kDay), R"({"date":"2024-03-01"})");
  EXPECT_FALSE(store->LoadReport(kDay + 1)->has_value());
  EXPECT_EQ(**store->LastCompletedDay(), kDay);
  EXPECT_EQ(**store->LastStartedDay(), kDay + 1);
  EXPECT_TRUE(*store->IsCommitted(kDay, "ingest"));
  EXPECT_FALSE(*store->IsCommitted(kDay, "score"));
  EXPECT_EQ(**store->LoadStepSummary(kDay, "ingest"), R"({"new_accounts":2})");
  EXPECT_FALSE(store->LoadStepSummary(kDay, "score")->has_value());
}

TEST_F(SqliteStoreTest, UpsertsKeyedState) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "a", .reentry = {{"r", "acme", 1, 1, 0}}}).ok());
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "b", .reentry = {{"r", "acme", 9, 2, 0}}}).ok());
  EXPECT_THAT(*store->LoadReentry(), ElementsAre(ReentryRow{"r", "acme", 9, 2, 0}));
}

TEST_F(SqliteStoreTest, ACommittedStepIsNotWrittenTwice) {
  auto store = OpenOrDie();
  StepWrite w{.date = kDay, .step = "ingest", .new_accounts = {"acme"}};
  ASSERT_TRUE(store->Commit(w).ok());
  absl::Status again = store->Commit(w);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.message()), HasSubstr("step 'ingest' of 2024-03-01"));
  EXPECT_THAT(*store->Accounts(), ElementsAre("acme"));
}

TEST_F(SqliteStoreTest, AStepThatFailsMidWayLeavesNothingBehind) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "s0", .audit = {Audit(1, 1, "open")}}).ok());
  StepWrite w{.date = kDay, .step = "s1"};
  w.new_accounts = {"acme", "globex"};
  w.series = {{"metric/logins", {1, 2}}};
  w.sponsors = {{"acme", "vp.kim", 30, 0, 0}};
  // The accounts and the series are written before the audit rows; seq 5 leaves a gap.
  w.audit = {Audit(2, 1, "start"), Audit(5, 1, "close")};
  absl::Status s = store->Commit(w);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("continues at 3"));
  EXPECT_TRUE(store->Accounts()->empty());
  EXPECT_EQ(RawCount("series"), 0);
  EXPECT_EQ(RawCount("audit"), 1);
  EXPECT_TRUE(store->LoadSponsors()->empty());
  EXPECT_FALSE(*store->IsCommitted(kDay, "s1"));
  // The same step, corrected, then commits.
  w.audit[1].seq = 3;
  EXPECT_TRUE(store->Commit(w).ok());
  EXPECT_EQ(RawCount("audit"), 3);
  EXPECT_TRUE(store->IntegrityCheck().ok());
}

TEST_F(SqliteStoreTest, DuplicateAccountRollsBackTheStep) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "a", .new_accounts = {"acme"}}).ok());
  absl::Status s = store->Commit({.date = kDay, .step = "b", .new_accounts = {"x", "acme"}});
  EXPECT_THAT(std::string(s.message()), HasSubstr("account 'acme' is already registered"));
  EXPECT_THAT(*store->Accounts(), ElementsAre("acme"));
  EXPECT_FALSE(*store->IsCommitted(kDay, "b"));
}

TEST_F(SqliteStoreTest, AWriteOutsideTheRunIsNotJournaledAndContinuesTheLog) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "rules", .audit = {Audit(1, 1, "open")}}).ok());
  StepWrite person{.date = kDay + 3, .step = "cta transition", .journaled = false};
  person.audit = {Audit(2, 1, "start")};
  ASSERT_TRUE(store->Commit(person).ok());
  // Twice is fine (no journal key); the log decides what may follow.
  person.audit = {Audit(3, 1, "flag")};
  ASSERT_TRUE(store->Commit(person).ok());
  EXPECT_EQ(RawCount("journal"), 1);
  EXPECT_EQ(**store->LastStartedDay(), kDay);
  EXPECT_EQ(store->LoadAudit(0)->size(), 3u);
  // A writer that read the log before those rows were added is refused whole.
  absl::Status stale = store->Commit({.date = kDay + 1,
                                      .step = "rules",
                                      .new_accounts = {"late"},
                                      .audit = {Audit(2, 1, "close")}});
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->Accounts()->empty());
  EXPECT_FALSE(*store->IsCommitted(kDay + 1, "rules"));
}

TEST_F(SqliteStoreTest, KeepsEscalationEpisodesAndRemovesSponsors) {
  auto store = OpenOrDie();
  EscalationRow e{7, 2, 1, 100, 200, 150, 0, "flagged", 1, 600000, "enterprise", 3};
  ASSERT_TRUE(store
                  ->Commit({.date = kDay,
                            .step = "a",
                            .escalations = {e},
                            .sponsors = {{"acme", "ceo", 30, 1, 2}, {"globex", "cro", 90, 1, 3}}})
                  .ok());
  EXPECT_THAT(*store->LoadEscalations(), ElementsAre(e));
  ASSERT_TRUE(store->Commit({.date = kDay, .step = "b", .sponsors_removed = {"acme"}}).ok());
  EXPECT_THAT(*store->LoadSponsors(), ElementsAre(SponsorRow{"globex", "cro", 90, 1, 3}));
}

TEST(DayTest, ParsesAndFormatsRealDatesOnly) {
  EXPECT_EQ(*ParseDay("2024-02-29"), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(FormatDay(absl::CivilDay(2024, 2, 29)), "2024-02-29");
  EXPECT_FALSE(ParseDay("2023-02-29").ok());
  EXPECT_FALSE(ParseDay("2024-13-01").ok());
  EXPECT_FALSE(ParseDay("2024-03-01x").ok());
  EXPECT_FALSE(ParseDay("").ok());
  EXPECT_EQ(DayStart(absl::CivilDay(1970, 1, 2)), 86400);
}

}  // namespace
}  // namespace cscore
