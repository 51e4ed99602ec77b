// Escalation timers as timed events of the CTA lifecycle. The flagged CTAs of a store become
// escalation inputs (EscalationInputs; the caller adds what the store does not know: ARR,
// tier, renewal / adoption / decision-maker flags), Escalator::Due says which steps have
// waited long enough, and FireEscalations fires the lifecycle's escalation event (the
// default lifecycle's `escalate`) once per step as the system actor "escalation", at the
// step's due time, with the level and its targets as the reason: every escalation is in the
// audit log and replays with the rest. Due with the persisted states fires nothing twice, so a
// day's run is deterministic and a rerun of it appends nothing.
//
//   std::vector<cscore::CtaEscalationInput> in = cscore::EscalationInputs(store);
//   absl::StatusOr<cscore::DueBatch> due = escalator.Due(in, states, as_of);
//   cscore::EscalationFireReport fired = cscore::FireEscalations(*due, escalator, store);
#ifndef CSCORE_ESCALATION_TIMERS_H_
#define CSCORE_ESCALATION_TIMERS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cscore/cta/store.h"
#include "cscore/escalation/policy.h"

namespace cscore {

// One flagged open CTA as escalation sees it: id, account, owner, domain ("none" outside the
// scorecard), raised_at = when it was flagged. Not flagged, closed or unknown: an error.
absl::StatusOr<CtaEscalationInput> EscalationInputOf(const CtaStore& store, CtaId id);
// Every flagged open CTA of the store, in id order.
std::vector<CtaEscalationInput> EscalationInputs(const CtaStore& store);

struct EscalationFireReport {
  int64_t fired = 0;
  std::vector<std::pair<size_t, absl::Status>> rejected;  // (index into due.events, why)
};

// Fires the escalation event of each due step on its CTA (events in due order). A step whose
// CTA is unknown, closed, or has a lifecycle without an escalation event is rejected with its
// reason; the others proceed.
EscalationFireReport FireEscalations(const DueBatch& due, const Escalator& escalator,
                                     CtaStore& store);

// The audit reason FireEscalations records for a step, e.g.
// "policy 'flagged' v1, level 2 (pass 1): vp-cs, team support".
std::string EscalationReason(const EscalationEvent& event, const Organisation& org);

}  // namespace cscore

#endif  // CSCORE_ESCALATION_TIMERS_H_
