#include "cscore/risk/risk_yaml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(RiskYaml, SampleConfigLoads) {
  auto def =
      LoadRiskScorecardFile(std::string(CSCORE_SOURCE_DIR) + "/examples/demo/config/risk.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->domains.size(), 8u);
  EXPECT_EQ(def->domains[0].domain, RiskDomain::kHabit);
  ASSERT_EQ(def->domains[0].signals.size(), 2u);
  EXPECT_EQ(def->domains[0].signals[0].threshold->op, WindowOp::kPctChange);
  EXPECT_EQ(def->domains[2].signals[0].condition, "champion_left");
  EXPECT_EQ(def->domains[2].signals[0].at.line, 28);
  EXPECT_EQ(def->domains[2].signals[0].at.column, 16);  // inside the quotes
}

struct BadCase {
  const char* yaml;
  const char* error;
};

TEST(RiskYaml, BadInputIsLocated) {
  const BadCase cases[] = {
      {"domains:\n  Hapit:\n", "<string>:2:3: unknown risk domain 'Hapit'"},
      {"domains:\n  Habit:\n    ownr: x\n", "<string>:3:5: unknown field 'ownr'"},
      {"domains:\n  Habit:\n    signals:\n      - name: a\n        level: amber\n        when: x\n",
       "<string>:5:16: unknown risk status 'amber'"},
      {"domains:\n  Habit:\n    signals:\n      - name: a\n        level: green\n        when: x\n",
       "<string>:5:16: a signal fires yellow or red"},
      {"domains:\n  Habit:\n    signals:\n      - name: a\n",
       "<string>:4:9: a signal needs exactly one"},
      {"domains:\n  Habit:\n    signals:\n      - name: a\n        threshold: {column: x, compare: "
       "\"=<\", value: 1}\n",
       "<string>:5:41: unknown comparison '=<'"},
      {"domains:\n  Habit:\n    signals:\n      - name: a\n        threshold: {column: x, compare: "
       "\"<\", value: abc}\n",
       "<string>:5:53: expected a finite number"},
      {"domains:\n  Habit:\n  habit:\n", "<string>:3:3: domain listed twice"},
      {"domains:\n  Habit:\n    signals:\n      - {name: a, when: x}\n      - {name: a, when: y}\n",
       "<string>:5:9: duplicate signal name 'a'"},
      {"domain:\n", "<string>:1:1: unknown field 'domain'"},
      {"domains: [\n", "2:1: end of sequence flow not found"},
  };
  for (const BadCase& c : cases) {
    auto def = ParseRiskScorecardYaml(c.yaml);
    EXPECT_THAT(std::string(def.status().message()), HasSubstr(c.error)) << c.yaml;
  }
}

TEST(RiskYaml, MissingFileIsNotFound) {
  EXPECT_EQ(LoadRiskScorecardFile("/nonexistent/risk.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cscore
