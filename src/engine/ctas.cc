#include "cscore/engine/ctas.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cscore/base/strings.h"
#include "cscore/escalation/timers.h"
#include "engine/cta_log.h"
#include "engine/status_macros.h"

namespace cscore {

CtaBook::~CtaBook() = default;

absl::StatusOr<std::unique_ptr<CtaBook>> CtaBook::Load(const Store& store,
                                                       const EngineOptions& options) {
  std::unique_ptr<CtaBook> book(new CtaBook());
  book->options_ = options;
  book->options_.progress = nullptr;
  CSCORE_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, store.LoadAudit(0));
  CSCORE_ASSIGN_OR_RETURN(
      book->log_, engine_internal::CtaLog::Restore(book->options_.CtaOptions(), std::move(rows),
                                                   /*keep_rows=*/true));
  CSCORE_ASSIGN_OR_RETURN(book->escalations_, store.LoadEscalations());
  return book;
}

const CtaStore& CtaBook::ctas() const { return log_->store(); }

std::vector<AuditRow> CtaBook::History(int64_t cta) const {
  std::vector<AuditRow> out;
  for (const AuditRow& r : log_->rows()) {
    if (r.cta_id == cta) out.push_back(r);
  }
  return out;
}

std::optional<EscalationRow> CtaBook::Escalation(int64_t cta) const {
  for (const EscalationRow& r : escalations_) {
    if (r.cta_id == cta) return r;
  }
  return std::nullopt;
}

absl::StatusOr<EscalationChain> CtaBook::Chain(int64_t cta, absl::Time at) const {
  const CtaStore& s = log_->store();
  if (cta < 0 || cta >= s.size()) {
    return absl::NotFoundError(absl::StrFormat("unknown CTA id %d", cta));
  }
  if (!options_.escalator) {
    return absl::NotFoundError("no organisation is configured (organisation.yaml)");
  }
  const CtaId id = static_cast<CtaId>(cta);
  std::optional<EscalationRow> row = Escalation(cta);
  CtaEscalationInput in;
  in.id = id;
  in.account_id = std::string(s.account(id));
  in.owner = std::string(s.owner(id));
  in.domain = std::string(RiskDomainName(s.domain(id)));
  EscalationState state;
  if (row) {
    in.raised_at = absl::FromUnixSeconds(row->raised_at);
    in.arr = row->arr;
    in.tier = row->tier;
    in.renewal_at_risk = (row->flags & 1) != 0;
    in.adoption_red = (row->flags & 2) != 0;
    in.edm_left = (row->flags & 4) != 0;
    if (row->acknowledged_at != 0) in.acknowledged_at = absl::FromUnixSeconds(row->acknowledged_at);
    if (row->resolved_at != 0) in.resolved_at = absl::FromUnixSeconds(row->resolved_at);
    state = {row->policy_id, row->policy_version, row->next_step};
  } else if (s.IsOpen(id) && s.flagged(id)) {
    in.raised_at = absl::FromUnixMicros(s.flagged_at_column()[id]);
  } else {
    return absl::NotFoundError(absl::StrFormat("CTA %d was never flagged", cta));
  }
  if (!s.flagged(id) && in.resolved_at == absl::InfiniteFuture()) {
    const int64_t ended = log_->flag_ended_at(id);
    if (ended != kNoTime) in.resolved_at = absl::FromUnixMicros(ended);
  }
  return options_.escalator->Chain(in, at, state.policy_id.empty() ? nullptr : &state);
}

absl::StatusOr<Role> CtaBook::RoleOf(std::string_view person) const {
  if (std::find(options_.admins.begin(), options_.admins.end(), person) != options_.admins.end()) {
    return Role::kAdmin;
  }
  if (!options_.escalator) return Role::kCsm;
  const Organisation& org = options_.escalator->organisation();
  std::optional<PersonId> p = org.FindPerson(person);
  if (!p) {
    return absl::PermissionDeniedError(
        StrCat("'", person, "' is not a person of the organisation; nothing was changed"));
  }
  const std::string& role = org.person(*p).role;
  if (absl::StatusOr<Role> r = ParseRole(role); r.ok() && *r != Role::kSystem) return *r;
  if (role.rfind("vp", 0) == 0) return Role::kVp;
  return Role::kCsm;
}

absl::StatusOr<std::vector<AuditRow>> CtaBook::Transition(Store& store,
                                                          const TransitionRequest& request) {
  CtaStore& s = log_->store();
  if (request.cta < 0 || request.cta >= s.size()) {
    return absl::NotFoundError(
        absl::StrFormat("unknown CTA id %d (the store holds %d CTAs)", request.cta, s.size()));
  }
  if (request.actor.empty()) return absl::InvalidArgumentError("a transition needs an actor");
  if (request.actor == "system" || request.actor == "rules" || request.actor == "escalation") {
    return absl::PermissionDeniedError(
        StrCat("'", request.actor, "' is reserved for the daily run; nothing was changed"));
  }
  CSCORE_ASSIGN_OR_RETURN(Role role, RoleOf(request.actor));
  // Stored to the second, like every row of the log.
  const absl::Time at = absl::FromUnixSeconds(absl::ToUnixSeconds(request.at));
  const Actor actor{request.actor, role};
  CSCORE_RETURN_IF_ERROR(s.Fire(static_cast<CtaId>(request.cta), request.event, actor, at,
                                {.reason = request.reason, .until = request.until}));
  StepWrite w{.date = absl::ToCivilDay(at, absl::UTCTimeZone()),
              .step = "cta transition",
              .journaled = false};
  w.audit = log_->TakeNewRows();
  CSCORE_RETURN_IF_ERROR(store.Commit(w));
  return w.audit;
}

}  // namespace cscore
