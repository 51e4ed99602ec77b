#include "cscore/rules/timed.h"

#include <algorithm>

#include "absl/time/time.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

constexpr absl::CivilDay kEpoch(1970, 1, 1);

absl::CivilDay DayOf(int64_t seconds) {
  const int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  return kEpoch + days;
}

// `months` after `start`, clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28).
absl::CivilDay AddMonths(absl::CivilDay start, int64_t months) {
  const absl::CivilMonth m = absl::CivilMonth(start) + months;
  const absl::CivilDay last = absl::CivilDay(m + 1) - 1;
  return absl::CivilDay(m.year(), m.month(), std::min(start.day(), last.day()));
}

absl::Status CheckTemplate(std::string_view name, const TimedCtaTemplate& t) {
  if (t.type.empty() || t.reason.empty()) {
    return absl::InvalidArgumentError(StrCat("timed CTA '", name, "' needs a type and a reason"));
  }
  if (t.priority < 0 || t.priority > 255) {
    return absl::InvalidArgumentError(StrCat("timed CTA '", name, "': priority out of 0..255"));
  }
  return absl::OkStatus();
}

absl::Status CheckStartColumn(std::string_view name, std::string_view column,
                              std::span<const ColumnSpec> schema) {
  for (const ColumnSpec& c : schema) {
    if (c.name != column) continue;
    if (c.type != ColumnType::kTimestamp) {
      return absl::InvalidArgumentError(StrCat("timed CTA '", name, "': start column '", column,
                                               "' is ", ColumnTypeName(c.type), ", not timestamp"));
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(StrCat("timed CTA '", name, "': unknown start column '", column, "'"));
}

std::string StateKey(std::string_view source, std::string_view reason) {
  return StrCat(source, "|", reason);
}

// True when this occurrence was neither opened already (state) nor is open (dedup).
bool Openable(const RuleState& state, const CtaLookup& ctas, std::string_view source,
              std::string_view account, std::string_view type, std::string_view reason,
              absl::CivilDay window_start) {
  std::optional<absl::CivilDay> fired = state.LastFired(StateKey(source, reason), account);
  if (fired.has_value() && *fired >= window_start) return false;
  return !ctas.FindOpen(account, type, reason).has_value();
}

TimedIntent Make(std::string_view source, std::string_view account, const TimedCtaTemplate& t,
                 std::string reason, absl::CivilDay due, absl::CivilDay window_start) {
  TimedIntent in;
  in.source = std::string(source);
  in.account = account;
  in.type = t.type;
  in.reason = std::move(reason);
  in.priority = t.priority;
  in.playbook = t.playbook;
  in.owner = t.owner_role;
  in.due = due;
  in.window_start = window_start;
  return in;
}

}  // namespace

absl::StatusOr<TimedCtas> TimedCtas::Compile(TimedCtaDefs defs,
                                             std::span<const ColumnSpec> schema) {
  StringSet names;
  auto check_name = [&](const std::string& name) -> absl::Status {
    if (name.empty()) return absl::InvalidArgumentError("a timed CTA needs a name");
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(StrCat("duplicate timed CTA name '", name, "'"));
    }
    return absl::OkStatus();
  };
  for (const MilestoneDef& m : defs.milestones) {
    if (absl::Status s = check_name(m.name); !s.ok()) return s;
    if (absl::Status s = CheckTemplate(m.name, m.cta); !s.ok()) return s;
    if (absl::Status s = CheckStartColumn(m.name, m.start_column, schema); !s.ok()) return s;
    if (m.days.empty()) {
      return absl::InvalidArgumentError(StrCat("milestone '", m.name, "' has no days"));
    }
    for (int d : m.days) {
      if (d < 1 || d > 3660) {
        return absl::InvalidArgumentError(
            StrCat("milestone '", m.name, "': day ", d, " out of 1..3660"));
      }
    }
    if (m.lead_days < 0 || m.lead_days > 365) {
      return absl::InvalidArgumentError(StrCat("milestone '", m.name, "': lead_days out of range"));
    }
  }
  for (const QbrDef& q : defs.qbrs) {
    if (absl::Status s = check_name(q.name); !s.ok()) return s;
    if (absl::Status s = CheckTemplate(q.name, q.cta); !s.ok()) return s;
    if (absl::Status s = CheckStartColumn(q.name, q.start_column, schema); !s.ok()) return s;
    if (q.every_months < 1 || q.every_months > 24) {
      return absl::InvalidArgumentError(StrCat("QBR '", q.name, "': every_months out of 1..24"));
    }
    if (q.lead_days < 0 || q.lead_days > 365) {
      return absl::InvalidArgumentError(StrCat("QBR '", q.name, "': lead_days out of range"));
    }
  }
  if (defs.check_ins.has_value()) {
    if (absl::Status s = check_name(defs.check_ins->name); !s.ok()) return s;
    if (absl::Status s = CheckTemplate(defs.check_ins->name, defs.check_ins->cta); !s.ok()) {
      return s;
    }
  }
  TimedCtas timed;
  timed.defs_ = std::move(defs);
  return timed;
}

