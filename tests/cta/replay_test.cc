// The store is a pure fold of its audit log: a randomized history of valid and invalid calls,
// replayed from the log alone, must rebuild every column exactly.
#include <random>
#include <string>
#include <vector>

#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/cta/store.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

absl::Time At(int64_t minutes) {
  return absl::FromUnixSeconds(1'700'000'000) + absl::Minutes(minutes);
}

// Renewals follow the default lifecycle plus guards, so guard rejections are part of the
// random history (and, being rejections, never part of the log).
Lifecycle RenewalLifecycle() {
  std::string yaml(DefaultLifecycleYaml());
  auto replace = [&](std::string_view from, std::string_view to) {
    const size_t at = yaml.find(from);
    if (at == std::string::npos) std::abort();
    yaml.replace(at, from.size(), to);
  };
  replace("name: default\n", "name: renewal\ntypes: [Renewal]\n");
  replace("to: work_in_progress, who: [owner, escalation_chain, admin]}",
          "to: work_in_progress, who: [owner, escalation_chain, admin],\n"
          "     guard: \"actor.is_owner || cta.priority < 2\"}");
  replace("to: closed_success,\n     who: [owner, escalation_chain, admin, system]}",
          "to: closed_success,\n     who: [owner, escalation_chain, admin, system],\n"
          "     guard: \"cta.tasks_done == cta.task_count || event.reason != ''\"}");
  absl::StatusOr<Lifecycle> lc = LoadLifecycleString(yaml, "renewal.yaml");
  if (!lc.ok()) std::abort();
  return *std::move(lc);
}

CtaStoreOptions Options() {
  CtaStoreOptions o;
  o.custom_types = {"Renewal"};
  o.lifecycles = {RenewalLifecycle()};
  o.playbooks = {{"save",
                  {{"call", absl::Hours(48), Role::kCsm},
                   {"review", absl::Hours(24 * 7), Role::kTeamLead},
                   {"plan", absl::Hours(24 * 14), Role::kCsm}}}};
  return o;
}

template <typename T>
void ExpectSame(std::span<const T> a, std::span<const T> b, const char* column) {
  ASSERT_EQ(a.size(), b.size()) << column;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << column << " differs at CTA " << i;
  }
}

void ExpectSameStore(const CtaStore& a, const CtaStore& b) {
  ExpectSame(a.status_column(), b.status_column(), "status");
  ExpectSame(a.flags_column(), b.flags_column(), "flags");
  ExpectSame(a.type_column(), b.type_column(), "type");
  ExpectSame(a.domain_column(), b.domain_column(), "domain");
  ExpectSame(a.priority_column(), b.priority_column(), "priority");
  ExpectSame(a.account_column(), b.account_column(), "account");
  ExpectSame(a.reason_column(), b.reason_column(), "reason");
  ExpectSame(a.owner_column(), b.owner_column(), "owner");
  ExpectSame(a.source_column(), b.source_column(), "source");
  ExpectSame(a.source_role_column(), b.source_role_column(), "source_role");
  ExpectSame(a.snooze_reason_column(), b.snooze_reason_column(), "snooze_reason");
  ExpectSame(a.playbook_column(), b.playbook_column(), "playbook");
  ExpectSame(a.created_column(), b.created_column(), "created");
  ExpectSame(a.due_column(), b.due_column(), "due");
  ExpectSame(a.started_column(), b.started_column(), "started");
  ExpectSame(a.closed_column(), b.closed_column(), "closed");
  ExpectSame(a.flagged_at_column(), b.flagged_at_column(), "flagged_at");
  ExpectSame(a.snooze_until_column(), b.snooze_until_column(), "snooze_until");
  ExpectSame(a.updated_column(), b.updated_column(), "updated");
  ExpectSame(a.task_done_column(), b.task_done_column(), "task_done");
  ASSERT_EQ(a.comments().size(), b.comments().size());
  for (size_t i = 0; i < a.comments().size(); ++i) {
    EXPECT_EQ(a.comments()[i].cta, b.comments()[i].cta);
    EXPECT_EQ(a.comments()[i].text, b.comments()[i].text);
  }
  ASSERT_EQ(a.audit().size(), b.audit().size());
  // The indexes are rebuilt too: dedup and per-account lookups agree.
  for (CtaId id = 0; id < a.size(); ++id) {
    ASSERT_EQ(a.FindOpen(a.account(id), a.type_name(id), a.reason(id)),
              b.FindOpen(b.account(id), b.type_name(id), b.reason(id)));
  }
  for (int acct = 0; acct < 50; ++acct) {
    const std::string name = "acct-" + std::to_string(acct);
    ASSERT_EQ(a.OpenOfAccount(name), b.OpenOfAccount(name));
  }
}

