// Escalation policies and their timers, with incident-tool semantics: ordered levels, each
// with targets and a timeout; a flagged CTA goes to level 1 when raised and to the next level
// when not acknowledged (or not resolved, per policy) within the level's timeout; it stops on
// acknowledge / resolve, skips a level with nobody to notify, repeats the whole policy a
// bounded number of times, and fires each (repeat, level) step at most once per CTA.
//
// Versions: several PolicyDefs may share an id with different `version`s. A CTA is routed to
// the version in effect when it was raised (the highest version whose effective_from is not
// after raised_at) and keeps it: EscalationState records the version, and an explicit
// CtaEscalationInput::policy_version pins it. The schedule is a pure function of the CTA's
// fields and the policy, so Due(cta, state, as_of) is deterministic and idempotent: running a
// day twice fires nothing new, and a late run catches up on every step already due.
//
//   absl::StatusOr<cscore::Escalator> esc = cscore::Escalator::Build(org, policies);
//   absl::StatusOr<cscore::DueBatch> due = esc->Due(ctas, states, as_of);  // timed events
//   absl::StatusOr<cscore::EscalationChain> chain = esc->Chain(ctas[0], as_of);
#ifndef CSCORE_ESCALATION_POLICY_H_
#define CSCORE_ESCALATION_POLICY_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cscore/escalation/organisation.h"

namespace cscore {

// Who a level notifies. kRole resolves to the nearest person above the CTA's owner with that
// role (else the first person with the role); kOwnerManager to the owner's manager (the team
// lead); kDomainOwner to the team(s) owning the CTA's risk domain, with their review meeting.
struct TargetDef {
  enum class Kind { kPerson, kTeam, kRole, kOwnerManager, kDomainOwner };
  Kind kind = Kind::kPerson;
  std::string ref;  // person id, team id or role; empty for kOwnerManager / kDomainOwner
  SourceLoc loc;
};

// A level applies only to CTAs that meet its condition; otherwise it is empty and skipped.
// Flags are "renewal_at_risk", "adoption_red", "edm_left"; any one of them suffices.
struct LevelCondition {
  std::vector<std::string> any_flag;  // empty: no flag needed
  double min_arr = 0;
  std::vector<std::string> tiers;  // empty: any tier
};

struct LevelDef {
  std::vector<TargetDef> targets;
  absl::Duration timeout = absl::InfiniteDuration();  // infinite: the chain ends here
  LevelCondition when;
  SourceLoc loc;
};

struct PolicyDef {
  enum class StopOn { kAcknowledge, kResolve };
  std::string id;
  int version = 1;
  absl::Time effective_from = absl::InfinitePast();
  StopOn stop_on = StopOn::kAcknowledge;
  int repeat = 0;  // extra passes over all levels, 0..kMaxRepeat
  // Routing: the first policy (in definition order of ids) whose domains contain the CTA's
  // domain (empty: every domain) and whose min_arr the CTA reaches handles it.
  std::vector<std::string> domains;
  double min_arr = 0;
  std::vector<LevelDef> levels;
  SourceLoc loc;
  static constexpr int kMaxRepeat = 9;
};

// What escalation needs to know about one flagged CTA.
struct CtaEscalationInput {
  int64_t id = 0;
  std::string account_id;
  std::string owner;   // person id
  std::string domain;  // one of kRiskDomains; "" or "none": routed to all-domain policies only
  double arr = 0;
  std::string tier;  // e.g. "strategic", "enterprise", "smb"
  bool renewal_at_risk = false;
  bool adoption_red = false;
  bool edm_left = false;  // the executive decision maker left
  absl::Time raised_at;   // when the CTA was flagged
  absl::Time acknowledged_at = absl::InfiniteFuture();
  absl::Time resolved_at = absl::InfiniteFuture();
  std::string policy_id;   // empty: route by domain and ARR
  int policy_version = 0;  // 0: the version in effect at raised_at
};

// The small per-CTA record the engine persists between runs.
struct EscalationState {
  std::string policy_id;  // empty until the first run that sees the CTA
  int policy_version = 0;
  int next_step = 0;  // flat (repeat * levels + level) index of the first step not yet fired
  bool operator==(const EscalationState&) const = default;
};

struct ResolvedTarget {
  bool is_team = false;
  int32_t id = kNoId;  // PersonId or TeamId
  // The team's next weekly review meeting on or after the step fires (UTC); year 0 if none.
  absl::CivilDay review_on = absl::CivilDay(0, 1, 1);
  bool operator==(const ResolvedTarget&) const = default;
};
using Targets = absl::InlinedVector<ResolvedTarget, 4>;

struct EscalationStep {
  int flat = 0;  // repeat * levels + (level - 1)
  int repeat = 0;
  int level = 1;  // 1-based
  absl::Time fire_at;
  bool fired = false;  // fire_at <= the query time
  Targets targets;
};

struct EscalationChain {
  int64_t cta_id = 0;
  std::string_view policy_id;
  int policy_version = 0;
  // Steps that fired or will fire unless the CTA is acknowledged / resolved first; steps
  // that the stop prevented are absent.
  std::vector<EscalationStep> steps;
  absl::Time stopped_at = absl::InfiniteFuture();
  Targets accountable;  // the targets of the last step fired, else the owner
};

struct EscalationEvent {
  int64_t cta_id = 0;
  std::string account_id;
  std::string policy_id;
  int policy_version = 0;
  EscalationStep step;
};

struct DueBatch {
  std::vector<EscalationEvent> events;  // by (fire_at, cta_id, step)
  std::vector<EscalationState> states;  // one per input CTA, to persist
};

struct InboxItem {
  int64_t cta_id = 0;
  absl::Time waiting_since;  // when the current step fired
  int level = 1;
};

// Immutable and thread-safe; shares its Organisation.
class Escalator {
 public:
  static absl::StatusOr<Escalator> Build(Organisation org, std::vector<PolicyDef> policies);

