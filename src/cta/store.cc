#include "cscore/cta/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cta/lifecycle_internal.h"

namespace cscore {
namespace {

constexpr std::string_view kBuiltinTypes[] = {"Risk", "Lifecycle", "Expansion", "Activity",
                                              "Objective"};
constexpr std::string_view kDomainNames[] = {"none",      "habit",   "sentiment",
                                             "company",   "support", "implementation",
                                             "readiness", "product", "defect"};

constexpr uint8_t kUpdPriority = 1, kUpdDue = 2, kUpdOwner = 4;

bool Has(uint16_t actions, CtaAction a) { return (actions & static_cast<uint16_t>(a)) != 0; }

absl::StatusOr<int64_t> Micros(absl::Time t, std::string_view what) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InvalidArgumentError(StrCat(what, " must be a finite time"));
  }
  return absl::ToUnixMicros(t);
}

std::string FormatMicros(int64_t us) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

}  // namespace

std::string_view RiskDomainName(RiskDomain d) { return kDomainNames[static_cast<int>(d)]; }

absl::StatusOr<RiskDomain> ParseRiskDomain(std::string_view name) {
  for (int i = 0; i < kRiskDomainCount; ++i) {
    if (kDomainNames[i] == name) return static_cast<RiskDomain>(i);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown risk domain '", name,
             "' (expected habit, sentiment, company, support, implementation, readiness, product, "
             "defect or none)"));
}

bool RoleAuthority::IsAbove(const Actor& actor, std::string_view /*owner*/) const {
  return actor.role == Role::kTeamLead || actor.role == Role::kVp || actor.role == Role::kCeo ||
         actor.role == Role::kAdmin;
}

CtaStore::CtaStore()
    : string_ids_(0, StringIdHash{&strings_}, StringIdEq{&strings_}), open_index_() {}
CtaStore::~CtaStore() = default;

absl::StatusOr<std::unique_ptr<CtaStore>> CtaStore::Create(CtaStoreOptions options) {
  std::unique_ptr<CtaStore> owned(new CtaStore());
  CtaStore& store = *owned;
  for (std::string_view t : kBuiltinTypes) store.type_names_.emplace_back(t);
  for (const std::string& t : options.custom_types) {
    if (t.empty()) return absl::InvalidArgumentError("a custom CTA type has an empty name");
    if (std::find(store.type_names_.begin(), store.type_names_.end(), t) !=
        store.type_names_.end()) {
      return absl::InvalidArgumentError(StrCat("CTA type '", t, "' is declared twice"));
    }
    store.type_names_.push_back(t);
  }
  if (store.type_names_.size() > 255) {
    return absl::InvalidArgumentError("more than 255 CTA types");
  }
  if (options.lifecycles.size() > 255) {
    return absl::InvalidArgumentError("more than 255 lifecycles");
  }
  constexpr uint8_t kUnset = 255;
  store.lifecycle_of_type_.assign(store.type_names_.size(), kUnset);
  int default_lc = -1;
  for (size_t i = 0; i < options.lifecycles.size(); ++i) {
    const Lifecycle& lc = options.lifecycles[i];
    if (lc.types().empty()) {
      if (default_lc >= 0) {
        return absl::InvalidArgumentError(
            StrCat("lifecycles '", options.lifecycles[default_lc].name(), "' and '", lc.name(),
                   "' both name no CTA type; only one can be the default"));
      }
      default_lc = static_cast<int>(i);
    }
    for (const std::string& t : lc.types()) {
      auto it = std::find(store.type_names_.begin(), store.type_names_.end(), t);
      if (it == store.type_names_.end()) {
        return absl::InvalidArgumentError(
            StrCat("lifecycle '", lc.name(), "' names unknown CTA type '", t, "'"));
      }
      uint8_t& slot = store.lifecycle_of_type_[it - store.type_names_.begin()];
      if (slot != kUnset) {
        return absl::InvalidArgumentError(StrCat("CTA type '", t, "' has two lifecycles: '",
                                                 options.lifecycles[slot].name(), "' and '",
                                                 lc.name(), "'"));
      }
      slot = static_cast<uint8_t>(i);
    }
  }
  store.lifecycles_ = std::move(options.lifecycles);
  if (default_lc < 0) {
    default_lc = static_cast<int>(store.lifecycles_.size());
    store.lifecycles_.push_back(Lifecycle::Default());
  }
  for (uint8_t& slot : store.lifecycle_of_type_) {
    if (slot == kUnset) slot = static_cast<uint8_t>(default_lc);
  }
  for (size_t i = 0; i < options.playbooks.size(); ++i) {
    const PlaybookDef& p = options.playbooks[i];
    if (p.name.empty()) return absl::InvalidArgumentError("a playbook has an empty name");
    for (size_t j = 0; j < i; ++j) {
      if (options.playbooks[j].name == p.name) {
        return absl::InvalidArgumentError(StrCat("playbook '", p.name, "' is defined twice"));
      }
    }
    if (p.tasks.size() > 255) {
      return absl::InvalidArgumentError(StrCat("playbook '", p.name, "' has more than 255 tasks"));
    }
  }
  store.playbooks_ = std::move(options.playbooks);
  store.authority_ =
      options.authority ? std::move(options.authority) : std::make_shared<const RoleAuthority>();
  store.audit_enabled_ = options.audit;
  return owned;
}

