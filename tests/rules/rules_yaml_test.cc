#include "cscore/rules/rules_yaml.h"

#include <fstream>
#include <string>
#include <vector>

#include "fake_predicates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(RulesYaml, SampleConfigLoads) {
  auto defs = LoadRulesFile(std::string(CSCORE_SOURCE_DIR) + "/tests/rules/testdata/rules.yaml");
  ASSERT_TRUE(defs.ok()) << defs.status();
  ASSERT_EQ(defs->size(), 7u);
  const RuleDef& first = (*defs)[0];
  EXPECT_EQ(first.name, "adoption_drop");
  EXPECT_EQ(first.schedule.kind, Schedule::Kind::kWeekly);
  EXPECT_EQ(first.once_every_days, 14);
  EXPECT_EQ(first.cooldown_after_close_days, 30);
  ASSERT_EQ(first.actions.size(), 2u);
  const auto& open = std::get<OpenCtaAction>(first.actions[0]);
  EXPECT_EQ(open.domain, RiskDomain::kHabit);
  EXPECT_EQ(open.priority, 1);
  EXPECT_EQ(open.playbook, "adoption_recovery");
  EXPECT_EQ(std::get<TagAction>(first.actions[1]).tag, "adoption-risk");
  EXPECT_EQ(first.at.line, 8);
  EXPECT_EQ(first.at.column, 12);
  EXPECT_TRUE((*defs)[3].threshold.has_value());
  EXPECT_EQ(std::get<CloseCtaAction>((*defs)[4].actions[0]).status, "closed_success");
  EXPECT_EQ((*defs)[6].schedule.kind, Schedule::Kind::kQuarterly);
}

// The shipped demo rules load, and each rule's recorded guard position is where its
// condition text sits in the file.
TEST(RulesYaml, DemoConfigLoadsWithPositions) {
  const std::string path = std::string(CSCORE_SOURCE_DIR) + "/examples/demo/config/rules.yaml";
  const std::vector<std::string_view> engine_keys = {"playbooks", "timed"};
  auto defs = LoadRulesFile(path, engine_keys);
  ASSERT_TRUE(defs.ok()) << defs.status();
  EXPECT_FALSE(defs->empty());
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (const RuleDef& r : *defs) {
    EXPECT_FALSE(r.actions.empty()) << r.name;
    EXPECT_EQ(r.action_at.size(), r.actions.size()) << r.name;
    if (r.when.empty()) continue;
    ASSERT_GE(r.at.line, 1);
    ASSERT_LE(r.at.line, static_cast<int>(lines.size()));
    EXPECT_EQ(lines[r.at.line - 1].substr(r.at.column - 1, r.when.size()), r.when) << r.name;
  }
}

TEST(RulesYaml, OpenActionFieldsAndDefaults) {
  auto defs = ParseRulesYaml(R"(rules:
  - name: full
    when: x
    schedule: every 3 days from 2026-01-05
    actions:
      - open_cta: {type: Expansion, reason: Seats, domain: habit, priority: 7,
                   playbook: upsell, owner_role: account_manager, due_in_days: 21}
      - close_cta: {type: Risk, reason: Usage, domain: Support, status: closed_lost}
      - set_measure: {measure: adoption, value: 55.5}
      - tag: expansion
  - name: defaults
    when: y
    actions:
      - open_cta: {reason: Usage, domain: Habit}
)");
  ASSERT_TRUE(defs.ok()) << defs.status();
  const RuleDef& full = (*defs)[0];
  EXPECT_EQ(full.schedule.kind, Schedule::Kind::kEveryNDays);
  EXPECT_EQ(full.schedule.every_days, 3);
  const auto& open = std::get<OpenCtaAction>(full.actions[0]);
  EXPECT_EQ(open.type, "Expansion");
  EXPECT_EQ(open.reason, "Seats");
  EXPECT_EQ(open.domain, RiskDomain::kHabit);
  EXPECT_EQ(open.priority, 7);
  EXPECT_EQ(open.playbook, "upsell");
  EXPECT_EQ(open.owner_role, "account_manager");
  EXPECT_EQ(open.due_in_days, 21);
  const auto& close = std::get<CloseCtaAction>(full.actions[1]);
  EXPECT_EQ(close.type, "Risk");
  EXPECT_EQ(close.reason, "Usage");
  EXPECT_EQ(close.domain, RiskDomain::kSupport);
  EXPECT_EQ(close.status, "closed_lost");
  const auto& set = std::get<SetMeasureAction>(full.actions[2]);
  EXPECT_EQ(set.measure, "adoption");
  EXPECT_EQ(set.value, 55.5);
  EXPECT_EQ(set.expires_in_days, 30);
  EXPECT_EQ(std::get<TagAction>(full.actions[3]).tag, "expansion");
  const RuleDef& defaults = (*defs)[1];
  EXPECT_EQ(defaults.schedule.kind, Schedule::Kind::kDaily);
  EXPECT_EQ(defaults.once_every_days, 0);
  EXPECT_EQ(defaults.cooldown_after_close_days, 0);
  const auto& d = std::get<OpenCtaAction>(defaults.actions[0]);
  EXPECT_EQ(d.type, "Risk");
  EXPECT_EQ(d.priority, 2);
  EXPECT_EQ(d.owner_role, "csm");
  EXPECT_EQ(d.due_in_days, 7);
  EXPECT_TRUE(d.playbook.empty());
}