  const Organisation& organisation() const { return *org_; }

  // The escalation chain of a CTA as known at `at`, with who is accountable then (pass the CTA's
  // state to keep its policy version; nullptr routes it afresh). Errors name the CTA and the
  // unknown owner / domain.
  absl::StatusOr<EscalationChain> Chain(const CtaEscalationInput& cta, absl::Time at,
                                        const EscalationState* state = nullptr) const;
  // Who is accountable at `at`: the targets of the last step fired, else the owner.
  absl::StatusOr<Targets> Accountable(const CtaEscalationInput& cta, absl::Time at,
                                      const EscalationState* state = nullptr) const;

  // The timed events due by `as_of` that `states` have not fired yet, and the new states.
  // `states` is empty (nothing fired yet) or parallel to `ctas`. All or nothing.
  absl::StatusOr<DueBatch> Due(std::span<const CtaEscalationInput> ctas,
                               std::span<const EscalationState> states, absl::Time as_of) const;

  // CTAs waiting on a person (directly, or through a team they belong to) or on a team at
  // `as_of`: unresolved, with the current step targeting them; oldest first.
  absl::StatusOr<std::vector<InboxItem>> InboxOfPerson(std::span<const CtaEscalationInput> ctas,
                                                       std::string_view person,
                                                       absl::Time as_of) const;
  absl::StatusOr<std::vector<InboxItem>> InboxOfTeam(std::span<const CtaEscalationInput> ctas,
                                                     std::string_view team, absl::Time as_of) const;

  // Graphviz DOT of one CTA's path: the owner, then each step's targets, fired steps solid.
  absl::StatusOr<std::string> PathDot(const CtaEscalationInput& cta, absl::Time at) const;

  struct CompiledPolicy;

 private:
  absl::StatusOr<const CompiledPolicy*> Route(const CtaEscalationInput& cta,
                                              const EscalationState* state) const;
  absl::Status ChainInto(const CtaEscalationInput& cta, absl::Time at, const EscalationState* state,
                         EscalationChain& out) const;
  absl::StatusOr<std::vector<InboxItem>> Inbox(std::span<const CtaEscalationInput> ctas,
                                               PersonId person, TeamId team,
                                               absl::Time as_of) const;

  std::shared_ptr<const Organisation> org_;
  std::shared_ptr<const std::vector<CompiledPolicy>> policies_;  // grouped by id, versions up
};

}  // namespace cscore

#endif  // CSCORE_ESCALATION_POLICY_H_