int32_t CtaStore::Intern(std::string_view s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return *it;
  const int32_t id = static_cast<int32_t>(strings_.size());
  strings_.emplace_back(s);
  string_ids_.insert(id);
  account_head_.push_back(-1);
  return id;
}

int32_t CtaStore::Lookup(std::string_view s) const {
  auto it = string_ids_.find(s);
  return it == string_ids_.end() ? -1 : *it;
}

absl::Status CtaStore::CheckId(CtaId id) const {
  if (Contains(id)) return absl::OkStatus();
  return absl::NotFoundError(StrCat("unknown CTA id ", id, " (the store holds ", size(),
                                    size() == 1 ? " CTA)" : " CTAs)"));
}

const PlaybookTaskDef& CtaStore::task(CtaId id, int i) const {
  return playbooks_[playbook_[id]].tasks[i];
}

int64_t CtaStore::task_due(CtaId id, int i) const {
  return created_[id] + absl::ToInt64Microseconds(task(id, i).due_offset);
}

bool CtaStore::Allowed(const Lifecycle::Edge& edge, CtaId id, const Actor& by,
                       int32_t actor_id) const {
  if (by.role == Role::kSystem) return (edge.who & Lifecycle::kWhoSystem) != 0;
  if (edge.roles & (1u << static_cast<int>(by.role))) return true;
  if ((edge.who & Lifecycle::kWhoOwner) && actor_id >= 0 && actor_id == owner_[id]) return true;
  if (edge.who & Lifecycle::kWhoEscalationChain) return authority_->IsAbove(by, owner(id));
  return false;
}

absl::Status CtaStore::Forbidden(CtaId id, std::string_view what, const Actor& by) const {
  return absl::PermissionDeniedError(StrCat("actor '", by.id, "' (", RoleName(by.role),
                                            ") may not ", what, " CTA ", id, " (account '",
                                            account(id), "', owner '", owner(id), "')"));
}

absl::Status CtaStore::PrepareTransition(CtaId id, int event, const Actor& by, int32_t actor_id,
                                         int64_t at, const FireArgs& args, AuditRecord* rec) const {
  const Lifecycle& lc = lifecycle(id);
  const int from = status_[id];
  const Lifecycle::Edge* edge = lc.Find(from, event);
  if (edge == nullptr) {
    return absl::FailedPreconditionError(StrCat(
        "CTA ", id, " (account '", account(id), "'): event '", lc.event_name(event),
        "' does not apply to status '", lc.status_name(from), "' (lifecycle '", lc.name(), "')"));
  }
  if (!Allowed(*edge, id, by, actor_id)) {
    return Forbidden(id, StrCat("fire '", lc.event_name(event), "' on"), by);
  }
  if (const cel::Program* guard = lc.guard(*edge)) {
    if (absl::Status st = CheckGuard(*guard, id, lc.event_name(event), by, actor_id, at, args);
        !st.ok()) {
      return st;
    }
  }
  rec->t0 = kNoTime;
  if (edge->reopen_within_us > 0) {
    const int64_t closed = closed_[id];
    if (closed == kNoTime || at < closed || at - closed > edge->reopen_within_us) {
      return absl::FailedPreconditionError(StrCat(
          "CTA ", id, " (account '", account(id), "'): '", lc.event_name(event),
          "' is allowed within ", absl::FormatDuration(absl::Microseconds(edge->reopen_within_us)),
          " of closing; it closed ",
          closed == kNoTime ? "at an unknown time" : FormatMicros(closed), " and the event is at ",
          FormatMicros(at)));
    }
    auto it = open_index_.find(DedupKey{account_[id], reason_[id], type_[id]});
    if (it != open_index_.end()) {
      return absl::FailedPreconditionError(
          StrCat("CTA ", id, " cannot reopen: CTA ", it->second,
                 " is open with the same account, type and reason"));
    }
  }
  if (Has(edge->actions, CtaAction::kSnooze)) {
    if (args.until == absl::InfiniteFuture() || args.until == absl::InfinitePast() ||
        absl::ToUnixMicros(args.until) <= at) {
      return absl::InvalidArgumentError(StrCat("CTA ", id, ": '", lc.event_name(event),
                                               "' needs a snooze end after the event time"));
    }
    rec->t0 = absl::ToUnixMicros(args.until);
  }
  rec->kind = AuditRecord::kTransition;
  rec->time = at;
  rec->cta = id;
  rec->role = static_cast<uint8_t>(by.role);
  rec->event = static_cast<uint8_t>(event);
  rec->from = static_cast<uint8_t>(from);
  rec->to = edge->to;
  return absl::OkStatus();
}

