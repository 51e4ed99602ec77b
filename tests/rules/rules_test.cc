#include "cscore/rules/rules.h"

#include "fake_predicates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memory_ctas.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;
using testing::MemoryCtas;

constexpr absl::CivilDay kMonday(2026, 11, 23);

AccountFrame MakeFrame() {
  FrameBuilder b({"a", "b", "c", "d"});
  b.AddBool("low_usage", {1, 0, 1, 1});
  b.AddBool("healthy", {0, 1, 0, 0});
  b.AddFloat64("tickets", {0, 20, 2, 30});
  b.AddBool("champion_changed", {0, 1, 1, 0}, {1, 1, 0, 1});  // c: missing
  const int64_t today = (kMonday - absl::CivilDay(1970, 1, 1)) * 86400;
  b.AddTimestamp("sponsor_left_at", {today + 3600, today - 86400, 0, today + 86399});
  return *std::move(b).Build();
}

OpenCtaAction Open(std::string reason, RiskDomain d = RiskDomain::kHabit) {
  OpenCtaAction a;
  a.reason = std::move(reason);
  a.domain = d;
  return a;
}

RuleDef Rule(std::string name, std::string when, std::vector<RuleAction> actions) {
  RuleDef r;
  r.name = std::move(name);
  r.when = std::move(when);
  r.actions = std::move(actions);
  return r;
}

RuleContext Context(const AccountFrame& f) {
  RuleContext ctx;
  ctx.schema = f.schema();
  return ctx;
}

absl::StatusOr<RuleSet> Compile(std::vector<RuleDef> defs, const AccountFrame& f) {
  return RuleSet::Compile(std::move(defs), testing::BoolColumnCompiler(), Context(f));
}

std::vector<std::string> Describe(const RuleSet& rules, const RuleRun& run) {
  std::vector<std::string> out;
  for (const Intent& in : run.intents) {
    out.push_back(StrCat(rules.rule(in.rule).name, "/", in.action, " ", IntentKindName(in.kind),
                         " ", in.account, in.cta >= 0 ? StrCat(" #", in.cta) : ""));
  }
  return out;
}

TEST(RuleSet, IntentsAreOrderedByRuleAccountAndAction) {
  AccountFrame f = MakeFrame();
  auto rules = Compile({Rule("low", "low_usage", {Open("Low usage"), TagAction{"at-risk"}}),
                        Rule("ok", "healthy", {SetMeasureAction{"adoption", 90, 10}})},
                       f);
  ASSERT_TRUE(rules.ok()) << rules.status();
  MemoryCtas ctas;
  RuleState state;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(Describe(*rules, *run),
              ::testing::ElementsAre("low/0 open a", "low/1 tag a", "low/0 open c", "low/1 tag c",
                                     "low/0 open d", "low/1 tag d", "ok/0 set_measure b"));
  EXPECT_EQ(run->intents[0].due, kMonday + 7);
  EXPECT_EQ(run->intents.back().due, kMonday + 10);
  EXPECT_EQ(run->rows_matched, 4);
  EXPECT_EQ(run->fired.size(), 4u);
}

TEST(RuleSet, OpenCtaWithTheSameKeyIsUpdatedAndSnoozedOneSilencesTheRule) {
  AccountFrame f = MakeFrame();
  auto rules = Compile({Rule("low", "low_usage", {Open("Low usage"), TagAction{"t"}})}, f);
  ASSERT_TRUE(rules.ok());
  MemoryCtas ctas;
  const int32_t a_id = ctas.Add({"a", "Risk", "Low usage", RiskDomain::kHabit, false});
  ctas.Add({"c", "Risk", "Low usage", RiskDomain::kHabit, /*snoozed=*/true});
  ctas.Add({"d", "Risk", "Other reason", RiskDomain::kHabit, false});
  RuleState state;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*rules, *run),
              ::testing::ElementsAre(StrCat("low/0 update a #", a_id), "low/1 tag a",
                                     "low/0 open d", "low/1 tag d"));
  EXPECT_EQ(run->suppressed_snoozed, 1);
}

