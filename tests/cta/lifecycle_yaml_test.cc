#include "cscore/cta/lifecycle_yaml.h"

#include <fstream>
#include <sstream>
#include <string>

#include "cscore/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

constexpr char kValid[] = R"(name: t
initial: new
statuses:
  - {name: new, category: open}
  - {name: done, category: closed_success, on_entry: [stamp_closed]}
events: [finish, reopen]
transitions:
  - {event: finish, from: new, to: done, who: [owner]}
  - {event: reopen, from: done, to: new, reopen_within: 7d, who: [owner, admin]}
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

std::string Error(const std::string& yaml) {
  absl::StatusOr<Lifecycle> lc = LoadLifecycleString(yaml, "lc.yaml");
  EXPECT_FALSE(lc.ok());
  return lc.ok() ? "" : std::string(lc.status().message());
}

TEST(LifecycleYaml, ValidCompilesToTable) {
  absl::StatusOr<Lifecycle> lc = LoadLifecycleString(kValid, "lc.yaml");
  ASSERT_TRUE(lc.ok()) << lc.status();
  const int n = lc->FindStatus("new"), done = lc->FindStatus("done");
  const int finish = lc->FindEvent("finish"), reopen = lc->FindEvent("reopen");
  ASSERT_NE(lc->Find(n, finish), nullptr);
  EXPECT_EQ(lc->Find(n, finish)->to, done);
  EXPECT_EQ(lc->Find(n, finish)->who, Lifecycle::kWhoOwner);
  EXPECT_TRUE(lc->Find(n, finish)->actions & static_cast<uint16_t>(CtaAction::kStampClosed));
  EXPECT_EQ(lc->Find(n, reopen), nullptr);
  EXPECT_EQ(lc->Find(done, reopen)->reopen_within_us, int64_t{7} * 86400 * 1000000);
  EXPECT_EQ(lc->Find(done, reopen)->roles, 1u << static_cast<int>(Role::kAdmin));
  EXPECT_EQ(lc->category(done), CtaCategory::kClosedSuccess);
  EXPECT_EQ(lc->EventTo(n, done), finish);
}

TEST(LifecycleYaml, ShippedDefaultMatchesEmbeddedText) {
  std::ifstream in(std::string(CSCORE_SOURCE_DIR) +
                   "/examples/demo/config/lifecycles/default.yaml");
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_EQ(file.str(), DefaultLifecycleYaml());
  absl::StatusOr<Lifecycle> lc = LoadLifecycleFile(std::string(CSCORE_SOURCE_DIR) +
                                                   "/examples/demo/config/lifecycles/default.yaml");
  ASSERT_TRUE(lc.ok()) << lc.status();
  const Lifecycle& d = Lifecycle::Default();
  EXPECT_EQ(d.status_count(), 5);
  EXPECT_EQ(d.event_count(), 11);
  EXPECT_EQ(d.event_name(d.escalation_event()), "escalate");
  EXPECT_EQ(d.status_name(d.initial()), "new");
  EXPECT_EQ(d.event_name(d.snooze_expiry_event()), "wake");
  EXPECT_EQ(d.event_name(d.due_breach_event()), "breach");
  for (int s = 0; s < d.status_count(); ++s) {
    for (int e = 0; e < d.event_count(); ++e) {
      const Lifecycle::Edge* a = d.Find(s, e);
      const Lifecycle::Edge* b = lc->Find(s, e);
      ASSERT_EQ(a == nullptr, b == nullptr);
      if (a != nullptr) {
        EXPECT_EQ(a->to, b->to);
      }
    }
  }
}

TEST(LifecycleYaml, UnknownStatusInTo) {
  EXPECT_EQ(Error(Replace(kValid, "to: done", "to: dnoe")),
            "lc.yaml:8:5: lifecycle 't': transition 'finish' goes to unknown status 'dnoe'");
}

TEST(LifecycleYaml, UnknownStatusInFrom) {
  EXPECT_EQ(Error(Replace(kValid, "from: new", "from: [new, old]")),
            "lc.yaml:8:5: lifecycle 't': transition 'finish' from unknown status 'old'");
}

TEST(LifecycleYaml, UnknownInitialStatus) {
  EXPECT_EQ(Error(Replace(kValid, "initial: new", "initial: fresh")),
            "lc.yaml:2:10: lifecycle 't': initial status 'fresh' is unknown");
}

TEST(LifecycleYaml, DuplicateEvent) {
  EXPECT_EQ(Error(Replace(kValid, "[finish, reopen]", "[finish, reopen, finish]")),
            "lc.yaml:6:26: lifecycle 't': duplicate event 'finish'");
}

TEST(LifecycleYaml, DuplicateStatus) {
  EXPECT_EQ(Error(Replace(kValid, "{name: done, category: closed_success",
                          "{name: new, category: closed_success")),
            "lc.yaml:5:5: lifecycle 't': duplicate status 'new'");
}