absl::Status CtaStore::CheckGuard(const cel::Program& guard, CtaId id, std::string_view event,
                                  const Actor& by, int32_t actor_id, int64_t at,
                                  const FireArgs& args) const {
  auto time = [](int64_t us) -> std::optional<absl::Time> {
    if (us == kNoTime) return std::nullopt;
    return absl::FromUnixMicros(us);
  };
  const Lifecycle& lc = lifecycle(id);
  GuardFields f;
  f.id = id;
  f.account = account(id);
  f.type = type_name(id);
  f.reason = reason(id);
  f.domain = RiskDomainName(domain(id));
  f.owner = owner(id);
  f.source = source(id);
  f.status = lc.status_name(status_[id]);
  f.category = CategoryName(lc.category(status_[id]));
  f.priority = priority_[id];
  f.flagged = flagged(id);
  f.snoozed = snoozed(id);
  f.breached = breached(id);
  f.created_at = time(created_[id]);
  f.due_at = time(due_[id]);
  f.started_at = time(started_[id]);
  f.closed_at = time(closed_[id]);
  f.task_count = task_count_[id];
  for (int i = 0; i < task_count_[id]; ++i) f.tasks_done += task_done_[task_first_[id] + i];
  f.actor_id = by.id;
  f.actor_role = RoleName(by.role);
  f.actor_is_owner = actor_id >= 0 && actor_id == owner_[id];
  f.actor_above_owner = by.role != Role::kSystem && authority_->IsAbove(by, owner(id));
  f.event = event;
  f.event_reason = args.reason;
  const cel::Value v = guard.Evaluate(GuardActivation(f), {.now = absl::FromUnixMicros(at)});
  if (v.kind() == cel::Kind::kBool && v.bool_value()) return absl::OkStatus();
  const std::string why = v.is_error() ? StrCat("cannot be evaluated (", v.error_message(), ")")
                          : v.kind() == cel::Kind::kBool
                              ? std::string("does not hold")
                              : StrCat("is ", cel::KindName(v.kind()), ", not bool");
  return absl::FailedPreconditionError(
      StrCat("CTA ", id, " (account '", account(id), "'): guard of '", event, "' ", why,
             " for actor '", by.id, "' (", RoleName(by.role), "): ", guard.source()));
}

void CtaStore::Commit(const AuditRecord& rec) {
  Apply(rec);
  if (audit_enabled_) log_.push_back(rec);
}