TEST(RuleSet, RerunOfTheSameDayYieldsNothing) {
  AccountFrame f = MakeFrame();
  auto rules = Compile({Rule("low", "low_usage", {Open("Low usage")})}, f);
  ASSERT_TRUE(rules.ok());
  MemoryCtas ctas;
  RuleState state;
  auto first = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->intents.size(), 3u);
  state.Record(*rules, *first, kMonday);
  EXPECT_EQ(state.LastFired("low", "a"), kMonday);
  EXPECT_FALSE(state.LastFired("low", "b").has_value());
  auto again = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->intents.empty());
  // Without a re-entry limit the next day fires again (as updates once the CTAs exist).
  auto next = rules->Evaluate({f, nullptr, kMonday + 1}, ctas, state);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->intents.size(), 3u);
}

TEST(RuleSet, OnceEveryNDaysPerAccount) {
  AccountFrame f = MakeFrame();
  RuleDef r = Rule("low", "low_usage", {Open("Low usage")});
  r.once_every_days = 7;
  auto rules = Compile({r}, f);
  ASSERT_TRUE(rules.ok());
  MemoryCtas ctas;
  RuleState state;
  state.RecordFired("low", "a", kMonday - 3);
  state.RecordFired("low", "c", kMonday - 7);
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*rules, *run), ::testing::ElementsAre("low/0 open c", "low/0 open d"));
  EXPECT_EQ(run->suppressed_reentry, 1);
}

TEST(RuleSet, CooldownAfterCloseBlocksReopening) {
  AccountFrame f = MakeFrame();
  RuleDef r = Rule("low", "low_usage", {Open("Low usage")});
  r.cooldown_after_close_days = 30;
  auto rules = Compile({r}, f);
  ASSERT_TRUE(rules.ok());
  MemoryCtas ctas;
  RuleState state;
  state.RecordClose("a", "Risk", "Low usage", kMonday - 10);
  state.RecordClose("c", "Risk", "Low usage", kMonday - 30);
  state.RecordClose("d", "Risk", "Another", kMonday - 1);
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*rules, *run), ::testing::ElementsAre("low/0 open c", "low/0 open d"));
}

TEST(RuleSet, CloseMatchesTheFilter) {
  AccountFrame f = MakeFrame();
  CloseCtaAction close;
  close.type = "Risk";
  close.domain = RiskDomain::kSupport;
  close.status = "closed_success";
  auto rules = Compile({Rule("ok", "healthy", {close})}, f);
  ASSERT_TRUE(rules.ok()) << rules.status();
  MemoryCtas ctas;
  const int32_t t1 = ctas.Add({"b", "Risk", "Tickets", RiskDomain::kSupport, false});
  ctas.Add({"b", "Risk", "Usage", RiskDomain::kHabit, false});
  ctas.Add({"b", "Expansion", "Seats", RiskDomain::kNone, false});
  const int32_t t2 = ctas.Add({"b", "Risk", "Old tickets", RiskDomain::kSupport, false});
  ctas.Add({"a", "Risk", "Tickets", RiskDomain::kSupport, false});
  RuleState state;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*rules, *run),
              ::testing::ElementsAre(StrCat("ok/0 close b #", t1), StrCat("ok/0 close b #", t2)));
}

TEST(RuleSet, SchedulesGateTheDayAndEventsGateTheAccounts) {
  AccountFrame f = MakeFrame();
  RuleDef weekly = Rule("weekly", "low_usage", {Open("Weekly")});
  weekly.schedule = *ParseSchedule("weekly on tuesday");
  RuleDef bool_event = Rule("champion", "low_usage", {Open("Champion", RiskDomain::kCompany)});
  bool_event.schedule = *ParseSchedule("on champion_changed");
  RuleDef ts_event = Rule("sponsor", "low_usage", {Open("Sponsor", RiskDomain::kCompany)});
  ts_event.schedule = *ParseSchedule("on sponsor_left_at");
  auto rules = Compile({weekly, bool_event, ts_event}, f);
  ASSERT_TRUE(rules.ok()) << rules.status();
  MemoryCtas ctas;
  RuleState state;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, state);
  ASSERT_TRUE(run.ok()) << run.status();
  // c's champion_changed is missing: no event. sponsor_left_at: a and d today, b yesterday.
  EXPECT_THAT(Describe(*rules, *run),
              ::testing::ElementsAre("sponsor/0 open a", "sponsor/0 open d"));
  EXPECT_EQ(run->rules_run, 2);
  auto tuesday = rules->Evaluate({f, nullptr, kMonday + 1}, ctas, state);
  ASSERT_TRUE(tuesday.ok());
  EXPECT_EQ(tuesday->rules_run, 3);
  EXPECT_EQ(tuesday->intents.size(), 3u);
}

