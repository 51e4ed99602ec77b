// The rules' set_measure and tag actions in the daily run: an override set by day D's rules
// changes the scores of the matching accounts from D + 1 until it expires, a person's
// override (scorecards.yaml) wins over a rule's, an account whose scorecard lacks the measure
// is skipped without failing the run; tags stay; absent accounts keep their state; reruns,
// replays and resumption after a failed step end in the same store; `cscore explain` shows
// both.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cscore/engine/engine.h"
#include "cscore/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::NanSensitiveDoubleEq;
using ::testing::Not;
using ::testing::Pointwise;
using testing_engine::Dump;
using testing_engine::FailingStore;

namespace fs = std::filesystem;

const absl::CivilDay kD0(2024, 5, 6);
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Default scorecard: logins 0..20 and nps -50..50, equal weights. Enterprise accounts are
// scored on logins only, so an nps override cannot apply to them. A person set d's nps.
constexpr char kScorecards[] = R"(scorecards:
  - name: default
    default: true
    measures:
      - {name: logins, metric: logins, weight: 1, ramp: {from: 0, to: 20}}
      - {name: nps, metric: nps, weight: 1, ramp: {from: -50, to: 50}}
  - name: enterprise
    when: {tier: [enterprise]}
    measures:
      - {name: logins, metric: logins, weight: 1, ramp: {from: 0, to: 20}}
overrides:
  - {account: d, measure: nps, value: 10, reason: call with the sponsor, author: csm-1,
     expires: 2030-01-01}
)";

// boost > 0 sets nps to 100 for three days and tags the account; boost > 1 then sets it to 0
// (the later rule wins).
constexpr char kRules[] = R"(rules:
  - name: boost_nps
    when: "boost > 0.0"
    actions:
      - set_measure: {measure: nps, value: 100, expires_in_days: 3}
      - tag: boosted
  - name: cap_nps
    when: "boost > 1.0"
    actions:
      - set_measure: {measure: nps, value: 0, expires_in_days: 2}
)";

struct Row {
  std::string id;
  std::string tier = "smb";
  double boost = 0;
};

// Every account logs in 10 times (sub-score 50) with an nps of 0 (sub-score 50).
AccountFrame Snapshot(const std::vector<Row>& rows) {
  std::vector<std::string> ids, tier;
  std::vector<double> logins, nps, boost;
  for (const Row& r : rows) {
    ids.push_back(r.id);
    tier.push_back(r.tier);
    logins.push_back(10);
    nps.push_back(0);
    boost.push_back(r.boost);
  }
  FrameBuilder b(ids);
  b.AddCategorical("tier", tier);
  b.AddFloat64("logins", logins);
  b.AddFloat64("nps", nps);
  b.AddFloat64("boost", boost);
  auto f = std::move(b).Build();
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

// a, c (enterprise) and d are boosted on day 0 only; b never.
std::vector<Row> BookOf(int d) {
  const double boost = d == 0 ? 1 : 0;
  return {{"a", "smb", boost}, {"b", "smb", 0}, {"c", "enterprise", boost}, {"d", "smb", boost}};
}

class RuleActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cscore_rule_actions_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "config");
    std::ofstream(dir_ / "config" / "scorecards.yaml") << kScorecards;
    std::ofstream(dir_ / "config" / "rules.yaml") << kRules;
    auto o = LoadEngineOptions((dir_ / "config").string());
    ASSERT_TRUE(o.ok()) << o.status();
    options_ = *std::move(o);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::unique_ptr<SqliteStore> Open(const std::string& name) {
    auto s = SqliteStore::Open(Path(name));
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  RunReport Run(Store& store, const std::vector<Row>& rows, absl::CivilDay day) {
    Engine engine(store, options_);
    auto r = engine.Run(Snapshot(rows), day);
    EXPECT_TRUE(r.ok()) << FormatDay(day) << ": " << r.status();
    return r.ok() ? *r : RunReport{};
  }
  RunReport RunDay(Store& store, int d) { return Run(store, BookOf(d), kD0 + d); }
  // The overall score of every registered account on `day`, in registration order.
  static std::vector<double> Scores(const Store& store, absl::CivilDay day) {
    auto v = store.LoadSeries("score/overall", day);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::vector<double>{};
  }
  static nlohmann::json Summary(const Store& store, absl::CivilDay day, std::string_view step) {
    auto s = store.LoadStepSummary(day, step);
    EXPECT_TRUE(s.ok() && s->has_value()) << step;
    return s.ok() && s->has_value() ? nlohmann::json::parse(**s) : nlohmann::json::object();
  }

  fs::path dir_;
  EngineOptions options_;
};