void CtaStore::Apply(const AuditRecord& r) {
  const CtaId id = r.cta;
  switch (r.kind) {
    case AuditRecord::kOpen: {
      status_.push_back(r.to);
      flags_.push_back(0);
      type_.push_back(r.a);
      domain_.push_back(r.b);
      priority_.push_back(r.c);
      account_.push_back(r.s0);
      reason_.push_back(r.s1);
      owner_.push_back(r.s2);
      source_.push_back(r.actor);
      source_role_.push_back(r.role);
      snooze_reason_.push_back(-1);
      playbook_.push_back(r.s3);
      const int tasks = r.s3 < 0 ? 0 : static_cast<int>(playbooks_[r.s3].tasks.size());
      task_first_.push_back(static_cast<int32_t>(task_done_.size()));
      task_count_.push_back(static_cast<uint8_t>(tasks));
      task_done_.resize(task_done_.size() + tasks, 0);
      created_.push_back(r.time);
      due_.push_back(r.t0);
      started_.push_back(kNoTime);
      closed_.push_back(kNoTime);
      flagged_at_.push_back(kNoTime);
      snooze_until_.push_back(kNoTime);
      updated_.push_back(r.time);
      next_of_account_.push_back(account_head_[r.s0]);
      account_head_[r.s0] = id;
      open_index_.emplace(DedupKey{r.s0, r.s1, r.a}, id);
      return;
    }
    case AuditRecord::kUpdate:
      if (r.a & kUpdPriority) priority_[id] = r.c;
      if (r.a & kUpdDue) {
        due_[id] = r.t0;
        flags_[id] &= ~kBreached;  // a new due date can be breached again
      }
      if (r.a & kUpdOwner) owner_[id] = r.s2;
      break;
    case AuditRecord::kTransition: {
      const Lifecycle& lc = lifecycle(id);
      const Lifecycle::Edge& edge = *lc.Find(r.from, r.event);
      const bool was_open = !IsClosed(lc.category(r.from));
      const bool now_open = !IsClosed(lc.category(edge.to));
      status_[id] = edge.to;
      const uint16_t act = edge.actions;
      if (act != 0) {
        if (Has(act, CtaAction::kStampStarted)) started_[id] = r.time;
        if (Has(act, CtaAction::kStampClosed)) closed_[id] = r.time;
        if (Has(act, CtaAction::kOpenPlaybook)) {
          std::fill_n(task_done_.begin() + task_first_[id], task_count_[id], 0);
        }
        if (Has(act, CtaAction::kFlag)) {
          flags_[id] |= kFlagged;
          flagged_at_[id] = r.time;
        }
        if (Has(act, CtaAction::kUnflag)) {
          flags_[id] &= ~kFlagged;
          flagged_at_[id] = kNoTime;
        }
        if (Has(act, CtaAction::kWake)) {
          flags_[id] &= ~kSnoozed;
          snooze_until_[id] = kNoTime;
          snooze_reason_[id] = -1;
        }
        if (Has(act, CtaAction::kSnooze)) {
          flags_[id] |= kSnoozed;
          snooze_until_[id] = r.t0;
          snooze_reason_[id] = r.s0;
        }
        if (Has(act, CtaAction::kMarkBreached)) flags_[id] |= kBreached;
      }
      if (was_open != now_open) {
        const DedupKey key{account_[id], reason_[id], type_[id]};
        if (now_open) {
          open_index_.emplace(key, id);
          closed_[id] = kNoTime;
        } else {
          open_index_.erase(key);
        }
      }
      break;
    }
    case AuditRecord::kTask:
      task_done_[task_first_[id] + r.s0] = r.a;
      break;
    case AuditRecord::kComment:
      comments_.push_back(CtaComment{id, r.time, r.actor, r.s0});
      break;
  }
  updated_[id] = r.time;
}

absl::StatusOr<CtaId> CtaStore::Open(const OpenCta& cta, const Actor& by, absl::Time at) {
  absl::StatusOr<int64_t> t = Micros(at, "the opening time");
  if (!t.ok()) return t.status();
  if (by.id.empty()) return absl::InvalidArgumentError("opening a CTA: the actor has no id");
  if (cta.account.empty()) return absl::InvalidArgumentError("opening a CTA: empty account id");
  auto type = std::find(type_names_.begin(), type_names_.end(), cta.type);
  if (type == type_names_.end()) {
    return absl::InvalidArgumentError(
        StrCat("account '", cta.account, "': unknown CTA type '", cta.type, "'"));
  }
  const uint8_t type_id = static_cast<uint8_t>(type - type_names_.begin());
  if (cta.priority < 0 || cta.priority > 255) {
    return absl::InvalidArgumentError(
        StrCat("account '", cta.account, "': priority ", cta.priority, " is outside 0..255"));
  }
  if (static_cast<int>(cta.domain) >= kRiskDomainCount) {
    return absl::InvalidArgumentError(StrCat("account '", cta.account, "': invalid risk domain"));
  }
  int32_t playbook = -1;
  if (!cta.playbook.empty()) {
    for (size_t i = 0; i < playbooks_.size(); ++i) {
      if (playbooks_[i].name == cta.playbook) playbook = static_cast<int32_t>(i);
    }
    if (playbook < 0) {
      return absl::NotFoundError(
          StrCat("account '", cta.account, "': unknown playbook '", cta.playbook, "'"));
    }
  }
  if (std::optional<CtaId> open = FindOpen(cta.account, cta.type, cta.reason)) {
    return absl::AlreadyExistsError(StrCat("account '", cta.account, "': CTA ", *open,
                                           " is already open with type '", cta.type,
                                           "' and reason '", cta.reason, "'"));
  }
  if (size() >= std::numeric_limits<CtaId>::max()) {
    return absl::ResourceExhaustedError("the CTA store is full");
  }
  int64_t due = kNoTime;
  if (cta.due != absl::InfiniteFuture()) {
    absl::StatusOr<int64_t> d = Micros(cta.due, "the due date");
    if (!d.ok()) return d.status();
    due = *d;
  }
  AuditRecord r;
  r.kind = AuditRecord::kOpen;
  r.time = *t;
  r.t0 = due;
  r.cta = static_cast<CtaId>(size());
  r.actor = Intern(by.id);
  r.role = static_cast<uint8_t>(by.role);
  r.s0 = Intern(cta.account);
  r.s1 = Intern(cta.reason);
  r.s2 = cta.owner.empty() ? -1 : Intern(cta.owner);
  r.s3 = playbook;
  r.a = type_id;
  r.b = static_cast<uint8_t>(cta.domain);
  r.c = static_cast<uint8_t>(cta.priority);
  r.to = static_cast<uint8_t>(lifecycles_[lifecycle_of_type_[type_id]].initial());
  Commit(r);
  return r.cta;
}