TEST(RuleSet, ThresholdGuard) {
  AccountFrame f = MakeFrame();
  RuleDef r;
  r.name = "tickets";
  r.threshold = ThresholdDef{"tickets", "", {}, 30, Comparison::kGreaterEqual, 15};
  r.actions = {Open("Ticket flood", RiskDomain::kSupport)};
  auto rules = Compile({r}, f);
  ASSERT_TRUE(rules.ok()) << rules.status();
  MemoryCtas ctas;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, RuleState());
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(Describe(*rules, *run),
              ::testing::ElementsAre("tickets/0 open b", "tickets/0 open d"));
}

TEST(RuleSet, CompileRejectsBadRules) {
  AccountFrame f = MakeFrame();
  auto err = [&](std::vector<RuleDef> defs, RuleContext ctx) {
    auto r = RuleSet::Compile(std::move(defs), testing::BoolColumnCompiler(), ctx);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  const RuleContext ctx = Context(f);
  EXPECT_THAT(err({Rule("x", "low_usage", {Open("a")}), Rule("x", "healthy", {Open("b")})}, ctx),
              HasSubstr("rule 'x': duplicate rule name"));
  EXPECT_THAT(err({Rule("x", "low_usage", {})}, ctx), HasSubstr("needs actions"));
  EXPECT_THAT(err({Rule("x", "low_usage", {Open("a", RiskDomain::kNone)})}, ctx),
              HasSubstr("action 1: a Risk CTA needs a risk domain"));
  EXPECT_THAT(err({Rule("x", "low_usage", {Open("")})}, ctx), HasSubstr("needs a reason"));
  RuleContext with_measures = ctx;
  with_measures.measures = {"adoption"};
  with_measures.close_statuses = {"closed_success"};
  with_measures.playbooks = {"recovery"};
  EXPECT_THAT(err({Rule("x", "low_usage", {SetMeasureAction{"adoptoin", 1, 5}})}, with_measures),
              HasSubstr("unknown measure 'adoptoin'"));
  EXPECT_THAT(
      err({Rule("x", "low_usage", {CloseCtaAction{"Risk", "", {}, "done"}})}, with_measures),
      HasSubstr("unknown closed status 'done'"));
  OpenCtaAction with_playbook = Open("a");
  with_playbook.playbook = "recovry";
  EXPECT_THAT(err({Rule("x", "low_usage", {with_playbook})}, with_measures),
              HasSubstr("unknown playbook 'recovry'"));
  RuleDef event = Rule("x", "low_usage", {Open("a")});
  event.schedule = *ParseSchedule("on tickets");
  EXPECT_THAT(err({event}, ctx), HasSubstr("must be bool or timestamp"));
  event.schedule = *ParseSchedule("on nope");
  EXPECT_THAT(err({event}, ctx), HasSubstr("unknown event column 'nope'"));
  RuleDef both = Rule("x", "low_usage", {Open("a")});
  both.threshold = ThresholdDef{"tickets", "", {}, 30, Comparison::kLess, 1};
  EXPECT_THAT(err({both}, ctx), HasSubstr("exactly one"));
  RuleDef unknown_metric = Rule("x", "", {Open("a")});
  unknown_metric.threshold = ThresholdDef{"", "logins", WindowOp::kMean, 30, Comparison::kLess, 1};
  EXPECT_THAT(err({unknown_metric}, ctx), HasSubstr("unknown metric 'logins'"));
  RuleDef bad_guard = Rule("x", "low usage", {Open("a")});
  bad_guard.at = {"rules.yaml", 12, 11};
  EXPECT_THAT(err({bad_guard}, ctx), HasSubstr("rules.yaml:12:14: unexpected character ' '"));
  EXPECT_THAT(err({bad_guard}, ctx), HasSubstr("(rule 'x')"));
  auto no_compiler = RuleSet::Compile({Rule("x", "low_usage", {Open("a")})}, nullptr, ctx);
  EXPECT_EQ(no_compiler.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RuleSet, GuardFailureAtEvaluationNamesTheRule) {
  AccountFrame f = MakeFrame();
  auto rules = Compile({Rule("ghost", "not_a_column", {Open("a")})}, f);
  ASSERT_TRUE(rules.ok());
  MemoryCtas ctas;
  auto run = rules->Evaluate({f, nullptr, kMonday}, ctas, RuleState());
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(std::string(run.status().message()), HasSubstr("rule 'ghost'"));
}

}  // namespace
}  // namespace cscore