TEST(RulesYaml, BadInputIsLocated) {
  const std::pair<const char*, const char*> cases[] = {
      {"rules:\n  - name: x\n    when: a\n    schedule: fortnightly\n    actions: [tag: t]\n",
       "<string>:4:15: schedule 'fortnightly'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - page_ceo: {}\n",
       "<string>:5:9: unknown action 'page_ceo'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - open_cta: {reason: r, domain: "
       "Hapit}\n",
       "<string>:5:39: unknown risk domain 'Hapit'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - open_cta: {reason: r}\n",
       "<string>:5:19: a Risk CTA needs a 'domain'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - open_cta: {type: Activity}\n",
       "<string>:5:19: missing required field 'reason'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - open_cta: {type: Activity, reason: "
       "r, "
       "priority: asap}\n",
       "<string>:5:57: priority 'asap'"},
      {"rules:\n  - name: x\n    when: a\n    actions:\n      - close_cta: {type: Risk}\n",
       "missing required field 'status'"},
      {"rules:\n  - name: x\n    when: a\n    actions: []\n",
       "<string>:4:14: rule 'x' needs a non-empty"},
      {"rules:\n  - name: x\n    actions: [tag: t]\n", "<string>:2:5: rule 'x' needs exactly one"},
      {"rules:\n  - name: x\n    wen: a\n", "<string>:3:5: unknown field 'wen'"},
      {"rules:\n  - name: x\n    when: a\n    once_every_days: -1\n    actions: [tag: t]\n",
       "<string>:4:22: days out of range"},
      {"rules:\n  - {name: x, when: a, actions: [tag: t]}\n  - {name: x, when: b, actions: [tag: "
       "t]}\n",
       "<string>:3:12: duplicate rule name 'x'"},
      {"rule: []\n", "<string>:1:1: unknown field 'rule'"},
  };
  for (const auto& [yaml, error] : cases) {
    auto defs = ParseRulesYaml(yaml);
    ASSERT_FALSE(defs.ok()) << yaml;
    EXPECT_THAT(std::string(defs.status().message()), HasSubstr(error)) << yaml;
  }
}

TEST(RulesYaml, CompileErrorsPointAtTheYaml) {
  FrameBuilder b({"a"});
  b.AddBool("low_usage", {1});
  AccountFrame f = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = f.schema();
  ctx.measures = {"adoption"};
  auto compile = [&](const char* yaml) {
    auto defs = ParseRulesYaml(yaml, "rules.yaml");
    EXPECT_TRUE(defs.ok()) << defs.status();
    auto set = RuleSet::Compile(*std::move(defs), testing::BoolColumnCompiler(), ctx);
    return set.ok() ? std::string("ok") : std::string(set.status().message());
  };
  // The guard's error lands on the offending character, inside the quotes.
  EXPECT_THAT(compile("rules:\n  - name: x\n    when: \"low_usage > 1\"\n    actions: [tag: t]\n"),
              HasSubstr("rules.yaml:3:21: unexpected character ' '"));
  EXPECT_THAT(
      compile("rules:\n  - name: x\n    when: low_usage\n    actions:\n      - tag: t\n      "
              "- set_measure: {measure: adoptoin, value: 1}\n"),
      HasSubstr("rules.yaml:6:9: rule 'x', action 2: unknown measure 'adoptoin'"));
  EXPECT_THAT(compile("rules:\n  - name: x\n    threshold: {column: nope, compare: '<', value: 1}\n"
                      "    actions: [tag: t]\n"),
              HasSubstr("rules.yaml:3:16: rule 'x': unknown column 'nope'"));
  EXPECT_EQ(compile("rules:\n  - name: x\n    when: low_usage\n    actions: [tag: t]\n"), "ok");
}

}  // namespace
}  // namespace cscore