std::optional<CtaId> CtaStore::FindOpen(std::string_view account, std::string_view type,
                                        std::string_view reason) const {
  // Cheapest rejections first: rules look up one reason for many accounts, and a reason no
  // CTA ever had needs no hash of the account.
  if (open_index_.empty()) return std::nullopt;
  auto t = std::find(type_names_.begin(), type_names_.end(), type);
  if (t == type_names_.end()) return std::nullopt;
  const int32_t r = Lookup(reason);
  if (r < 0) return std::nullopt;
  const int32_t a = Lookup(account);
  if (a < 0) return std::nullopt;
  auto it = open_index_.find(DedupKey{a, r, static_cast<uint8_t>(t - type_names_.begin())});
  if (it == open_index_.end()) return std::nullopt;
  return it->second;
}

void CtaStore::FindOpenBatch(std::span<const std::string_view> accounts, std::string_view type,
                             std::string_view reason, std::span<CtaId> out) const {
  const size_t n = std::min(accounts.size(), out.size());
  std::fill_n(out.begin(), n, -1);
  if (open_index_.empty()) return;
  auto t = std::find(type_names_.begin(), type_names_.end(), type);
  const int32_t r = Lookup(reason);
  if (t == type_names_.end() || r < 0) return;
  const uint8_t type_id = static_cast<uint8_t>(t - type_names_.begin());
  // Two pipelined passes over the accounts: their string ids (probing the string index a
  // few accounts ahead), then the dedup keys (idem).
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) string_ids_.prefetch(accounts[i + kAhead]);
    out[i] = Lookup(accounts[i]);
  }
  for (size_t i = 0; i < kAhead && i < n; ++i) {
    if (out[i] >= 0) open_index_.prefetch(DedupKey{out[i], r, type_id});
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n && out[i + kAhead] >= 0) {
      open_index_.prefetch(DedupKey{out[i + kAhead], r, type_id});
    }
    if (out[i] < 0) continue;
    auto it = open_index_.find(DedupKey{out[i], r, type_id});
    out[i] = it == open_index_.end() ? -1 : it->second;
  }
}

absl::Status CtaStore::Update(CtaId id, const CtaUpdate& u, const Actor& by, absl::Time at) {
  if (absl::Status st = CheckId(id); !st.ok()) return st;
  absl::StatusOr<int64_t> t = Micros(at, "the update time");
  if (!t.ok()) return t.status();
  const int32_t actor = Lookup(by.id);
  const bool allowed = by.role == Role::kSystem || by.role == Role::kAdmin ||
                       (actor >= 0 && actor == owner_[id]) || authority_->IsAbove(by, owner(id));
  if (!allowed) return Forbidden(id, "update", by);
  if (!IsOpen(id)) {
    return absl::FailedPreconditionError(StrCat("CTA ", id, " (account '", account(id),
                                                "') is closed (", status_name(id),
                                                "); reopen it to update it"));
  }
  AuditRecord r;
  r.kind = AuditRecord::kUpdate;
  if (u.priority) {
    if (*u.priority < 0 || *u.priority > 255) {
      return absl::InvalidArgumentError(
          StrCat("CTA ", id, ": priority ", *u.priority, " is outside 0..255"));
    }
    r.a |= kUpdPriority;
    r.c = static_cast<uint8_t>(*u.priority);
  }
  if (u.due) {
    r.a |= kUpdDue;
    if (*u.due != absl::InfiniteFuture()) {
      absl::StatusOr<int64_t> d = Micros(*u.due, "the due date");
      if (!d.ok()) return d.status();
      r.t0 = *d;
    }
  }
  if (by.id.empty()) return absl::InvalidArgumentError("updating a CTA: the actor has no id");
  if (!u.priority && !u.due && !u.owner) {
    return absl::InvalidArgumentError(StrCat("CTA ", id, ": the update changes nothing"));
  }
  if (u.owner) {
    r.a |= kUpdOwner;
    r.s2 = u.owner->empty() ? -1 : Intern(*u.owner);
  }
  r.time = *t;
  r.cta = id;
  r.actor = Intern(by.id);
  r.role = static_cast<uint8_t>(by.role);
  Commit(r);
  return absl::OkStatus();
}

