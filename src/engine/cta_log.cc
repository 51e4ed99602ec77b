#include "engine/cta_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cscore/base/strings.h"
#include "engine/flat_json.h"

namespace cscore::engine_internal {
namespace {

// CtaStore::Create's type list: the built-in types, then the custom ones (store.h).
constexpr std::string_view kBuiltinTypes[] = {"Risk", "Lifecycle", "Expansion", "Activity",
                                              "Objective"};

int64_t FloorSeconds(int64_t us) { return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000); }

absl::CivilDay DayOfMicros(int64_t us) {
  return absl::ToCivilDay(absl::FromUnixMicros(us), absl::UTCTimeZone());
}

class Interner {
 public:
  int32_t operator()(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const int32_t id = static_cast<int32_t>(strings_.size());
    strings_.emplace_back(s);
    ids_.emplace(strings_.back(), id);
    return id;
  }
  std::vector<std::string>& strings() { return strings_; }

 private:
  std::vector<std::string> strings_;
  StringMap<int32_t> ids_;
};

bool Has(uint16_t actions, CtaAction a) { return (actions & static_cast<uint16_t>(a)) != 0; }

}  // namespace

absl::StatusOr<std::unique_ptr<CtaLog>> CtaLog::Restore(const CtaStoreOptions& options,
                                                        std::vector<AuditRow> rows,
                                                        bool keep_rows) {
  std::unique_ptr<CtaLog> log(new CtaLog());
  for (const PlaybookDef& p : options.playbooks) log->playbook_names_.push_back(p.name);

  // Which lifecycle each type gets, as CtaStore::Create assigns them.
  std::vector<std::string> types(std::begin(kBuiltinTypes), std::end(kBuiltinTypes));
  types.insert(types.end(), options.custom_types.begin(), options.custom_types.end());
  const Lifecycle* fallback = nullptr;
  for (const Lifecycle& lc : options.lifecycles) {
    if (lc.types().empty()) fallback = &lc;
  }
  if (fallback == nullptr) fallback = &Lifecycle::Default();
  std::vector<const Lifecycle*> lifecycle_of_type(types.size(), fallback);
  for (const Lifecycle& lc : options.lifecycles) {
    for (const std::string& t : lc.types()) {
      auto it = std::find(types.begin(), types.end(), t);
      if (it != types.end()) lifecycle_of_type[it - types.begin()] = &lc;
    }
  }

  Interner intern;
  std::vector<AuditRecord> records;
  records.reserve(rows.size());
  std::vector<const Lifecycle*> lifecycle_of_cta;
  std::vector<uint8_t> type_of_cta;
  for (size_t i = 0; i < rows.size(); ++i) {
    const AuditRow& row = rows[i];
    auto bad = [&](std::string_view why) {
      return absl::DataLossError(absl::StrFormat("audit row %d (CTA %d, event '%s'): %s", row.seq,
                                                 row.cta_id, row.event, why));
    };
    if (row.seq != static_cast<int64_t>(i) + 1) {
      return bad(absl::StrFormat("expected seq %d; the log has a gap", i + 1));
    }
    absl::StatusOr<FlatJson> detail = FlatJson::Parse(row.detail);
    if (!detail.ok()) return bad(ToStd(detail.status().message()));
    const std::optional<std::string_view> kind = detail->Str("kind");
    const std::optional<std::string_view> role_name = detail->Str("role");
    if (!kind || !role_name) return bad("detail has no kind or role");
    absl::StatusOr<Role> role = ParseRole(*role_name);
    if (!role.ok()) return bad(ToStd(role.status().message()));
    AuditRecord r;
    r.time = detail->Int("us").value_or(row.time * 1000000);
    r.cta = static_cast<int32_t>(row.cta_id);
    r.actor = intern(row.actor);
    r.role = static_cast<uint8_t>(*role);
    if (*kind == "open") {
      if (row.cta_id != static_cast<int64_t>(lifecycle_of_cta.size())) {
        return bad(absl::StrFormat("opens CTA %d but the next id is %d", row.cta_id,
                                   lifecycle_of_cta.size()));
      }
      const std::string_view type = detail->Str("type").value_or("");
      auto t = std::find(types.begin(), types.end(), type);
      if (t == types.end()) return bad(StrCat("unknown CTA type '", type, "'"));
      absl::StatusOr<RiskDomain> domain = ParseRiskDomain(detail->Str("domain").value_or(""));
      if (!domain.ok()) return bad(ToStd(domain.status().message()));
      const Lifecycle& lc = *lifecycle_of_type[t - types.begin()];
      if (lc.FindStatus(row.to_status) != lc.initial()) {
        return bad(StrCat("opens in '", row.to_status, "', not in lifecycle '", lc.name(),
                          "''s initial status"));
      }
      r.kind = AuditRecord::kOpen;
      r.s0 = intern(row.account_id);
      r.s1 = intern(row.reason);
      if (std::optional<std::string_view> owner = detail->Str("owner")) r.s2 = intern(*owner);
      if (std::optional<std::string_view> pb = detail->Str("playbook")) {
        auto p = std::find(log->playbook_names_.begin(), log->playbook_names_.end(), *pb);
        if (p == log->playbook_names_.end()) return bad(StrCat("unknown playbook '", *pb, "'"));
        r.s3 = static_cast<int32_t>(p - log->playbook_names_.begin());
      }
      r.t0 = detail->Int("due").value_or(kNoTime);
      r.a = static_cast<uint8_t>(t - types.begin());
      r.b = static_cast<uint8_t>(*domain);
      r.c = static_cast<uint8_t>(detail->Int("priority").value_or(2));
      r.to = static_cast<uint8_t>(lc.initial());
      lifecycle_of_cta.push_back(&lc);
      type_of_cta.push_back(r.a);
    } else {
      if (row.cta_id < 0 || row.cta_id >= static_cast<int64_t>(lifecycle_of_cta.size())) {
        return bad("names a CTA that was never opened");
      }
      const Lifecycle& lc = *lifecycle_of_cta[row.cta_id];
      if (*kind == "update") {
        r.kind = AuditRecord::kUpdate;
        if (std::optional<int64_t> p = detail->Int("priority")) {
          r.a |= 1;
          r.c = static_cast<uint8_t>(*p);
        }
        if (detail->Has("due")) {
          r.a |= 2;
          r.t0 = detail->Int("due").value_or(kNoTime);
        }
        if (detail->Has("owner")) {
          r.a |= 4;
          if (std::optional<std::string_view> o = detail->Str("owner")) r.s2 = intern(*o);
        }
      } else if (*kind == "transition") {
        const int event = lc.FindEvent(row.event);
        const int from = lc.FindStatus(row.from_status);
        const int to = lc.FindStatus(row.to_status);
        if (event < 0 || from < 0 || to < 0) {
          return bad(StrCat("lifecycle '", lc.name(), "' has no event '", row.event, "' from '",
                            row.from_status, "' to '", row.to_status, "'"));
        }
        r.kind = AuditRecord::kTransition;
        r.event = static_cast<uint8_t>(event);
        r.from = static_cast<uint8_t>(from);
        r.to = static_cast<uint8_t>(to);
        if (!row.reason.empty()) r.s0 = intern(row.reason);
        r.t0 = detail->Int("until").value_or(kNoTime);
      } else if (*kind == "task") {
        r.kind = AuditRecord::kTask;
        r.s0 = static_cast<int32_t>(detail->Int("task").value_or(-1));
        r.a = detail->Bool("done").value_or(false) ? 1 : 0;
      } else if (*kind == "comment") {
        r.kind = AuditRecord::kComment;
        r.s0 = intern(row.reason);
      } else {
        return bad(StrCat("unknown kind '", *kind, "'"));
      }
    }
    records.push_back(r);
  }
  CtaStoreOptions copy = options;
  absl::StatusOr<std::unique_ptr<CtaStore>> store =
      CtaStore::Replay(std::move(copy), records, intern.strings());
  if (!store.ok()) {
    return absl::DataLossError(
        StrCat("replaying the audit log: ", std::string(store.status().message())));
  }
  log->store_ = *std::move(store);
  const CtaStore& s = *log->store_;
  // The replay placed each type as the store assigns them; a mismatch means the two
  // disagree on the type list, and every later row would be misread.
  for (CtaId id = 0; id < s.size(); ++id) {
    if (s.type_name(id) != types[type_of_cta[id]]) {
      return absl::InternalError(StrCat("CTA ", id, ": replayed as type '", s.type_name(id),
                                        "' instead of '", types[type_of_cta[id]], "'"));
    }
  }
  log->status_.assign(s.status_column().begin(), s.status_column().end());
  log->ack_.assign(s.size(), kNoTime);
  log->flag_end_.assign(s.size(), kNoTime);
  for (const AuditRecord& r : s.audit()) log->Track(r);
  log->converted_ = s.audit().size();
  log->next_seq_ = static_cast<int64_t>(rows.size()) + 1;
  log->keep_rows_ = keep_rows;
  if (keep_rows) log->rows_ = std::move(rows);
  return log;
}

