#include "cscore/escalation/policy.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "escalation/located.h"

namespace cscore {

using escalation_internal::LocatedError;

namespace {

constexpr std::array<std::string_view, 3> kFlags = {"renewal_at_risk", "adoption_red", "edm_left"};

int FlagBit(std::string_view flag) {
  for (size_t i = 0; i < kFlags.size(); ++i) {
    if (kFlags[i] == flag) return 1 << i;
  }
  return 0;
}

int FlagsOf(const CtaEscalationInput& cta) {
  return (cta.renewal_at_risk ? 1 : 0) | (cta.adoption_red ? 2 : 0) | (cta.edm_left ? 4 : 0);
}

struct CompiledTarget {
  TargetDef::Kind kind;
  int32_t id = kNoId;  // person or team
  std::string role;
};

struct CompiledLevel {
  std::vector<CompiledTarget> targets;
  absl::Duration timeout;
  int any_flag = 0;  // bit mask; 0: no flag needed
  double min_arr = 0;
  std::vector<std::string> tiers;
};

std::string Label(const PolicyDef& p) { return StrCat("policy '", p.id, "' v", p.version); }

}  // namespace

struct Escalator::CompiledPolicy {
  std::string id;
  int group = 0;  // rank of the id's first appearance
  int version = 1;
  absl::Time effective_from;
  PolicyDef::StopOn stop_on;
  int repeat = 0;
  uint32_t domains = 0;  // bit per kRiskDomains index
  double min_arr = 0;
  std::vector<CompiledLevel> levels;
};

absl::StatusOr<Escalator> Escalator::Build(Organisation org, std::vector<PolicyDef> policies) {
  auto shared_org = std::make_shared<const Organisation>(std::move(org));
  const Organisation& o = *shared_org;
  std::vector<CompiledPolicy> compiled;
  StringMap<int> groups;
  for (const PolicyDef& p : policies) {
    if (p.id.empty()) return LocatedError(p.loc, "policy without an id");
    const std::string label = Label(p);
    if (p.version < 1) return LocatedError(p.loc, StrCat(label, ": version must be at least 1"));
    if (p.repeat < 0 || p.repeat > PolicyDef::kMaxRepeat) {
      return LocatedError(p.loc, absl::StrFormat("%s: repeat %d is out of range 0..%d", label,
                                                 p.repeat, PolicyDef::kMaxRepeat));
    }
    if (p.levels.empty()) return LocatedError(p.loc, StrCat(label, ": no levels"));
    if (p.min_arr < 0) return LocatedError(p.loc, StrCat(label, ": min_arr must not be negative"));
    CompiledPolicy c;
    c.id = p.id;
    c.group = groups.emplace(p.id, static_cast<int>(groups.size())).first->second;
    c.version = p.version;
    c.effective_from = p.effective_from;
    c.stop_on = p.stop_on;
    c.repeat = p.repeat;
    c.min_arr = p.min_arr;
    for (const std::string& d : p.domains) {
      const int index = RiskDomainIndex(d);
      if (index < 0) return LocatedError(p.loc, StrCat(label, ": unknown risk domain '", d, "'"));
      c.domains |= 1u << index;
    }
    if (p.domains.empty()) c.domains = ~0u;
    for (size_t l = 0; l < p.levels.size(); ++l) {
      const LevelDef& level = p.levels[l];
      const std::string where = absl::StrFormat("%s level %d", label, l + 1);
      if (level.timeout <= absl::ZeroDuration()) {
        return LocatedError(level.loc, StrCat(where, ": timeout must be positive"));
      }
      if (l > 0 && p.levels[l - 1].timeout == absl::InfiniteDuration()) {
        return LocatedError(
            level.loc, absl::StrFormat("%s is unreachable: level %d has no timeout", where, l));
      }
      if (level.targets.empty()) return LocatedError(level.loc, StrCat(where, ": no targets"));
      CompiledLevel cl;
      cl.timeout = level.timeout;
      cl.min_arr = level.when.min_arr;
      cl.tiers = level.when.tiers;
      for (const std::string& f : level.when.any_flag) {
        const int bit = FlagBit(f);
        if (bit == 0) {
          return LocatedError(level.loc,
                              StrCat(where, ": unknown flag '", f,
                                     "' (expected renewal_at_risk, adoption_red or edm_left)"));
        }
        cl.any_flag |= bit;
      }
      for (const TargetDef& t : level.targets) {
        const SourceLoc& tloc = t.loc.line > 0 ? t.loc : level.loc;
        CompiledTarget ct{t.kind, kNoId, ""};
        switch (t.kind) {
          case TargetDef::Kind::kPerson: {
            auto id = o.FindPerson(t.ref);
            if (!id) return LocatedError(tloc, StrCat(where, ": unknown person '", t.ref, "'"));
            ct.id = *id;
            break;
          }
          case TargetDef::Kind::kTeam: {
            auto id = o.FindTeam(t.ref);
            if (!id) return LocatedError(tloc, StrCat(where, ": unknown team '", t.ref, "'"));
            if (o.members(*id).empty()) {
              return LocatedError(tloc, StrCat(where, ": team '", t.ref, "' has no members"));
            }
            ct.id = *id;
            break;
          }
          case TargetDef::Kind::kRole:
            if (o.FirstWithRole(t.ref) == kNoId) {
              return LocatedError(tloc, StrCat(where, ": no person has role '", t.ref, "'"));
            }
            ct.role = t.ref;
            break;
          case TargetDef::Kind::kOwnerManager:
          case TargetDef::Kind::kDomainOwner:
            break;
        }
        cl.targets.push_back(std::move(ct));
      }
      c.levels.push_back(std::move(cl));
    }
    if (p.repeat > 0 && p.levels.back().timeout == absl::InfiniteDuration()) {
      return LocatedError(p.levels.back().loc.line > 0 ? p.levels.back().loc : p.loc,
                          StrCat(label, ": repeat is unreachable, the last level has no timeout"));
    }
    for (const CompiledPolicy& other : compiled) {
      if (other.id == c.id && other.version == c.version) {
        return LocatedError(p.loc, StrCat("duplicate ", label));
      }
    }
    compiled.push_back(std::move(c));
  }
  std::stable_sort(compiled.begin(), compiled.end(), [](const auto& a, const auto& b) {
    return std::pair(a.group, a.version) < std::pair(b.group, b.version);
  });
  Escalator e;
  e.org_ = std::move(shared_org);
  e.policies_ = std::make_shared<const std::vector<CompiledPolicy>>(std::move(compiled));
  return e;
}

absl::StatusOr<const Escalator::CompiledPolicy*> Escalator::Route(
    const CtaEscalationInput& cta, const EscalationState* state) const {
  const std::vector<CompiledPolicy>& ps = *policies_;
  std::string_view pinned_id = cta.policy_id;
  int pinned_version = cta.policy_version;
  if (state != nullptr && !state->policy_id.empty()) {
    pinned_id = state->policy_id;
    pinned_version = state->policy_version;
  }
  // A CTA outside the risk scorecard (no domain) routes to policies that cover every domain.
  const bool no_domain = cta.domain.empty() || cta.domain == "none";
  const int domain = no_domain ? -1 : RiskDomainIndex(cta.domain);
  if (domain < 0 && !no_domain) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cta %d (account %s): unknown risk domain '%s'", cta.id, cta.account_id, cta.domain));
  }
  // Walk each id's versions (ascending) and keep the pinned one or the one in effect.
  const CompiledPolicy* best = nullptr;
  for (size_t i = 0; i < ps.size(); ++i) {
    const CompiledPolicy& p = ps[i];
    if (!pinned_id.empty() && p.id != pinned_id) continue;
    if (pinned_version > 0 ? p.version == pinned_version : p.effective_from <= cta.raised_at) {
      best = &p;
    }
    const bool last_of_group = i + 1 == ps.size() || ps[i + 1].group != p.group;
    if (!last_of_group || best == nullptr) continue;
    const bool covers = domain < 0 ? best->domains == ~0u : (best->domains >> domain & 1u) != 0;
    if (!pinned_id.empty() || (covers && cta.arr >= best->min_arr)) {
      return best;
    }
    best = nullptr;
  }
  if (!pinned_id.empty()) {
    return absl::NotFoundError(absl::StrFormat("cta %d (account %s): no policy '%s' version %d",
                                               cta.id, cta.account_id, pinned_id, pinned_version));
  }
  return absl::NotFoundError(
      absl::StrFormat("cta %d (account %s): no escalation policy for domain '%s' and ARR %.2f",
                      cta.id, cta.account_id, cta.domain, cta.arr));
}