absl::Status CtaStore::Fire(CtaId id, std::string_view event, const Actor& by, absl::Time at,
                            const FireArgs& args) {
  if (absl::Status st = CheckId(id); !st.ok()) return st;
  absl::StatusOr<int64_t> t = Micros(at, "the event time");
  if (!t.ok()) return t.status();
  if (by.id.empty()) return absl::InvalidArgumentError("firing an event: the actor has no id");
  const Lifecycle& lc = lifecycle(id);
  const int e = lc.FindEvent(event);
  if (e < 0) {
    return absl::InvalidArgumentError(
        StrCat("CTA ", id, ": lifecycle '", lc.name(), "' has no event '", event, "'"));
  }
  AuditRecord r;
  if (absl::Status st = PrepareTransition(id, e, by, Lookup(by.id), *t, args, &r); !st.ok()) {
    return st;
  }
  r.actor = Intern(by.id);
  r.s0 = args.reason.empty() ? -1 : Intern(args.reason);
  Commit(r);
  return absl::OkStatus();
}

BatchResult CtaStore::FireBatch(std::span<const CtaId> ids, std::string_view event, const Actor& by,
                                absl::Time at) {
  BatchResult result;
  absl::StatusOr<int64_t> t = Micros(at, "the event time");
  absl::Status common = t.status();
  if (common.ok() && by.id.empty()) {
    common = absl::InvalidArgumentError("firing an event: the actor has no id");
  }
  if (!common.ok()) {
    for (size_t i = 0; i < ids.size(); ++i) result.rejected.emplace_back(i, common);
    return result;
  }
  std::vector<int> event_of(lifecycles_.size());
  for (size_t i = 0; i < lifecycles_.size(); ++i) event_of[i] = lifecycles_[i].FindEvent(event);
  int32_t actor = Lookup(by.id);  // -1 until first interned: then it owns no CTA
  const FireArgs args;
  for (size_t i = 0; i < ids.size(); ++i) {
    const CtaId id = ids[i];
    if (!Contains(id)) {
      result.rejected.emplace_back(i, CheckId(id));
      continue;
    }
    const int lc = lifecycle_of_type_[type_[id]];
    if (event_of[lc] < 0) {
      result.rejected.emplace_back(
          i, absl::InvalidArgumentError(StrCat("CTA ", id, ": lifecycle '", lifecycles_[lc].name(),
                                               "' has no event '", event, "'")));
      continue;
    }
    AuditRecord r;
    if (absl::Status st = PrepareTransition(id, event_of[lc], by, actor, *t, args, &r); !st.ok()) {
      result.rejected.emplace_back(i, std::move(st));
      continue;
    }
    if (actor < 0) actor = Intern(by.id);
    r.actor = actor;
    Commit(r);
    ++result.applied;
  }
  return result;
}

absl::Status CtaStore::Close(CtaId id, std::string_view closed_status, const Actor& by,
                             absl::Time at, std::string_view reason) {
  if (absl::Status st = CheckId(id); !st.ok()) return st;
  const Lifecycle& lc = lifecycle(id);
  const int to = lc.FindStatus(closed_status);
  if (to < 0 || !IsClosed(lc.category(to))) {
    return absl::InvalidArgumentError(StrCat("CTA ", id, ": '", closed_status,
                                             "' is not a closed status of lifecycle '", lc.name(),
                                             "'"));
  }
  const int e = lc.EventTo(status_[id], to);
  if (e < 0) {
    return absl::FailedPreconditionError(StrCat("CTA ", id, " (account '", account(id),
                                                "'): no event leads from status '", status_name(id),
                                                "' to '", closed_status, "'"));
  }
  return Fire(id, lc.event_name(e), by, at, FireArgs{.reason = reason});
}