void CtaLog::Track(const AuditRecord& r) {
  if (r.kind == AuditRecord::kOpen) {
    if (static_cast<size_t>(r.cta) >= ack_.size()) {
      ack_.resize(r.cta + 1, kNoTime);
      flag_end_.resize(r.cta + 1, kNoTime);
    }
    return;
  }
  if (r.kind != AuditRecord::kTransition) return;
  const Lifecycle& lc = store_->lifecycle(r.cta);
  if (lc.event_name(r.event) == "acknowledge") ack_[r.cta] = r.time;
  const Lifecycle::Edge* edge = lc.Find(r.from, r.event);
  const bool closes = !IsClosed(lc.category(r.from)) && IsClosed(lc.category(r.to));
  if (closes || (edge != nullptr && Has(edge->actions, CtaAction::kUnflag))) {
    flag_end_[r.cta] = r.time;
  }
  if (closes) closes_.push_back({r.cta, DayOfMicros(r.time)});
}

int64_t CtaLog::acknowledged_at(CtaId id) const {
  return id >= 0 && static_cast<size_t>(id) < ack_.size() ? ack_[id] : kNoTime;
}

int64_t CtaLog::flag_ended_at(CtaId id) const {
  return id >= 0 && static_cast<size_t>(id) < flag_end_.size() ? flag_end_[id] : kNoTime;
}

