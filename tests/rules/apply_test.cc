#include "cscore/rules/apply.h"

#include "fake_predicates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

constexpr absl::CivilDay kDay(2026, 11, 23);

TEST(ApplyIntents, OpensOnceThenUpdatesThenCloses) {
  FrameBuilder b({"a", "b"});
  b.AddBool("low_usage", {1, 0});
  b.AddBool("recovered", {0, 0});
  AccountFrame f = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = f.schema();
  RuleDef open;
  open.name = "low";
  open.when = "low_usage";
  OpenCtaAction a;
  a.reason = "Low usage";
  a.domain = RiskDomain::kHabit;
  a.priority = 1;
  open.actions = {a, TagAction{"at-risk"}};
  RuleDef close;
  close.name = "recovered";
  close.when = "recovered";
  close.actions = {CloseCtaAction{"Risk", "Low usage", RiskDomain::kNone, "closed_success"}};
  close.cooldown_after_close_days = 0;
  open.cooldown_after_close_days = 14;
  auto rules = RuleSet::Compile({open, close}, testing::BoolColumnCompiler(), ctx);
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok()) << created.status();
  CtaStore& store = **created;
  RuleState state;

  CtaStoreLookup lookup(store);
  auto run = rules->Evaluate({f, nullptr, kDay}, lookup, state);
  ASSERT_TRUE(run.ok());
  ApplyReport report = ApplyIntents(*rules, *run, kDay, store, state);
  EXPECT_EQ(report.opened, 1);
  EXPECT_TRUE(report.rejected.empty());
  ASSERT_EQ(report.passed_on.size(), 1u);
  EXPECT_EQ(run->intents[report.passed_on[0]].kind, IntentKind::kTag);
  std::optional<CtaId> id = store.FindOpen("a", "Risk", "Low usage");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(store.domain(*id), RiskDomain::kHabit);
  EXPECT_EQ(store.priority(*id), 1);

  // The same day again changes nothing.
  const int64_t log_size = static_cast<int64_t>(store.audit().size());
  auto rerun = rules->Evaluate({f, nullptr, kDay}, lookup, state);
  ASSERT_TRUE(rerun.ok());
  EXPECT_TRUE(rerun->intents.empty());
  EXPECT_EQ(static_cast<int64_t>(store.audit().size()), log_size);

  // Next day: the open CTA is updated, not duplicated.
  auto next = rules->Evaluate({f, nullptr, kDay + 1}, lookup, state);
  ASSERT_TRUE(next.ok());
  report = ApplyIntents(*rules, *next, kDay + 1, store, state);
  EXPECT_EQ(report.opened, 0);
  EXPECT_EQ(report.updated, 1);
  EXPECT_EQ(store.size(), 1);

  // Recovery closes it; the cooldown then keeps the low-usage rule from reopening it.
  FrameBuilder b2({"a", "b"});
  b2.AddBool("low_usage", {1, 0});
  b2.AddBool("recovered", {1, 0});
  AccountFrame f2 = *std::move(b2).Build();
  auto closing = rules->Evaluate({f2, nullptr, kDay + 2}, lookup, state);
  ASSERT_TRUE(closing.ok());
  report = ApplyIntents(*rules, *closing, kDay + 2, store, state);
  EXPECT_EQ(report.closed, 1);
  EXPECT_FALSE(store.IsOpen(*id));
  EXPECT_EQ(state.LastClose("a", "Risk", "Low usage"), kDay + 2);
  auto after = rules->Evaluate({f, nullptr, kDay + 3}, lookup, state);
  ASSERT_TRUE(after.ok());
  for (const Intent& in : after->intents) EXPECT_NE(in.kind, IntentKind::kOpen);
}

TEST(ApplyIntents, RejectedIntentIsReportedAndOthersProceed) {
  FrameBuilder b({"a"});
  b.AddBool("x", {1});
  AccountFrame f = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = f.schema();
  RuleDef r;
  r.name = "bad_close";
  r.when = "x";
  r.actions = {CloseCtaAction{"Risk", "", RiskDomain::kNone, "no_such_status"}, TagAction{"t"}};
  auto rules = RuleSet::Compile({r}, testing::BoolColumnCompiler(), ctx);
  ASSERT_TRUE(rules.ok());
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  OpenCta cta;
  cta.account = "a";
  cta.reason = "Something";
  cta.domain = RiskDomain::kDefect;
  ASSERT_TRUE(
      store.Open(cta, {"ann", Role::kCsm}, absl::FromCivil(kDay, absl::UTCTimeZone())).ok());
  RuleState state;
  CtaStoreLookup lookup(store);
  auto run = rules->Evaluate({f, nullptr, kDay}, lookup, state);
  ASSERT_TRUE(run.ok());
  ApplyReport report = ApplyIntents(*rules, *run, kDay, store, state);
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_THAT(std::string(report.rejected[0].second.message()),
              ::testing::HasSubstr("rule 'bad_close', account 'a'"));
  EXPECT_EQ(report.passed_on.size(), 1u);
}

}  // namespace
}  // namespace cscore
