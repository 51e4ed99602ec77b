// Issue 4's bad-input list, one test each: a clear error with its location (file:line:column
// for YAML; the CTA id, account and status for store calls).
#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/cta/store.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/rules/rules_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

constexpr char kLifecycle[] = R"(name: t
initial: new
statuses:
  - {name: new, category: open}
  - {name: done, category: closed_success}
events: [finish]
transitions:
  - {event: finish, from: new, to: done, who: [owner]}
)";

std::string LifecycleError(std::string_view from, std::string_view to) {
  std::string yaml = kLifecycle;
  const size_t at = yaml.find(from);
  EXPECT_NE(at, std::string::npos);
  yaml.replace(at, from.size(), to);
  absl::StatusOr<Lifecycle> lc = LoadLifecycleString(yaml, "lc.yaml");
  return lc.ok() ? "ok" : std::string(lc.status().message());
}

TEST(BadInput, LifecycleUnknownStatus) {
  EXPECT_EQ(LifecycleError("to: done", "to: finished"),
            "lc.yaml:8:5: lifecycle 't': transition 'finish' goes to unknown status 'finished'");
  EXPECT_EQ(LifecycleError("from: new", "from: open"),
            "lc.yaml:8:5: lifecycle 't': transition 'finish' from unknown status 'open'");
  EXPECT_EQ(LifecycleError("initial: new", "initial: fresh"),
            "lc.yaml:2:10: lifecycle 't': initial status 'fresh' is unknown");
}

TEST(BadInput, LifecycleDuplicateEvent) {
  EXPECT_EQ(LifecycleError("[finish]", "[finish, finish]"),
            "lc.yaml:6:18: lifecycle 't': duplicate event 'finish'");
}

TEST(BadInput, LifecycleGuardThatDoesNotCompile) {
  const std::string message =
      LifecycleError("who: [owner]}", "who: [owner], guard: \"cta.priority <\"}");
  EXPECT_THAT(message, ::testing::StartsWith("lc.yaml:8:"));
  EXPECT_THAT(message, HasSubstr("(lifecycle 't': guard of transition 'finish')"));
  EXPECT_EQ(LifecycleError("who: [owner]}", "who: [owner], guard: \"cta.piority < 2\"}"),
            "lc.yaml:8:68: cta has no field 'piority' (lifecycle 't': guard of transition "
            "'finish')");
}

std::string RulesError(const char* yaml) {
  absl::StatusOr<std::vector<RuleDef>> defs = ParseRulesYaml(yaml, "rules.yaml");
  if (!defs.ok()) return std::string(defs.status().message());
  FrameBuilder b({"acme"});
  b.AddFloat64("nps", {3});
  AccountFrame frame = *std::move(b).Build();
  MetricHistory history(1, 30);
  EXPECT_TRUE(history.AddMetric("logins", Eigen::MatrixXd::Ones(1, 30)).ok());
  RuleContext ctx;
  ctx.schema = frame.schema();
  ctx.history_metrics = history.metric_names();
  auto rules = RuleSet::Compile(
      *std::move(defs), CelPredicateCompiler(cel::Environment::ForFrame(frame, &history)), ctx);
  return rules.ok() ? "ok" : std::string(rules.status().message());
}

TEST(BadInput, RuleWithUnknownMetric) {
  // In a CEL guard: located at the metric's character inside the quotes.
  const std::string cel = RulesError(
      "rules:\n  - name: usage\n    when: \"avg(lgins, 30) < 5\"\n    actions: [tag: t]\n");
  EXPECT_THAT(cel, ::testing::StartsWith("rules.yaml:3:"));
  EXPECT_THAT(cel, HasSubstr("lgins"));
  EXPECT_THAT(cel, HasSubstr("(rule 'usage')"));
  // In a threshold: located at the threshold.
  EXPECT_EQ(RulesError("rules:\n  - name: usage\n    threshold: {metric: lgins, compare: '<', "
                       "value: 5}\n    actions: [tag: t]\n"),
            "rules.yaml:3:16: rule 'usage': unknown metric 'lgins'");
  EXPECT_EQ(RulesError("rules:\n  - name: ok\n    when: \"avg(logins, 30) < 5\"\n"
                       "    actions: [tag: t]\n"),
            "ok");
}

TEST(BadInput, RuleWithUnknownAction) {
  EXPECT_EQ(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    actions:\n"
                       "      - page_the_ceo: {}\n"),
            "rules.yaml:5:9: unknown action 'page_the_ceo' (expected open_cta, close_cta, "
            "set_measure or tag)");
  EXPECT_THAT(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    actions:\n"
                         "      - open_cta: {reason: r, domain: habit, owner: ann}\n"),
              HasSubstr("rules.yaml:5:46: unknown field 'owner'"));
}

TEST(BadInput, ScheduleThatDoesNotParse) {
  EXPECT_THAT(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    schedule: every other "
                         "tuesday\n    actions: [tag: t]\n"),
              HasSubstr("rules.yaml:4:15: schedule 'every other tuesday': expected 'every <N> "
                        "days [from YYYY-MM-DD]'"));
  EXPECT_THAT(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    schedule: weekly on "
                         "caturday\n    actions: [tag: t]\n"),
              HasSubstr("rules.yaml:4:15: schedule 'weekly on caturday': unknown weekday"));
  EXPECT_THAT(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    schedule: quarterly on "
                         "day 30\n    actions: [tag: t]\n"),
              HasSubstr("rules.yaml:4:15: schedule 'quarterly on day 30'"));
  EXPECT_THAT(RulesError("rules:\n  - name: x\n    when: \"nps < 0\"\n    schedule: on "
                         "champion_changed\n    actions: [tag: t]\n"),
              HasSubstr("rule 'x': unknown event column 'champion_changed'"));
}

TEST(BadInput, TransitionEventThatDoesNotApplyToTheStatus) {
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  const Actor ann{.id = "ann", .role = Role::kCsm};
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  const CtaId id = *store.Open({.account = "acme", .reason = "r", .owner = "ann"}, ann, t);
  const size_t log = store.audit().size();
  absl::Status st = store.Fire(id, "reopen", ann, t);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "CTA 0 (account 'acme'): event 'reopen' does not apply to status 'new' (lifecycle "
            "'default')");
  EXPECT_EQ(store.Fire(id, "escalte", ann, t).message(),
            "CTA 0: lifecycle 'default' has no event 'escalte'");
  EXPECT_EQ(store.audit().size(), log);
  EXPECT_EQ(store.status_name(id), "new");
}

TEST(BadInput, UnknownCtaId) {
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  const Actor ann{.id = "ann", .role = Role::kCsm};
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(store.Fire(3, "start", ann, t).message(), "unknown CTA id 3 (the store holds 0 CTAs)");
  EXPECT_EQ(store.Close(-1, "closed_success", ann, t).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AddComment(9, "x", ann, t).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Update(9, {.priority = 1}, ann, t).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.SetTaskDone(9, 0, true, ann, t).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store.audit().empty());
}

}  // namespace
}  // namespace cscore