absl::Status CtaStore::SetTaskDone(CtaId id, int task, bool done, const Actor& by, absl::Time at) {
  if (absl::Status st = CheckId(id); !st.ok()) return st;
  absl::StatusOr<int64_t> t = Micros(at, "the task time");
  if (!t.ok()) return t.status();
  if (by.id.empty()) return absl::InvalidArgumentError("updating a task: the actor has no id");
  if (task < 0 || task >= task_count_[id]) {
    return absl::OutOfRangeError(StrCat("CTA ", id, " (account '", account(id), "') has ",
                                        task_count_[id], " playbook tasks; no task ", task));
  }
  const int32_t actor = Lookup(by.id);
  const bool allowed = by.role == Role::kSystem || by.role == Role::kAdmin ||
                       (actor >= 0 && actor == owner_[id]) || authority_->IsAbove(by, owner(id));
  if (!allowed) return Forbidden(id, "update tasks of", by);
  if (!IsOpen(id)) {
    return absl::FailedPreconditionError(
        StrCat("CTA ", id, " (account '", account(id), "') is closed (", status_name(id), ")"));
  }
  AuditRecord r;
  r.kind = AuditRecord::kTask;
  r.time = *t;
  r.cta = id;
  r.actor = Intern(by.id);
  r.role = static_cast<uint8_t>(by.role);
  r.s0 = task;
  r.a = done ? 1 : 0;
  Commit(r);
  return absl::OkStatus();
}

absl::Status CtaStore::AddComment(CtaId id, std::string_view text, const Actor& by, absl::Time at) {
  if (absl::Status st = CheckId(id); !st.ok()) return st;
  absl::StatusOr<int64_t> t = Micros(at, "the comment time");
  if (!t.ok()) return t.status();
  if (by.id.empty()) return absl::InvalidArgumentError("commenting: the actor has no id");
  if (text.empty()) return absl::InvalidArgumentError(StrCat("CTA ", id, ": empty comment"));
  AuditRecord r;
  r.kind = AuditRecord::kComment;
  r.time = *t;
  r.cta = id;
  r.actor = Intern(by.id);
  r.role = static_cast<uint8_t>(by.role);
  r.s0 = Intern(text);
  Commit(r);
  return absl::OkStatus();
}

TimedResult CtaStore::FireTimedEvents(absl::Time as_of) {
  TimedResult result;
  if (as_of == absl::InfiniteFuture() || as_of == absl::InfinitePast()) return result;
  const int64_t now = absl::ToUnixMicros(as_of);
  const Actor system{.id = "system", .role = Role::kSystem};
  auto fire = [&](CtaId id, int event) {
    if (event < 0) return false;
    AuditRecord r;
    if (!PrepareTransition(id, event, system, -1, now, FireArgs{}, &r).ok()) return false;
    r.actor = Intern(system.id);
    Commit(r);
    return true;
  };
  for (CtaId id = 0; id < size(); ++id) {
    const Lifecycle& lc = lifecycle(id);
    if ((flags_[id] & kSnoozed) && snooze_until_[id] <= now && fire(id, lc.snooze_expiry_event())) {
      ++result.woken;
    }
    if (!(flags_[id] & kBreached) && due_[id] != kNoTime && due_[id] <= now &&
        !IsClosed(lc.category(status_[id])) && fire(id, lc.due_breach_event())) {
      ++result.breached;
    }
  }
  return result;
}

std::vector<CtaId> CtaStore::OpenOfAccount(std::string_view account) const {
  std::vector<CtaId> out;
  const int32_t a = Lookup(account);
  if (a < 0) return out;
  for (CtaId id = account_head_[a]; id >= 0; id = next_of_account_[id]) {
    if (IsOpen(id)) out.push_back(id);
  }
  return out;
}

std::vector<CtaId> CtaStore::OpenOfDomain(RiskDomain domain) const {
  std::vector<CtaId> out;
  const uint8_t d = static_cast<uint8_t>(domain);
  for (CtaId id = 0; id < size(); ++id) {
    if (domain_[id] == d && IsOpen(id)) out.push_back(id);
  }
  return out;
}

std::vector<CtaId> CtaStore::Flagged() const {
  std::vector<CtaId> out;
  for (CtaId id = 0; id < size(); ++id) {
    if ((flags_[id] & kFlagged) && IsOpen(id)) out.push_back(id);
  }
  return out;
}

