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

// Every field of an open action reaches the CTA: type, reason, domain, priority, playbook,
// owner (through the owner role's column), due offset; the rule is the CTA's source.
TEST(ApplyIntents, OpenActionFieldsReachTheStoreAndCloseUsesTheChosenStatus) {
  FrameBuilder b({"a", "b", "c"});
  b.AddBool("low_usage", {1, 1, 1});
  b.AddBool("recovered", {0, 0, 0});
  b.AddCategorical("csm_id", std::vector<std::string>{"ann", "bob", ""}, {0, 0, 1});
  AccountFrame f = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = f.schema();
  ctx.playbooks = {"adoption_recovery"};
  ctx.owner_columns = {{"csm", "csm_id"}};
  RuleDef open;
  open.name = "adoption_drop";
  open.when = "low_usage";
  OpenCtaAction a;
  a.type = "Risk";
  a.reason = "Adoption dropped";
  a.domain = RiskDomain::kHabit;
  a.priority = 0;
  a.playbook = "adoption_recovery";
  a.owner_role = "csm";
  a.due_in_days = 5;
  open.actions = {a};
  RuleDef close;
  close.name = "recovered";
  close.when = "recovered";
  close.actions = {CloseCtaAction{"Risk", "", RiskDomain::kHabit, "closed_no_action"}};
  auto rules = RuleSet::Compile({open, close}, testing::BoolColumnCompiler(), ctx);
  ASSERT_TRUE(rules.ok()) << rules.status();
  CtaStoreOptions options;
  options.playbooks = {{"adoption_recovery",
                        {{"call the champion", absl::Hours(24), Role::kCsm},
                         {"usage review", absl::Hours(24 * 4), Role::kTeamLead}}}};
  auto created = CtaStore::Create(std::move(options));
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  CtaStoreLookup lookup(store);
  RuleState state;
  auto run = rules->Evaluate({f, nullptr, kDay}, lookup, state);
  ASSERT_TRUE(run.ok()) << run.status();
  ApplyReport report = ApplyIntents(*rules, *run, kDay, store, state);
  ASSERT_EQ(report.opened, 3);
  const CtaId id = *store.FindOpen("b", "Risk", "Adoption dropped");
  EXPECT_EQ(store.type_name(id), "Risk");
  EXPECT_EQ(store.domain(id), RiskDomain::kHabit);
  EXPECT_EQ(store.priority(id), 0);
  EXPECT_EQ(store.owner(id), "bob");
  EXPECT_EQ(store.owner(*store.FindOpen("a", "Risk", "Adoption dropped")), "ann");
  // No CSM on record: the role name owns it.
  EXPECT_EQ(store.owner(*store.FindOpen("c", "Risk", "Adoption dropped")), "csm");
  EXPECT_EQ(store.source(id), "adoption_drop");
  EXPECT_FALSE(store.manual(id));
  const int64_t day_us = absl::ToUnixMicros(absl::FromCivil(kDay, absl::UTCTimeZone()));
  EXPECT_EQ(store.due_column()[id], day_us + int64_t{5} * 86400 * 1000000);
  ASSERT_EQ(store.task_count(id), 2);
  EXPECT_EQ(store.task(id, 1).owner_role, Role::kTeamLead);
  EXPECT_EQ(store.task_due(id, 1), day_us + int64_t{4} * 86400 * 1000000);

  RuleContext bad = ctx;
  bad.owner_columns = {{"csm", "low_usage"}};
  EXPECT_THAT(
      std::string(RuleSet::Compile({open}, testing::BoolColumnCompiler(), bad).status().message()),
      ::testing::HasSubstr("column 'low_usage' is bool, not categorical"));

  FrameBuilder b2({"a", "b", "c"});
  b2.AddBool("low_usage", {0, 0, 0});
  b2.AddBool("recovered", {1, 0, 0});
  b2.AddCategorical("csm_id", std::vector<std::string>{"ann", "bob", ""}, {0, 0, 1});
  AccountFrame f2 = *std::move(b2).Build();
  auto closing = rules->Evaluate({f2, nullptr, kDay + 1}, lookup, state);
  ASSERT_TRUE(closing.ok());
  report = ApplyIntents(*rules, *closing, kDay + 1, store, state);
  EXPECT_EQ(report.closed, 1);
  const CtaId a_id = 0;
  EXPECT_EQ(store.account(a_id), "a");
  EXPECT_EQ(store.status_name(a_id), "closed_no_action");
  EXPECT_EQ(store.str(store.audit().back().s0), "recovered");  // the closing rule, as reason
  EXPECT_EQ(store.str(store.audit().back().actor), "recovered");
}

// With the re-entry state lost, a rerun of the day still writes nothing: the CTA exists
// (dedup) and the update would not change it.
TEST(ApplyIntents, RerunWithoutStateWritesNoNoOpUpdate) {
  FrameBuilder b({"a"});
  b.AddBool("low_usage", {1});
  AccountFrame f = *std::move(b).Build();
  RuleContext ctx;
  ctx.schema = f.schema();
  RuleDef r;
  r.name = "low";
  r.when = "low_usage";
  OpenCtaAction a;
  a.reason = "Low usage";
  a.domain = RiskDomain::kHabit;
  r.actions = {a};
  auto rules = RuleSet::Compile({r}, testing::BoolColumnCompiler(), ctx);
  ASSERT_TRUE(rules.ok());
  auto created = CtaStore::Create({});
  CtaStore& store = **created;
  CtaStoreLookup lookup(store);
  RuleState state;
  ApplyIntents(*rules, *rules->Evaluate({f, nullptr, kDay}, lookup, state), kDay, store, state);
  const size_t log = store.audit().size();
  RuleState lost;
  auto rerun = rules->Evaluate({f, nullptr, kDay}, lookup, lost);
  ASSERT_TRUE(rerun.ok());
  ASSERT_EQ(rerun->intents.size(), 1u);
  EXPECT_EQ(rerun->intents[0].kind, IntentKind::kUpdate);
  ApplyReport report = ApplyIntents(*rules, *rerun, kDay, store, lost);
  EXPECT_EQ(report.unchanged, 1);
  EXPECT_EQ(report.updated, 0);
  EXPECT_EQ(store.audit().size(), log);
  // A later day moves the due date: that is a real update.
  report = ApplyIntents(*rules, *rules->Evaluate({f, nullptr, kDay + 1}, lookup, lost), kDay + 1,
                        store, lost);
  EXPECT_EQ(report.updated, 1);
  EXPECT_EQ(store.audit().size(), log + 1);
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
