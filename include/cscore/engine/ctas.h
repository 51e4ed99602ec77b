// The CTAs of a store outside the daily run: read them (with each one's audit history and
// escalation path) and change them as a person, the way `cscore cta` does.
//
// CtaBook::Load replays the store's audit log into a CtaStore with the configuration's
// lifecycles. Transition fires one lifecycle event as a person of the organisation: the
// lifecycle's `who` decides (the owner, anyone up the owner's reporting chain through the
// organisation, admins), then its guard; a refused transition returns PermissionDenied or
// FailedPrecondition and writes nothing. An accepted one is persisted as its audit rows in one
// store write (not a run step: no journal entry), so the next daily run and every reader see
// it. After a failed write the book is stale: load it again.
//
//   auto book = cscore::CtaBook::Load(store, *cscore::LoadEngineOptions("config"));
//   auto rows = (*book)->Transition(store, {.cta = 7, .event = "start", .actor = "csm-1",
//                                           .at = absl::Now()});
#ifndef CSCORE_ENGINE_CTAS_H_
#define CSCORE_ENGINE_CTAS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cscore/cta/store.h"
#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"
#include "cscore/escalation/policy.h"

namespace cscore {

namespace engine_internal {
class CtaLog;
}

struct TransitionRequest {
  int64_t cta = 0;
  std::string event = {};
  std::string actor = {};  // a person id of the organisation
  std::string reason = {};
  absl::Time at = absl::UnixEpoch();        // when the person acted (stored to the second)
  absl::Time until = absl::InfinitePast();  // snooze end, for snoozing events
};

class CtaBook {
 public:
  // DataLoss when the log does not fit the configuration (a status or event that no
  // lifecycle has any more).
  static absl::StatusOr<std::unique_ptr<CtaBook>> Load(const Store& store,
                                                       const EngineOptions& options);
  ~CtaBook();

  const CtaStore& ctas() const;
  // The audit rows of one CTA, oldest first.
  std::vector<AuditRow> History(int64_t cta) const;
  // The CTA's escalation episode as the last run left it, if it was ever flagged under a run.
  std::optional<EscalationRow> Escalation(int64_t cta) const;
  // The escalation chain at `at`, routed with what the last run saw (ARR, tier, flags) and
  // the policy version the episode was raised under. NotFound without an organisation or
  // when the CTA was never flagged.
  absl::StatusOr<EscalationChain> Chain(int64_t cta, absl::Time at) const;
  const Escalator* escalator() const { return options_.escalator.get(); }

  // The role a person acts with: admins (engine.yaml) are kAdmin, else the organisation role
  // when it names one (csm, team_lead, vp*, ceo, admin), else kCsm. PermissionDenied for
  // someone the organisation does not know (when there is one).
  absl::StatusOr<Role> RoleOf(std::string_view person) const;

  // Fires request.event on request.cta as request.actor and commits the resulting audit rows.
  absl::StatusOr<std::vector<AuditRow>> Transition(Store& store, const TransitionRequest& request);

 private:
  CtaBook() = default;
  EngineOptions options_;
  std::unique_ptr<engine_internal::CtaLog> log_;
  std::vector<EscalationRow> escalations_;
};

}  // namespace cscore

#endif  // CSCORE_ENGINE_CTAS_H_
