#include "cscore/risk/risk_yaml.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

// The shipped demo configuration loads, and each signal's recorded position is where its
// condition text sits in the file (so later compile errors land on it).
TEST(RiskYaml, SampleConfigLoadsWithPositions) {
  const std::string path = std::string(CSCORE_SOURCE_DIR) + "/examples/demo/config/risk.yaml";
  auto def = LoadRiskScorecardFile(path);
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_FALSE(def->domains.empty());
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  int conditions = 0;
  for (const RiskDomainDef& d : def->domains) {
    for (const RiskSignalDef& s : d.signals) {
      EXPECT_EQ(s.condition.empty(), s.threshold.has_value()) << s.name;
      ASSERT_GE(s.at.line, 1);
      ASSERT_LE(s.at.line, static_cast<int>(lines.size()));
      if (!s.condition.empty()) {
        ++conditions;
        EXPECT_EQ(lines[s.at.line - 1].substr(s.at.column - 1, s.condition.size()), s.condition)
            << s.name;
      }
    }
  }
  EXPECT_GT(conditions, 0);
}

TEST(RiskYaml, FieldsAndPositions) {
  auto def = ParseRiskScorecardYaml(R"(risk_cta_type: Risk
domains:
  Adoption:
    owner: CSM team
    signals:
      - name: logins_falling
        threshold: {metric: logins, window: pct_change, days: 30, compare: "<", value: -30}
      - {name: barely_used, level: red, when: "avg('logins', 30) < 1.0"}
  support:
  Company:
    signals:
      - name: champion_left
        level: Red
        when: "champion_left"
)",
                                    "risk.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->risk_cta_type, "Risk");
  ASSERT_EQ(def->domains.size(), 3u);
  EXPECT_EQ(def->domains[0].domain, RiskDomain::kHabit);  // "Adoption" is Habit
  EXPECT_EQ(def->domains[0].owner_team, "CSM team");
  EXPECT_EQ(def->domains[1].domain, RiskDomain::kSupport);
  EXPECT_TRUE(def->domains[1].signals.empty());
  EXPECT_TRUE(def->domains[1].owner_team.empty());  // the default RACI applies
  const RiskSignalDef& falling = def->domains[0].signals[0];
  EXPECT_EQ(falling.level, RiskStatus::kYellow);  // the default level
  EXPECT_EQ(falling.threshold->metric, "logins");
  EXPECT_EQ(falling.threshold->op, WindowOp::kPctChange);
  EXPECT_EQ(falling.threshold->days, 30);
  EXPECT_EQ(falling.threshold->compare, Comparison::kLess);
  EXPECT_EQ(falling.threshold->value, -30);
  EXPECT_EQ(def->domains[0].signals[1].condition, "avg('logins', 30) < 1.0");
  const RiskSignalDef& champion = def->domains[2].signals[0];
  EXPECT_EQ(champion.level, RiskStatus::kRed);
  EXPECT_EQ(champion.condition, "champion_left");
  EXPECT_EQ(champion.at.source, "risk.yaml");
  EXPECT_EQ(champion.at.line, 14);
  EXPECT_EQ(champion.at.column, 16);  // inside the quotes
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