absl::Status CtaStore::CheckRecord(const AuditRecord& r, int64_t index) const {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(StrCat("audit record ", index, " (CTA ", r.cta, "): ", why));
  };
  const int32_t n_strings = static_cast<int32_t>(strings_.size());
  auto str_ok = [&](int32_t s, bool optional) {
    return (optional && s == -1) || (s >= 0 && s < n_strings);
  };
  if (!str_ok(r.actor, false)) return bad("actor is not in the string table");
  if (r.role > static_cast<uint8_t>(Role::kSystem)) return bad("unknown role");
  if (r.time == kNoTime) return bad("no time");
  if (r.kind == AuditRecord::kOpen) {
    if (r.cta != size()) return bad(StrCat("opens id ", r.cta, " but the next id is ", size()));
    if (r.a >= type_names_.size()) return bad("unknown CTA type");
    if (r.b >= kRiskDomainCount) return bad("unknown risk domain");
    if (!str_ok(r.s0, false) || !str_ok(r.s1, false) || !str_ok(r.s2, true)) {
      return bad("account, reason or owner is not in the string table");
    }
    if (r.s3 < -1 || r.s3 >= static_cast<int32_t>(playbooks_.size()))
      return bad("unknown playbook");
    const Lifecycle& lc = lifecycles_[lifecycle_of_type_[r.a]];
    if (r.to != lc.initial()) return bad("does not open in the initial status");
    if (r.s0 >= static_cast<int32_t>(account_head_.size()) ||
        open_index_.contains(DedupKey{r.s0, r.s1, r.a})) {
      return bad("opens a duplicate of an open CTA");
    }
    return absl::OkStatus();
  }
  if (!Contains(r.cta)) return bad("unknown CTA id");
  switch (r.kind) {
    case AuditRecord::kUpdate:
      if (r.a == 0 || r.a > 7) return bad("empty or unknown update mask");
      if ((r.a & kUpdOwner) && !str_ok(r.s2, true)) return bad("owner is not in the string table");
      return absl::OkStatus();
    case AuditRecord::kTransition: {
      const Lifecycle& lc = lifecycle(r.cta);
      if (r.event >= lc.event_count() || r.from != status_[r.cta]) {
        return bad("event unknown or not from the CTA's status");
      }
      const Lifecycle::Edge* edge = lc.Find(r.from, r.event);
      if (edge == nullptr || edge->to != r.to) return bad("no such transition");
      if (!str_ok(r.s0, true)) return bad("reason is not in the string table");
      if (edge->reopen_within_us > 0 &&
          open_index_.contains(DedupKey{account_[r.cta], reason_[r.cta], type_[r.cta]})) {
        return bad("reopens a duplicate of an open CTA");
      }
      return absl::OkStatus();
    }
    case AuditRecord::kTask:
      if (r.s0 < 0 || r.s0 >= task_count_[r.cta] || r.a > 1) return bad("unknown task");
      return absl::OkStatus();
    case AuditRecord::kComment:
      if (!str_ok(r.s0, false)) return bad("text is not in the string table");
      return absl::OkStatus();
    default:
      return bad("unknown record kind");
  }
}

absl::StatusOr<std::unique_ptr<CtaStore>> CtaStore::Replay(CtaStoreOptions options,
                                                           std::span<const AuditRecord> log,
                                                           std::span<const std::string> strings) {
  absl::StatusOr<std::unique_ptr<CtaStore>> created = Create(std::move(options));
  if (!created.ok()) return created.status();
  CtaStore& store = **created;
  for (size_t i = 0; i < strings.size(); ++i) {
    if (store.Lookup(strings[i]) >= 0) {
      return absl::DataLossError(
          StrCat("string table entry ", i, " ('", strings[i], "') is a duplicate"));
    }
    store.Intern(strings[i]);
  }
  if (store.audit_enabled_) store.log_.reserve(log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    if (absl::Status st = store.CheckRecord(log[i], static_cast<int64_t>(i)); !st.ok()) {
      return st;
    }
    store.Commit(log[i]);
  }
  return created;
}

int64_t CtaStore::BytesUsed() const {
  auto vec = [](const auto& v) {
    return static_cast<int64_t>(v.capacity() *
                                sizeof(typename std::decay_t<decltype(v)>::value_type));
  };
  int64_t bytes = 0;
  for (const auto* v : {&status_, &flags_, &type_, &domain_, &priority_, &task_count_, &task_done_,
                        &source_role_}) {
    bytes += vec(*v);
  }
  for (const auto* v : {&account_, &reason_, &owner_, &source_, &snooze_reason_, &playbook_,
                        &task_first_, &next_of_account_}) {
    bytes += vec(*v);
  }
  for (const auto* v :
       {&created_, &due_, &started_, &closed_, &flagged_at_, &snooze_until_, &updated_}) {
    bytes += vec(*v);
  }
  bytes += vec(comments_) + vec(log_) + vec(strings_);
  for (const std::string& s : strings_) {
    if (s.capacity() > 15) bytes += static_cast<int64_t>(s.capacity() + 1);  // past the SSO buffer
  }
  // Swiss tables: one control byte plus one slot per bucket.
  bytes += vec(account_head_);
  bytes += static_cast<int64_t>(string_ids_.capacity() * (1 + sizeof(int32_t)));
  bytes +=
      static_cast<int64_t>(open_index_.capacity() * (1 + sizeof(std::pair<const DedupKey, CtaId>)));
  return bytes;
}

}  // namespace cscore