absl::StatusOr<std::vector<TimedIntent>> TimedCtas::Evaluate(
    const AccountFrame& frame, std::span<const SponsorCadence> sponsors, absl::CivilDay as_of,
    const CtaLookup& ctas, const RuleState& state) const {
  std::vector<TimedIntent> out;
  const std::span<const std::string> ids = frame.ids();
  const size_t n = frame.num_rows();
  for (const MilestoneDef& m : defs_.milestones) {
    absl::StatusOr<const Column*> col = frame.Get(m.start_column);
    if (!col.ok()) return col.status();
    const Column& c = **col;
    for (size_t row = 0; row < n; ++row) {
      if (c.IsMissing(row)) continue;
      const absl::CivilDay start = DayOf(c.i64[row]);
      for (int d : m.days) {
        const absl::CivilDay due = start + d;
        const absl::CivilDay window = due - m.lead_days;
        if (as_of < window || as_of > due) continue;
        std::string reason = StrCat(m.cta.reason, " day ", d);
        if (!Openable(state, ctas, m.name, ids[row], m.cta.type, reason, window)) continue;
        out.push_back(Make(m.name, ids[row], m.cta, std::move(reason), due, window));
      }
    }
  }
  for (const QbrDef& q : defs_.qbrs) {
    absl::StatusOr<const Column*> col = frame.Get(q.start_column);
    if (!col.ok()) return col.status();
    const Column& c = **col;
    for (size_t row = 0; row < n; ++row) {
      if (c.IsMissing(row)) continue;
      const absl::CivilDay start = DayOf(c.i64[row]);
      if (as_of <= start) continue;
      // The next occurrence on or after as_of.
      int64_t k = std::max<int64_t>(
          1, (absl::CivilMonth(as_of) - absl::CivilMonth(start)) / q.every_months - 1);
      absl::CivilDay due = AddMonths(start, k * q.every_months);
      while (due < as_of) due = AddMonths(start, ++k * q.every_months);
      const absl::CivilDay window = due - q.lead_days;
      if (as_of < window) continue;
      if (!Openable(state, ctas, q.name, ids[row], q.cta.type, q.cta.reason, window)) continue;
      out.push_back(Make(q.name, ids[row], q.cta, q.cta.reason, due, window));
    }
  }
  if (defs_.check_ins.has_value()) {
    const CheckInDef& ci = *defs_.check_ins;
    std::vector<std::pair<size_t, const SponsorCadence*>> rows;
    for (const SponsorCadence& s : sponsors) {
      std::optional<size_t> row = frame.RowOf(s.account);
      if (!row.has_value()) {
        return absl::NotFoundError(StrCat("sponsor assignment names account '", s.account,
                                          "', which is not in the frame"));
      }
      if (s.every_months != 1 && s.every_months != 3) {
        return absl::InvalidArgumentError(StrCat("account '", s.account, "': check-in every ",
                                                 s.every_months, " months (expected 1 or 3)"));
      }
      if (s.sponsor.empty()) {
        return absl::InvalidArgumentError(StrCat("account '", s.account, "': empty sponsor"));
      }
      rows.emplace_back(*row, &s);
    }
    std::sort(rows.begin(), rows.end());
    for (const auto& [row, s] : rows) {
      const absl::CivilMonth month(as_of);
      const absl::CivilMonth first =
          s->every_months == 1 ? month
                               : absl::CivilMonth(month.year(), (month.month() - 1) / 3 * 3 + 1);
      const absl::CivilDay window(first);
      const absl::CivilDay due = absl::CivilDay(first + s->every_months) - 1;
      if (!Openable(state, ctas, ci.name, ids[row], ci.cta.type, ci.cta.reason, window)) continue;
      TimedIntent in = Make(ci.name, ids[row], ci.cta, ci.cta.reason, due, window);
      in.owner = s->sponsor;
      out.push_back(std::move(in));
    }
  }
  return out;
}

int64_t ApplyTimedIntents(std::span<const TimedIntent> intents, absl::CivilDay as_of,
                          CtaStore& store, RuleState& state,
                          std::vector<std::pair<size_t, absl::Status>>* rejected) {
  const absl::Time at = absl::FromCivil(as_of, absl::UTCTimeZone());
  int64_t opened = 0;
  for (size_t i = 0; i < intents.size(); ++i) {
    const TimedIntent& in = intents[i];
    // The definition's name is the CTA's source, as a rule's name is for rule CTAs.
    const Actor system{in.source, Role::kSystem};
    OpenCta cta;
    cta.account = in.account;
    cta.type = in.type;
    cta.reason = in.reason;
    cta.priority = in.priority;
    cta.owner = in.owner;
    cta.playbook = in.playbook;
    cta.due = absl::FromCivil(in.due, absl::UTCTimeZone());
    absl::StatusOr<CtaId> id = store.Open(cta, system, at);
    if (id.ok()) {
      ++opened;
      state.RecordFired(StateKey(in.source, in.reason), in.account, as_of);
    } else if (rejected != nullptr) {
      rejected->emplace_back(
          i, absl::Status(id.status().code(), StrCat(in.source, ", account '", in.account,
                                                     "': ", ToStd(id.status().message()))));
    }
  }
  return opened;
}

}  // namespace cscore