TEST_F(RuleActionsTest, SetMeasureChangesTheNextDaysScoresOfTheMatchingAccountsUntilItExpires) {
  auto store = Open("cs.db");
  const RunReport r0 = RunDay(*store, 0);
  EXPECT_EQ(r0.rules.measures_set, 3);  // a, c and d
  EXPECT_EQ(r0.rules.tagged, 3);
  // Health runs before the rules: day 0's scores know nothing of the overrides yet. d's
  // nps is a person's 10 (sub-score 10): (50 + 10) / 2.
  EXPECT_THAT(Scores(*store, kD0), ElementsAre(50, 50, 50, 30));

  // Set on day 0 for 3 days: in force on days 1 and 2, gone on day 3.
  for (int d = 1; d <= 4; ++d) RunDay(*store, d);
  EXPECT_THAT(Scores(*store, kD0 + 1), ElementsAre(75, 50, 50, 30));
  EXPECT_THAT(Scores(*store, kD0 + 2), ElementsAre(75, 50, 50, 30));
  EXPECT_THAT(Scores(*store, kD0 + 3), ElementsAre(50, 50, 50, 30));
  EXPECT_THAT(Scores(*store, kD0 + 4), ElementsAre(50, 50, 50, 30));

  // c's enterprise scorecard has no nps: skipped, counted, and the run went on.
  const nlohmann::json h1 = Summary(*store, kD0 + 1, "health");
  EXPECT_EQ(h1["rule_overrides"], 2);  // a and d (d's is overruled by the person's)
  EXPECT_EQ(h1["rule_overrides_skipped"], 1);
  EXPECT_EQ(Summary(*store, kD0 + 3, "health")["rule_overrides"], 0);

  // The state after each day: what the next run scores with.
  auto a0 = LoadAccountRuleState(*store, kD0, "a");
  ASSERT_TRUE(a0.ok()) << a0.status();
  ASSERT_EQ(a0->overrides.size(), 1u);
  EXPECT_EQ(a0->overrides[0].measure, "nps");
  EXPECT_EQ(a0->overrides[0].value, 100);
  EXPECT_EQ(a0->overrides[0].expires, kD0 + 3);
  EXPECT_EQ(a0->overrides[0].rule, "boost_nps");
  EXPECT_THAT(LoadAccountRuleState(*store, kD0, "b")->overrides, IsEmpty());
  EXPECT_EQ(LoadAccountRuleState(*store, kD0 + 1, "a")->overrides.size(), 1u);
  // Expiring at the start of day 3, it is not carried past day 2's run.
  EXPECT_THAT(LoadAccountRuleState(*store, kD0 + 2, "a")->overrides, IsEmpty());
  EXPECT_EQ(store->LoadSeries("override/nps", kD0 + 2).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadAccountRuleState(*store, kD0, "zed").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RuleActionsTest, AFiringRuleRenewsTheOverrideAndTheLaterRuleWins) {
  auto store = Open("cs.db");
  Run(*store, {{"a", "smb", 1}, {"b", "smb", 0}}, kD0);
  // Day 1: a fires again (renewed until day 4); b fires both rules: cap_nps, listed later,
  // sets nps to 0 until day 3.
  const RunReport r1 = Run(*store, {{"a", "smb", 1}, {"b", "smb", 2}}, kD0 + 1);
  EXPECT_EQ(r1.rules.measures_set, 2);  // one per (account, measure)
  EXPECT_EQ(r1.rules.tagged, 1);        // b; a already was
  for (int d = 2; d <= 4; ++d) Run(*store, {{"a", "smb", 0}, {"b", "smb", 0}}, kD0 + d);
  EXPECT_THAT(Scores(*store, kD0 + 1), ElementsAre(75, 50));
  EXPECT_THAT(Scores(*store, kD0 + 2), ElementsAre(75, 25));
  EXPECT_THAT(Scores(*store, kD0 + 3), ElementsAre(75, 50));
  EXPECT_THAT(Scores(*store, kD0 + 4), ElementsAre(50, 50));
  auto b1 = LoadAccountRuleState(*store, kD0 + 1, "b");
  ASSERT_TRUE(b1.ok()) << b1.status();
  ASSERT_EQ(b1->overrides.size(), 1u);
  EXPECT_EQ(b1->overrides[0].rule, "cap_nps");
  EXPECT_EQ(b1->overrides[0].expires, kD0 + 3);
}

TEST_F(RuleActionsTest, TagsStayAndAccountsAbsentForADayKeepTheirState) {
  auto store = Open("cs.db");
  RunDay(*store, 0);
  // a is missing from day 1's export and back on day 2.
  const RunReport r1 =
      Run(*store, {{"b", "smb", 1}, {"c", "enterprise", 0}, {"d", "smb", 0}}, kD0 + 1);
  EXPECT_EQ(r1.rules.tagged, 1);  // b
  Run(*store, BookOf(2), kD0 + 2);
  EXPECT_EQ(Scores(*store, kD0 + 2)[0], 75);  // a's override outlived its absence
  for (int d = 3; d <= 6; ++d) RunDay(*store, d);
  // Nothing removes a tag.
  EXPECT_THAT(*store->LoadSeries("tag/boosted", kD0 + 6), ElementsAre(1, 1, 1, 1));
  EXPECT_THAT(*store->LoadSeries("tag/boosted", kD0),
              Pointwise(NanSensitiveDoubleEq(), std::vector<double>{1, kNaN, 1, 1}));
  auto b0 = LoadAccountRuleState(*store, kD0, "b");
  ASSERT_TRUE(b0.ok()) << b0.status();
  EXPECT_THAT(b0->tags, IsEmpty());
  EXPECT_THAT(LoadAccountRuleState(*store, kD0 + 6, "b")->tags, ElementsAre("boosted"));
  EXPECT_EQ(Summary(*store, kD0 + 6, "rules")["tags_held"], 4);
  EXPECT_EQ(RunDay(*store, 7).rules.tagged, 0);
}

TEST_F(RuleActionsTest, RerunningADayChangesNothing) {
  auto store = Open("cs.db");
  const RunReport r0 = RunDay(*store, 0);
  const std::string before = Dump(Path("cs.db"));
  const RunReport again = RunDay(*store, 0);
  EXPECT_TRUE(again.from_store);
  EXPECT_EQ(again.ToJson(), r0.ToJson());
  EXPECT_EQ(again.rules.measures_set, 3);
  EXPECT_EQ(Dump(Path("cs.db")), before);
}

TEST_F(RuleActionsTest, ReplayingTheDaysInOrderIntoAnEmptyStoreReproducesTheState) {
  std::vector<std::string> reports;
  {
    auto store = Open("a.db");
    for (int d = 0; d < 4; ++d) reports.push_back(RunDay(*store, d).ToJson());
  }
  auto replay = Open("b.db");
  for (int d = 0; d < 4; ++d) EXPECT_EQ(RunDay(*replay, d).ToJson(), reports[d]) << "day " << d;
  replay.reset();
  EXPECT_EQ(Dump(Path("b.db")), Dump(Path("a.db")));
}

TEST_F(RuleActionsTest, AFailureBetweenAnyTwoStepsResumesToTheUninterruptedResult) {
  // Day 1 scores with day 0's overrides and carries them forward.
  std::vector<std::string> reference_reports;
  {
    auto ref = Open("reference.db");
    for (int d = 0; d < 3; ++d) reference_reports.push_back(RunDay(*ref, d).ToJson());
  }
  const std::string reference = Dump(Path("reference.db"));
  for (const char* step : {"ingest", "health", "rules", "timed", "report"}) {
    SCOPED_TRACE(step);
    const std::string name = StrCat("fail_", step, ".db");
    auto store = Open(name);
    RunDay(*store, 0);
    {
      FailingStore failing(*store, step);
      Engine engine(failing, options_);
      auto r = engine.Run(Snapshot(BookOf(1)), kD0 + 1);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    }
    EXPECT_EQ(RunDay(*store, 1).ToJson(), reference_reports[1]);
    EXPECT_EQ(RunDay(*store, 2).ToJson(), reference_reports[2]);
    store.reset();
    EXPECT_EQ(Dump(Path(name)), reference);
  }
}

TEST_F(RuleActionsTest, ExplainShowsTheAccountsOverridesAndTags) {
  {
    auto store = Open("cs.db");
    RunDay(*store, 0);
  }
  testing_engine::CliResult r =
      testing_engine::RunCli({"explain", "--db", Path("cs.db"), "--account", "a", "--json"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["overrides"].size(), 1u);
  EXPECT_EQ(j["overrides"][0]["measure"], "nps");
  EXPECT_EQ(j["overrides"][0]["value"], 100.0);
  EXPECT_EQ(j["overrides"][0]["until"], FormatDay(kD0 + 3));
  EXPECT_EQ(j["overrides"][0]["rule"], "boost_nps");
  EXPECT_EQ(j["tags"], nlohmann::json::array({"boosted"}));
  // The state's series are not listed as metrics.
  EXPECT_FALSE(j["series"].contains("override/nps"));
  EXPECT_FALSE(j["series"].contains("tag/boosted"));
  EXPECT_TRUE(j["series"].contains("score/overall"));

  r = testing_engine::RunCli({"explain", "--db", Path("cs.db"), "--account", "a"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("measure overrides set by rules"));
  EXPECT_THAT(r.out, HasSubstr(StrCat("100.00 until ", FormatDay(kD0 + 3), " (rule boost_nps)")));
  EXPECT_THAT(r.out, HasSubstr("tags: boosted"));
  r = testing_engine::RunCli({"explain", "--db", Path("cs.db"), "--account", "b"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("tags:")));
}

}  // namespace
}  // namespace cscore
