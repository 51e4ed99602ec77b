#include "cscore/rules/apply.h"

#include "absl/time/time.h"
#include "cscore/base/strings.h"

namespace cscore {

OpenCtaInfo CtaStoreLookup::Info(CtaId id) const {
  return {id, store_.type_name(id), store_.reason(id), store_.domain(id), store_.snoozed(id)};
}

std::optional<OpenCtaInfo> CtaStoreLookup::FindOpen(std::string_view account, std::string_view type,
                                                    std::string_view reason) const {
  std::optional<CtaId> id = store_.FindOpen(account, type, reason);
  if (!id.has_value()) return std::nullopt;
  return Info(*id);
}

void CtaStoreLookup::FindOpenBatch(std::span<const std::string_view> accounts,
                                   std::string_view type, std::string_view reason,
                                   std::span<std::optional<OpenCtaInfo>> out) const {
  const size_t n = std::min(accounts.size(), out.size());
  std::vector<CtaId> ids(n);
  store_.FindOpenBatch(accounts.first(n), type, reason, ids);
  // Every hit has this key's type and reason: read those once, and prefetch the two columns
  // each hit still needs a few hits ahead (they are random reads).
  std::string_view type_name, reason_text;
  for (CtaId id : ids) {
    if (id < 0) continue;
    type_name = store_.type_name(id);
    reason_text = store_.reason(id);
    break;
  }
  constexpr size_t kAhead = 8;
  const std::span<const uint8_t> domains = store_.domain_column(), flags = store_.flags_column();
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n && ids[i + kAhead] >= 0) {
      __builtin_prefetch(&domains[ids[i + kAhead]]);
      __builtin_prefetch(&flags[ids[i + kAhead]]);
    }
    if (ids[i] < 0) {
      out[i] = std::nullopt;
    } else {
      out[i] = OpenCtaInfo{ids[i], type_name, reason_text, static_cast<RiskDomain>(domains[ids[i]]),
                           (flags[ids[i]] & CtaStore::kSnoozed) != 0};
    }
  }
}

void CtaStoreLookup::OpenOfAccount(std::string_view account, std::vector<OpenCtaInfo>& out) const {
  for (CtaId id : store_.OpenOfAccount(account)) out.push_back(Info(id));
}

ApplyReport ApplyIntents(const RuleSet& rules, const RuleRun& run, absl::CivilDay as_of,
                         CtaStore& store, RuleState& state) {
  ApplyReport report;
  const absl::Time at = absl::FromCivil(as_of, absl::UTCTimeZone());
  for (size_t i = 0; i < run.intents.size(); ++i) {
    const Intent& in = run.intents[i];
    const RuleAction& action = rules.action(in);
    const Actor system{rules.rule(in.rule).name, Role::kSystem};
    const absl::Time due = absl::FromCivil(in.due, absl::UTCTimeZone());
    absl::Status st;
    switch (in.kind) {
      case IntentKind::kOpen: {
        const auto& a = std::get<OpenCtaAction>(action);
        OpenCta cta;
        cta.account = in.account;
        cta.type = a.type;
        cta.reason = a.reason;
        cta.domain = a.domain;
        cta.priority = a.priority;
        cta.owner = in.owner.empty() ? std::string_view(a.owner_role) : in.owner;
        cta.due = due;
        cta.playbook = a.playbook;
        absl::StatusOr<CtaId> id = store.Open(cta, system, at);
        st = id.status();
        report.opened += id.ok();
        break;
      }
      case IntentKind::kUpdate: {
        const auto& a = std::get<OpenCtaAction>(action);
        if (!store.Contains(in.cta)) {
          st = absl::NotFoundError(StrCat("CTA ", in.cta, " does not exist"));
          break;
        }
        CtaUpdate update;
        if (store.priority(in.cta) != a.priority) update.priority = a.priority;
        if (store.due_column()[in.cta] != absl::ToUnixMicros(due)) update.due = due;
        if (!update.priority && !update.due) {
          ++report.unchanged;
          break;
        }
        st = store.Update(in.cta, update, system, at);
        report.updated += st.ok();
        break;
      }
      case IntentKind::kClose: {
        const auto& a = std::get<CloseCtaAction>(action);
        if (!store.Contains(in.cta)) {
          st = absl::NotFoundError(StrCat("CTA ", in.cta, " does not exist"));
          break;
        }
        const std::string type(store.type_name(in.cta));
        const std::string reason(store.reason(in.cta));
        st = store.Close(in.cta, a.status, system, at, rules.rule(in.rule).name);
        if (st.ok()) {
          ++report.closed;
          state.RecordClose(in.account, type, reason, as_of);
        }
        break;
      }
      case IntentKind::kSetMeasure:
      case IntentKind::kTag:
        report.passed_on.push_back(i);
        break;
    }
    if (!st.ok()) {
      report.rejected.emplace_back(
          i, absl::Status(st.code(), StrCat("rule '", rules.rule(in.rule).name, "', account '",
                                            in.account, "': ", ToStd(st.message()))));
    }
  }
  state.Record(rules, run, as_of);
  return report;
}

}  // namespace cscore