TEST(CtaReplay, RandomHistoryOf100kEventsReplaysExactly) {
  absl::StatusOr<std::unique_ptr<CtaStore>> created = CtaStore::Create(Options());
  ASSERT_TRUE(created.ok());
  CtaStore* live = created->get();
  std::mt19937_64 rng(20261123);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::vector<std::string> people = {"ann", "bob", "cy", "dee"};
  const std::vector<Role> roles = {Role::kCsm,   Role::kCsm,    Role::kTeamLead,
                                   Role::kAdmin, Role::kSystem, Role::kVp};
  const std::vector<std::string> types = {"Risk", "Expansion", "Renewal", "Objective"};
  const std::vector<std::string> reasons = {"usage drop", "nps detractor", "champion left",
                                            "ticket backlog", "renewal"};
  const Lifecycle& lc = Lifecycle::Default();
  int64_t minute = 0, accepted = 0, rejected = 0;
  for (int step = 0; step < 100'000; ++step) {
    minute += pick(120);
    const std::string who = people[pick(static_cast<int>(people.size()))];
    const Actor by{.id = who, .role = roles[pick(static_cast<int>(roles.size()))]};
    const int kind = pick(100);
    // Ids may be out of range on purpose (unknown CTA).
    const CtaId id = live->size() == 0 ? 0 : pick(static_cast<int>(live->size()) + 3);
    absl::Status st;
    if (kind < 15 || live->size() == 0) {
      const std::string account = "acct-" + std::to_string(pick(50));
      OpenCta c{.account = account,
                .type = types[pick(static_cast<int>(types.size()))],
                .reason = reasons[pick(static_cast<int>(reasons.size()))],
                .domain = static_cast<RiskDomain>(pick(kRiskDomainCount)),
                .priority = pick(4),
                .owner = people[pick(static_cast<int>(people.size()))],
                .due = pick(3) == 0 ? absl::InfiniteFuture() : At(minute + pick(20'000)),
                .playbook = pick(2) == 0 ? "save" : ""};
      st = live->Open(c, by, At(minute)).status();
    } else if (kind < 75) {
      const std::string& event = lc.event_name(pick(lc.event_count()));
      const FireArgs args{.reason = pick(3) == 0 ? "because" : "",
                          .until = At(minute + pick(5000) - 100)};
      st = live->Fire(id, event, by, At(minute), args);
    } else if (kind < 82) {
      static const char* kClosed[] = {"closed_success", "closed_lost", "closed_no_action", "new"};
      st = live->Close(id, kClosed[pick(4)], by, At(minute), "done");
    } else if (kind < 88) {
      CtaUpdate u;
      if (pick(2)) u.priority = pick(5);
      if (pick(2)) u.due = At(minute + pick(10'000));
      if (pick(3) == 0) u.owner = people[pick(static_cast<int>(people.size()))];
      st = live->Update(id, u, by, At(minute));
    } else if (kind < 94) {
      st = live->SetTaskDone(id, pick(4), pick(2) == 0, by, At(minute));
    } else if (kind < 97) {
      st = live->AddComment(id, "note " + std::to_string(pick(30)), by, At(minute));
    } else {
      const TimedResult r = live->FireTimedEvents(At(minute));
      accepted += r.woken + r.breached;
      continue;
    }
    (st.ok() ? accepted : rejected) += 1;
  }
  // Both valid and invalid calls were exercised in quantity.
  EXPECT_GT(accepted, 20'000);
  EXPECT_GT(rejected, 20'000);
  EXPECT_EQ(static_cast<int64_t>(live->audit().size()), accepted);

  absl::StatusOr<std::unique_ptr<CtaStore>> replayed =
      CtaStore::Replay(Options(), live->audit(), live->strings());
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  ExpectSameStore(*live, **replayed);
}

TEST(CtaReplay, CorruptLogIsDataLossNamingTheRecord) {
  absl::StatusOr<std::unique_ptr<CtaStore>> created = CtaStore::Create(Options());
  ASSERT_TRUE(created.ok());
  CtaStore* live = created->get();
  const Actor ann{.id = "ann", .role = Role::kCsm};
  const CtaId id = *live->Open({.account = "acme", .reason = "r", .owner = "ann"}, ann, At(0));
  ASSERT_TRUE(live->Fire(id, "start", ann, At(1)).ok());
  ASSERT_TRUE(live->Fire(id, "flag", ann, At(2)).ok());
  std::vector<AuditRecord> log(live->audit().begin(), live->audit().end());
  const std::vector<std::string> strings(live->strings().begin(), live->strings().end());

  std::vector<AuditRecord> bad = log;
  bad[1].event = static_cast<uint8_t>(Lifecycle::Default().FindEvent("reopen"));
  absl::StatusOr<std::unique_ptr<CtaStore>> r = CtaStore::Replay(Options(), bad, strings);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "audit record 1 (CTA 0): no such transition");
  bad = log;
  bad[2].cta = 5;
  EXPECT_EQ(CtaStore::Replay(Options(), bad, strings).status().message(),
            "audit record 2 (CTA 5): unknown CTA id");
  bad = log;
  bad[0].s0 = 1000;
  EXPECT_EQ(CtaStore::Replay(Options(), bad, strings).status().code(), absl::StatusCode::kDataLoss);
  bad = log;
  bad.push_back(log[0]);  // opening the same CTA id twice
  EXPECT_EQ(CtaStore::Replay(Options(), bad, strings).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(CtaStore::Replay(Options(), log, strings).ok());
}

}  // namespace
}  // namespace cscore
