#include "cscore/escalation/timers.h"

#include "absl/strings/str_format.h"

namespace cscore {

absl::StatusOr<CtaEscalationInput> EscalationInputOf(const CtaStore& store, CtaId id) {
  if (!store.Contains(id)) {
    return absl::NotFoundError(absl::StrFormat("unknown CTA id %d", id));
  }
  if (!store.IsOpen(id) || !store.flagged(id)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "CTA %d (account '%s') is not an open flagged CTA", id, std::string(store.account(id))));
  }
  CtaEscalationInput in;
  in.id = id;
  in.account_id = std::string(store.account(id));
  in.owner = std::string(store.owner(id));
  in.domain = std::string(RiskDomainName(store.domain(id)));
  in.raised_at = absl::FromUnixMicros(store.flagged_at_column()[id]);
  return in;
}

std::vector<CtaEscalationInput> EscalationInputs(const CtaStore& store) {
  std::vector<CtaEscalationInput> out;
  for (CtaId id : store.Flagged()) out.push_back(*EscalationInputOf(store, id));
  return out;
}

std::string EscalationReason(const EscalationEvent& event, const Organisation& org) {
  std::string targets;
  for (const ResolvedTarget& t : event.step.targets) {
    if (!targets.empty()) targets += ", ";
    targets += t.is_team ? "team " + org.team(t.id).id : org.person(t.id).id;
  }
  return absl::StrFormat("policy '%s' v%d, level %d (pass %d): %s", event.policy_id,
                         event.policy_version, event.step.level, event.step.repeat + 1, targets);
}

EscalationFireReport FireEscalations(const DueBatch& due, const Escalator& escalator,
                                     CtaStore& store) {
  EscalationFireReport report;
  const Actor system{.id = "escalation", .role = Role::kSystem};
  for (size_t i = 0; i < due.events.size(); ++i) {
    const EscalationEvent& e = due.events[i];
    absl::Status st;
    if (e.cta_id < 0 || e.cta_id >= store.size()) {
      st = absl::NotFoundError(absl::StrFormat("unknown CTA id %d", e.cta_id));
    } else {
      const CtaId id = static_cast<CtaId>(e.cta_id);
      const Lifecycle& lc = store.lifecycle(id);
      if (lc.escalation_event() < 0) {
        st = absl::FailedPreconditionError(absl::StrFormat(
            "CTA %d: lifecycle '%s' has no escalation event (timed: escalation)", id, lc.name()));
      } else {
        st = store.Fire(id, lc.event_name(lc.escalation_event()), system, e.step.fire_at,
                        {.reason = EscalationReason(e, escalator.organisation())});
      }
    }
    if (st.ok()) {
      ++report.fired;
    } else {
      report.rejected.emplace_back(i, std::move(st));
    }
  }
  return report;
}

}  // namespace cscore