std::vector<AuditRow> CtaLog::TakeNewRows() {
  const CtaStore& s = *store_;
  std::span<const AuditRecord> log = s.audit();
  std::vector<AuditRow> out;
  out.reserve(log.size() - converted_);
  for (size_t i = converted_; i < log.size(); ++i) {
    const AuditRecord& r = log[i];
    Track(r);
    const CtaId id = r.cta;
    const Lifecycle& lc = s.lifecycle(id);
    AuditRow row;
    row.seq = next_seq_++;
    row.time = FloorSeconds(r.time);
    row.cta_id = id;
    row.account_id = std::string(s.account(id));
    row.actor = std::string(s.str(r.actor));
    FlatJsonWriter d;
    switch (r.kind) {
      case AuditRecord::kOpen:
        d.Str("kind", "open");
        break;
      case AuditRecord::kUpdate:
        d.Str("kind", "update");
        break;
      case AuditRecord::kTransition:
        d.Str("kind", "transition");
        break;
      case AuditRecord::kTask:
        d.Str("kind", "task");
        break;
      default:
        d.Str("kind", "comment");
        break;
    }
    d.Str("role", RoleName(static_cast<Role>(r.role)));
    if (r.time % 1000000 != 0) d.Int("us", r.time);
    switch (r.kind) {
      case AuditRecord::kOpen:
        if (static_cast<size_t>(id) >= status_.size()) status_.resize(id + 1, 0);
        status_[id] = r.to;
        row.event = "open";
        row.to_status = lc.status_name(r.to);
        row.reason = std::string(s.str(r.s1));
        d.Str("type", s.type_name(id));
        d.Str("domain", RiskDomainName(static_cast<RiskDomain>(r.b)));
        d.Int("priority", r.c);
        if (r.s2 >= 0) d.Str("owner", s.str(r.s2));
        if (r.s3 >= 0) d.Str("playbook", playbook_names_[r.s3]);
        if (r.t0 != kNoTime) d.Int("due", r.t0);
        break;
      case AuditRecord::kUpdate:
        row.event = "update";
        row.from_status = row.to_status = lc.status_name(status_[id]);
        if (r.a & 1) d.Int("priority", r.c);
        if (r.a & 2) {
          if (r.t0 == kNoTime) {
            d.Null("due");
          } else {
            d.Int("due", r.t0);
          }
        }
        if (r.a & 4) {
          if (r.s2 < 0) {
            d.Null("owner");
          } else {
            d.Str("owner", s.str(r.s2));
          }
        }
        break;
      case AuditRecord::kTransition:
        status_[id] = r.to;
        row.event = lc.event_name(r.event);
        row.from_status = lc.status_name(r.from);
        row.to_status = lc.status_name(r.to);
        row.reason = std::string(s.str(r.s0));
        if (r.t0 != kNoTime) d.Int("until", r.t0);
        break;
      case AuditRecord::kTask:
        row.event = "task";
        row.from_status = row.to_status = lc.status_name(status_[id]);
        d.Int("task", r.s0);
        d.Bool("done", r.a != 0);
        break;
      default:
        row.event = "comment";
        row.from_status = row.to_status = lc.status_name(status_[id]);
        row.reason = std::string(s.str(r.s0));
        break;
    }
    row.detail = std::move(d).Finish();
    if (keep_rows_) rows_.push_back(row);
    out.push_back(std::move(row));
  }
  converted_ = log.size();
  return out;
}

}  // namespace cscore::engine_internal