absl::Status Escalator::ChainInto(const CtaEscalationInput& cta, absl::Time at,
                                  const EscalationState* state, EscalationChain& out) const {
  absl::StatusOr<const CompiledPolicy*> routed = Route(cta, state);
  if (!routed.ok()) return routed.status();
  const CompiledPolicy& p = **routed;
  const Organisation& org = *org_;
  std::optional<PersonId> owner = org.FindPerson(cta.owner);
  if (!owner) {
    return absl::InvalidArgumentError(absl::StrFormat("cta %d (account %s): unknown owner '%s'",
                                                      cta.id, cta.account_id, cta.owner));
  }
  const int domain = RiskDomainIndex(cta.domain);  // -1: no domain, no domain owner
  const int flags = FlagsOf(cta);
  out.cta_id = cta.id;
  out.policy_id = p.id;
  out.policy_version = p.version;
  out.steps.clear();
  // Only what was known at `at` stops the chain.
  absl::Time stop = p.stop_on == PolicyDef::StopOn::kAcknowledge
                        ? std::min(cta.acknowledged_at, cta.resolved_at)
                        : cta.resolved_at;
  if (stop > at) stop = absl::InfiniteFuture();
  out.stopped_at = stop;
  out.accountable.assign(1, ResolvedTarget{false, *owner});

  const int num_levels = static_cast<int>(p.levels.size());
  absl::Time t = cta.raised_at;
  for (int r = 0; r <= p.repeat; ++r) {
    for (int l = 0; l < num_levels; ++l) {
      const CompiledLevel& level = p.levels[l];
      if ((level.any_flag != 0 && (level.any_flag & flags) == 0) || cta.arr < level.min_arr ||
          (!level.tiers.empty() &&
           std::find(level.tiers.begin(), level.tiers.end(), cta.tier) == level.tiers.end())) {
        continue;
      }
      Targets targets;
      const absl::CivilDay day = absl::ToCivilDay(t, absl::UTCTimeZone());
      auto add_team = [&](TeamId team) {
        ResolvedTarget rt{true, team, absl::CivilDay(0, 1, 1)};
        if (auto wd = org.team(team).review_day) rt.review_on = absl::NextWeekday(day - 1, *wd);
        targets.push_back(rt);
      };
      for (const CompiledTarget& ct : level.targets) {
        switch (ct.kind) {
          case TargetDef::Kind::kPerson:
            targets.push_back({false, ct.id});
            break;
          case TargetDef::Kind::kTeam:
            add_team(ct.id);
            break;
          case TargetDef::Kind::kRole: {
            PersonId who = org.NearestWithRole(*owner, ct.role);
            if (who == kNoId) who = org.FirstWithRole(ct.role);
            if (who != kNoId) targets.push_back({false, who});
            break;
          }
          case TargetDef::Kind::kOwnerManager:
            if (org.manager(*owner) != kNoId) targets.push_back({false, org.manager(*owner)});
            break;
          case TargetDef::Kind::kDomainOwner:
            if (domain >= 0) {
              for (TeamId team : org.domain_owners(domain)) add_team(team);
            }
            break;
        }
      }
      if (targets.empty()) continue;  // an empty level is skipped and costs no time
      if (t >= stop) return absl::OkStatus();
      EscalationStep step;
      step.flat = r * num_levels + l;
      step.repeat = r;
      step.level = l + 1;
      step.fire_at = t;
      step.fired = t <= at;
      if (step.fired) out.accountable = targets;
      step.targets = std::move(targets);
      out.steps.push_back(std::move(step));
      if (level.timeout == absl::InfiniteDuration()) return absl::OkStatus();
      t += level.timeout;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EscalationChain> Escalator::Chain(const CtaEscalationInput& cta, absl::Time at,
                                                 const EscalationState* state) const {
  EscalationChain chain;
  absl::Status s = ChainInto(cta, at, state, chain);
  if (!s.ok()) return s;
  return chain;
}

absl::StatusOr<Targets> Escalator::Accountable(const CtaEscalationInput& cta, absl::Time at,
                                               const EscalationState* state) const {
  EscalationChain chain;
  absl::Status s = ChainInto(cta, at, state, chain);
  if (!s.ok()) return s;
  return std::move(chain.accountable);
}

absl::StatusOr<DueBatch> Escalator::Due(std::span<const CtaEscalationInput> ctas,
                                        std::span<const EscalationState> states,
                                        absl::Time as_of) const {
  if (!states.empty() && states.size() != ctas.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("escalation states: %d given for %d CTAs (pass none or one per CTA)",
                        states.size(), ctas.size()));
  }
  DueBatch batch;
  batch.states.reserve(ctas.size());
  EscalationChain chain;
  for (size_t i = 0; i < ctas.size(); ++i) {
    const CtaEscalationInput& cta = ctas[i];
    const EscalationState* state = states.empty() ? nullptr : &states[i];
    absl::Status s = ChainInto(cta, as_of, state, chain);
    if (!s.ok()) return s;
    EscalationState next{std::string(chain.policy_id), chain.policy_version,
                         state != nullptr ? state->next_step : 0};
    for (const EscalationStep& step : chain.steps) {
      if (!step.fired || step.flat < next.next_step) continue;
      batch.events.push_back({cta.id, cta.account_id, next.policy_id, next.policy_version, step});
    }
    for (const EscalationStep& step : chain.steps) {
      if (step.fired) next.next_step = std::max(next.next_step, step.flat + 1);
    }
    batch.states.push_back(std::move(next));
  }
  std::sort(batch.events.begin(), batch.events.end(), [](const auto& a, const auto& b) {
    return std::tuple(a.step.fire_at, a.cta_id, a.step.flat) <
           std::tuple(b.step.fire_at, b.cta_id, b.step.flat);
  });
  return batch;
}

absl::StatusOr<std::vector<InboxItem>> Escalator::Inbox(std::span<const CtaEscalationInput> ctas,
                                                        PersonId person, TeamId team,
                                                        absl::Time as_of) const {
  std::vector<InboxItem> items;
  EscalationChain chain;
  std::span<const TeamId> teams =
      person != kNoId ? org_->teams_of(person) : std::span<const TeamId>(&team, 1);
  for (const CtaEscalationInput& cta : ctas) {
    if (cta.resolved_at <= as_of || cta.raised_at > as_of) continue;
    absl::Status s = ChainInto(cta, as_of, nullptr, chain);
    if (!s.ok()) return s;
    const EscalationStep* current = nullptr;
    for (const EscalationStep& step : chain.steps) {
      if (step.fired) current = &step;
    }
    if (current == nullptr) continue;
    const bool mine = std::any_of(current->targets.begin(), current->targets.end(), [&](auto& t) {
      if (!t.is_team) return t.id == person;
      return std::find(teams.begin(), teams.end(), t.id) != teams.end();
    });
    if (mine) items.push_back({cta.id, current->fire_at, current->level});
  }
  std::sort(items.begin(), items.end(), [](const InboxItem& a, const InboxItem& b) {
    return std::pair(a.waiting_since, a.cta_id) < std::pair(b.waiting_since, b.cta_id);
  });
  return items;
}

absl::StatusOr<std::vector<InboxItem>> Escalator::InboxOfPerson(
    std::span<const CtaEscalationInput> ctas, std::string_view person, absl::Time as_of) const {
  std::optional<PersonId> p = org_->FindPerson(person);
  if (!p) return absl::NotFoundError(StrCat("inbox: unknown person '", person, "'"));
  return Inbox(ctas, *p, kNoId, as_of);
}

absl::StatusOr<std::vector<InboxItem>> Escalator::InboxOfTeam(
    std::span<const CtaEscalationInput> ctas, std::string_view team, absl::Time as_of) const {
  std::optional<TeamId> t = org_->FindTeam(team);
  if (!t) return absl::NotFoundError(StrCat("inbox: unknown team '", team, "'"));
  return Inbox(ctas, kNoId, *t, as_of);
}

absl::StatusOr<std::string> Escalator::PathDot(const CtaEscalationInput& cta, absl::Time at) const {
  absl::StatusOr<EscalationChain> chain = Chain(cta, at);
  if (!chain.ok()) return chain.status();
  const Organisation& org = *org_;
  std::string out = absl::StrFormat("digraph cta_%d {\n  rankdir=LR;\n", cta.id);
  absl::StrAppendFormat(&out, "  owner [shape=box,label=\"%s\\nowner\"];\n", cta.owner);
  std::string prev = "owner";
  for (const EscalationStep& step : chain->steps) {
    std::string names;
    for (const ResolvedTarget& t : step.targets) {
      if (!names.empty()) names += ", ";
      names += t.is_team ? "team " + org.team(t.id).id : org.person(t.id).id;
    }
    const std::string node = absl::StrFormat("step%d", step.flat);
    absl::StrAppendFormat(&out, "  %s [shape=box,%slabel=\"level %d (pass %d)\\n%s\\n%s\"];\n",
                          node, step.fired ? "" : "style=dashed,", step.level, step.repeat + 1,
                          names,
                          absl::FormatTime("%Y-%m-%d %H:%M", step.fire_at, absl::UTCTimeZone()));
    absl::StrAppendFormat(&out, "  %s -> %s%s;\n", prev, node, step.fired ? "" : " [style=dashed]");
    prev = node;
  }
  if (chain->stopped_at != absl::InfiniteFuture()) {
    absl::StrAppendFormat(
        &out, "  stop [shape=doublecircle,label=\"stopped\\n%s\"];\n  %s -> stop;\n",
        absl::FormatTime("%Y-%m-%d %H:%M", chain->stopped_at, absl::UTCTimeZone()), prev);
  }
  out += "}\n";
  return out;
}

}  // namespace cscore