TEST(LifecycleYaml, EventWithNoTransition) {
  EXPECT_EQ(Error(Replace(kValid, "[finish, reopen]", "[finish, reopen, escalate]")),
            "lc.yaml:6:26: lifecycle 't': event 'escalate' has no transition");
}

TEST(LifecycleYaml, TransitionOnUndeclaredEvent) {
  EXPECT_EQ(Error(Replace(kValid, "{event: finish", "{event: fnish")),
            "lc.yaml:8:5: lifecycle 't': transition on unknown event 'fnish'");
}

TEST(LifecycleYaml, UnreachableStatusIsNamed) {
  const std::string yaml =
      Replace(kValid, "  - {name: done,", "  - {name: limbo, category: open}\n  - {name: done,");
  EXPECT_EQ(Error(yaml), "lc.yaml:5:5: lifecycle 't': status 'limbo' is unreachable from 'new'");
}

TEST(LifecycleYaml, ClosedStatusWithOutgoingNonReopen) {
  EXPECT_EQ(Error(Replace(kValid, "reopen_within: 7d, ", "")),
            "lc.yaml:9:5: lifecycle 't': status 'done' is closed (closed_success) but has "
            "outgoing transition 'reopen' that is not a reopen (a reopen goes to an open status "
            "and gives reopen_within)");
}

TEST(LifecycleYaml, TwoTransitionsForOneStatusAndEvent) {
  const std::string yaml =
      std::string(kValid) + "  - {event: finish, from: new, to: done, who: [admin]}\n";
  EXPECT_EQ(Error(yaml),
            "lc.yaml:10:5: lifecycle 't': status 'new' already has a transition on 'finish'");
}

TEST(LifecycleYaml, UnknownCategory) {
  EXPECT_EQ(Error(Replace(kValid, "category: closed_success", "category: won")),
            "lc.yaml:5:28: unknown category 'won' (expected open, closed_success, closed_lost "
            "or closed_no_action)");
}

TEST(LifecycleYaml, UnknownAction) {
  EXPECT_THAT(Error(Replace(kValid, "[stamp_closed]", "[stamp_close]")),
              HasSubstr("lc.yaml:5:55: unknown action 'stamp_close'"));
}

TEST(LifecycleYaml, UnknownWho) {
  EXPECT_EQ(Error(Replace(kValid, "who: [owner]}", "who: [ownr]}")),
            "lc.yaml:8:5: lifecycle 't': transition 'finish': 'who' has 'ownr' (expected owner, "
            "escalation_chain, system or a role)");
}

TEST(LifecycleYaml, MissingWho) {
  EXPECT_EQ(Error(Replace(kValid, ", who: [owner]}", "}")),
            "lc.yaml:8:5: transition 'finish' has no 'who'");
}

TEST(LifecycleYaml, BadDuration) {
  EXPECT_EQ(Error(Replace(kValid, "7d", "7 days")),
            "lc.yaml:9:57: '7 days' is not a duration (e.g. 30d, 12h, 90m, 45s)");
}

TEST(LifecycleYaml, MisspelledKeyIsRejected) {
  EXPECT_THAT(Error(Replace(kValid, "transitions:", "transition:")), HasSubstr("lc.yaml:7:1: "));
}

TEST(LifecycleYaml, GuardCompilesOntoItsEdge) {
  absl::StatusOr<Lifecycle> lc = LoadLifecycleString(
      Replace(kValid, "who: [owner]}", "who: [owner], guard: \"cta.priority < 2\"}"), "lc.yaml");
  ASSERT_TRUE(lc.ok()) << lc.status();
  const Lifecycle::Edge* finish = lc->Find(lc->FindStatus("new"), lc->FindEvent("finish"));
  ASSERT_NE(finish, nullptr);
  ASSERT_NE(lc->guard(*finish), nullptr);
  EXPECT_EQ(lc->guard(*finish)->source(), "cta.priority < 2");
  EXPECT_EQ(lc->guard(*lc->Find(lc->FindStatus("done"), lc->FindEvent("reopen"))), nullptr);
}

TEST(LifecycleYaml, GuardThatDoesNotCompileIsLocatedAtItsCharacter) {
  // Line 8 is "  - {event: finish, from: new, to: done, who: [owner], guard: "...
  // the guard text starts at column 64 (after the quote); "@" is its 14th character.
  EXPECT_THAT(Error(Replace(kValid, "who: [owner]}", "who: [owner], guard: \"cta.priority @ 2\"}")),
              HasSubstr("lc.yaml:8:77: "));
  EXPECT_THAT(Error(Replace(kValid, "who: [owner]}", "who: [owner], guard: \"cta.priority @ 2\"}")),
              HasSubstr("(lifecycle 't': guard of transition 'finish')"));
  EXPECT_THAT(Error(Replace(kValid, "who: [owner]}", "who: [owner], guard: \"ctx.priority < 2\"}")),
              HasSubstr("lc.yaml:8:64: undeclared reference to 'ctx'"));
}

