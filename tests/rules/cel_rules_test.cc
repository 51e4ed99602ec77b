// A sample configuration (tests/rules/testdata, the demo book's first rules and risk
// scorecard) compiled and run through CEL end to end.
#include "cscore/risk/cel_predicate.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/rules/rules_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memory_ctas.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

constexpr absl::CivilDay kMonday(2026, 11, 23);

struct Demo {
  AccountFrame frame;
  MetricHistory history{3, 40};
};

Demo MakeDemo() {
  const int64_t today = (kMonday - absl::CivilDay(1970, 1, 1)) * 86400;
  FrameBuilder b({"acme", "globex", "initech"});
  const std::vector<std::string> segment = {"enterprise", "SMB", "tech-touch"};
  b.AddCategorical("segment", segment);
  b.AddFloat64("nps", {-10, 40, std::nan("")});
  b.AddTimestamp("champion_changed_at", {today + 100, today - 86400 * 30, 0}, {1, 1, 0});
  b.AddFloat64("open_tickets", {20, 1, 4});
  b.AddTimestamp("renewal_date", {today + 86400 * 100, today + 86400 * 300, today});
  b.AddFloat64("seats_purchased", {100, 10, 50});
  b.AddBool("champion_left", {1, 0, 0});
  b.AddFloat64("onboarding_days_late", {0, 20, 0});
  b.AddFloat64("open_sev1_bugs", {0, 0, 2});
  Demo d{*std::move(b).Build()};
  Eigen::MatrixXd logins(3, 40);
  Eigen::MatrixXd seats(3, 40);
  for (int day = 0; day < 40; ++day) {
    logins(0, day) = 100 - 2.0 * day;  // falling fast
    logins(1, day) = 50;
    logins(2, day) = 100 - 2.0 * day;
    seats(0, day) = 50;
    seats(1, day) = 10;
    seats(2, day) = 20;
  }
  EXPECT_TRUE(d.history.AddMetric("logins", logins).ok());
  EXPECT_TRUE(d.history.AddMetric("seats_used", seats).ok());
  return d;
}

TEST(CelRules, SampleRulesCompileAndRun) {
  Demo d = MakeDemo();
  auto defs = LoadRulesFile(std::string(CSCORE_SOURCE_DIR) + "/tests/rules/testdata/rules.yaml");
  ASSERT_TRUE(defs.ok()) << defs.status();
  RuleContext ctx;
  ctx.schema = d.frame.schema();
  ctx.history_metrics = d.history.metric_names();
  auto rules = RuleSet::Compile(
      *std::move(defs), CelPredicateCompiler(cel::Environment::ForFrame(d.frame, &d.history)), ctx);
  ASSERT_TRUE(rules.ok()) << rules.status();
  testing::MemoryCtas ctas;
  auto run = rules->Evaluate({d.frame, &d.history, kMonday}, ctas, RuleState());
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<std::string> got;
  for (const Intent& in : run->intents) {
    got.push_back(StrCat(rules->rule(in.rule).name, " ", IntentKindName(in.kind), " ", in.account));
  }
  // Monday: adoption_drop runs (weekly) for acme (initech is tech-touch); the detractor is
  // acme (initech's NPS is missing: no CTA); acme's champion changed today; the ticket flood
  // is acme's; globex has few tickets (nothing open to close); renewal_prep runs on its
  // 14-day cadence from 2026-01-05 only on matching days.
  EXPECT_THAT(got,
              ::testing::IsSupersetOf({"adoption_drop open acme", "adoption_drop tag acme",
                                       "detractor open acme", "champion_left open acme",
                                       "ticket_flood open acme", "ticket_flood set_measure acme"}));
  for (const std::string& g : got) EXPECT_THAT(g, ::testing::Not(HasSubstr("initech")));
}

TEST(CelRules, CelErrorsPointAtTheYamlCharacter) {
  Demo d = MakeDemo();
  auto defs = ParseRulesYaml(
      "rules:\n  - name: typo\n    when: \"nps < 0 && tickets > 3\"\n    actions: [tag: t]\n",
      "rules.yaml");
  ASSERT_TRUE(defs.ok());
  RuleContext ctx;
  ctx.schema = d.frame.schema();
  auto rules = RuleSet::Compile(*std::move(defs),
                                CelPredicateCompiler(cel::Environment::ForFrame(d.frame)), ctx);
  ASSERT_FALSE(rules.ok());
  // "tickets" starts at CEL column 12, i.e. YAML column 11 + 11.
  EXPECT_THAT(std::string(rules.status().message()), HasSubstr("rules.yaml:3:23: "));
  EXPECT_THAT(std::string(rules.status().message()), HasSubstr("tickets"));
}

TEST(CelRules, SampleRiskScorecardCompilesAndRuns) {
  Demo d = MakeDemo();
  auto def =
      LoadRiskScorecardFile(std::string(CSCORE_SOURCE_DIR) + "/tests/rules/testdata/risk.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  auto card = RiskScorecard::Compile(
      *def, CelPredicateCompiler(cel::Environment::ForFrame(d.frame, &d.history)), d.frame.schema(),
      d.history.metric_names());
  ASSERT_TRUE(card.ok()) << card.status();
  auto batch = card->Evaluate({d.frame, &d.history, kMonday}, {});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->At(0, RiskDomain::kCompany), RiskStatus::kRed);    // champion left
  EXPECT_EQ(batch->At(0, RiskDomain::kSentiment), RiskStatus::kRed);  // NPS -10
  EXPECT_EQ(batch->At(1, RiskDomain::kSentiment), RiskStatus::kGreen);
  EXPECT_EQ(batch->At(1, RiskDomain::kImplementation), RiskStatus::kYellow);
  EXPECT_EQ(batch->At(2, RiskDomain::kDefect), RiskStatus::kRed);
  EXPECT_EQ(batch->At(2, RiskDomain::kHabit), RiskStatus::kYellow);  // logins falling
}

}  // namespace
}  // namespace cscore