TEST(LifecycleYaml, GuardReadingAnUnknownFieldIsACompileError) {
  auto guarded = [](std::string_view guard) {
    return Replace(kValid, "who: [owner]}", StrCat("who: [owner], guard: \"", guard, "\"}"));
  };
  // Located at the field, whichever branch it sits in.
  EXPECT_EQ(Error(guarded("cta.priorty < 2")),
            "lc.yaml:8:68: cta has no field 'priorty' (lifecycle 't': guard of transition "
            "'finish')");
  EXPECT_THAT(Error(guarded("actor.is_owner && cta.priorty < 2")),
              HasSubstr("lc.yaml:8:86: cta has no field 'priorty'"));
  EXPECT_THAT(Error(guarded("actor.owner.id == 'x'")),
              HasSubstr("lc.yaml:8:70: actor has no field 'owner'"));
  EXPECT_THAT(Error(guarded("event.when > now")), HasSubstr("event has no field 'when'"));
  // Text inside string literals is not a field access.
  EXPECT_TRUE(LoadLifecycleString(guarded("event.reason != 'cta.bogus'"), "lc.yaml").ok());
  EXPECT_TRUE(
      LoadLifecycleString(guarded("cta.owner == actor.id && now > cta.created_at"), "lc.yaml")
          .ok());
}

TEST(LifecycleYaml, GuardMustBeBool) {
  EXPECT_EQ(Error(Replace(kValid, "who: [owner]}", "who: [owner], guard: \"1 + 2\"}")),
            "lc.yaml:8:64: guard has type int, expected bool (lifecycle 't': guard of transition "
            "'finish')");
  EXPECT_EQ(Error(Replace(kValid, "who: [owner]}", "who: [owner], guard: \"\"}")),
            "lc.yaml:8:63: empty guard");
}

TEST(LifecycleYaml, EscalationEventMustBeASystemOverlayOfEveryOpenStatus) {
  const std::string with_event =
      Replace(Replace(kValid, "[finish, reopen]", "[finish, reopen, escalate]"), "transitions:\n",
              "transitions:\n  - {event: escalate, from: new, who: [system]}\n");
  absl::StatusOr<Lifecycle> ok =
      LoadLifecycleString(with_event + "timed: {escalation: escalate}\n", "lc.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->event_name(ok->escalation_event()), "escalate");
  EXPECT_EQ(Error(with_event + "timed: {escalation: finish}\n"),
            "lc.yaml:11:21: lifecycle 't': escalation event 'finish' must apply to open status "
            "'new', allow 'system' and keep the status");
  EXPECT_EQ(Error(Replace(with_event, "who: [system]}", "who: [admin]}") +
                  "timed: {escalation: escalate}\n"),
            "lc.yaml:11:21: lifecycle 't': escalation event 'escalate' must apply to open status "
            "'new', allow 'system' and keep the status");
  EXPECT_EQ(Error(with_event + "timed: {escalation: escalation}\n"),
            "lc.yaml:11:21: lifecycle 't': timed event 'escalation' is unknown");
}

TEST(LifecycleYaml, UnknownTimedEvent) {
  EXPECT_EQ(Error(std::string(kValid) + "timed: {due_breach: late}\n"),
            "lc.yaml:10:21: lifecycle 't': timed event 'late' is unknown");
}

TEST(LifecycleYaml, TimedEventMustClearItsCause) {
  EXPECT_EQ(Error(std::string(kValid) + "timed: {due_breach: finish}\n"),
            "lc.yaml:10:21: lifecycle 't': timed event 'finish' from status 'new' must allow "
            "'system' and do 'mark_breached'");
}

TEST(LifecycleYaml, SyntaxErrorIsLocated) {
  EXPECT_THAT(Error("name: t\nstatuses: [a, b\n"), HasSubstr("lc.yaml:3:1: "));
}

TEST(LifecycleYaml, MissingFileIsAnError) {
  absl::StatusOr<Lifecycle> lc = LoadLifecycleFile("/nonexistent/lifecycle.yaml");
  EXPECT_FALSE(lc.ok());
}

TEST(LifecycleDef, CompileFromStructsNamesTheStatus) {
  LifecycleDef def;
  def.name = "x";
  def.initial = "a";
  def.statuses = {{"a", CtaCategory::kOpen, {}}, {"b", CtaCategory::kClosedLost, {}}};
  def.events = {"lose", "revive"};
  def.transitions = {{"lose", {"a"}, "b", {"owner"}, {}, absl::ZeroDuration()},
                     {"revive", {"b"}, "a", {"owner"}, {}, absl::ZeroDuration()}};
  absl::StatusOr<Lifecycle> lc = Lifecycle::Compile(def);
  ASSERT_FALSE(lc.ok());
  EXPECT_THAT(std::string(lc.status().message()), HasSubstr("status 'b' is closed"));
  def.transitions[1].reopen_within = absl::Hours(1);
  EXPECT_TRUE(Lifecycle::Compile(def).ok());
  def.initial = "b";
  EXPECT_EQ(Lifecycle::Compile(def).status().message(),
            "lifecycle 'x': initial status 'b' must be in category open");
}

}  // namespace
}  // namespace cscore
