// Timed CTAs: onboarding milestones, quarterly business reviews and executive check-ins.
//
// These open on dates rather than on conditions: N days after an account's start date, each
// quarter from it, each month or quarter for an account with an executive sponsor (the
// sponsor assignment comes from the escalation module as plain rows). Each occurrence opens
// once, `lead_days` before it is due; a missed day is caught up while the occurrence is not
// yet due; dedup and the RuleState make reruns of a day open nothing.
//
//   absl::StatusOr<cscore::TimedCtas> timed = cscore::TimedCtas::Compile(defs, frame.schema());
//   auto intents = timed->Evaluate(frame, sponsors, as_of, cscore::CtaStoreLookup(store), state);
//   cscore::ApplyTimedIntents(*intents, as_of, store, state);
#ifndef CSCORE_RULES_TIMED_H_
#define CSCORE_RULES_TIMED_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/cta/store.h"
#include "cscore/frame/frame.h"
#include "cscore/rules/apply.h"
#include "cscore/rules/rules.h"

namespace cscore {

// What every timed CTA opens.
struct TimedCtaTemplate {
  std::string type = "Lifecycle";
  std::string reason;  // milestones append " day <N>"
  int priority = 2;
  std::string playbook;
  std::string owner_role = "csm";
};

// One CTA per day offset from a timestamp column (e.g. 30/60/90 days after onboarding start).
struct MilestoneDef {
  std::string name;
  std::string start_column;
  std::vector<int> days = {30, 60, 90};
  int lead_days = 7;
  TimedCtaTemplate cta{"Lifecycle", "Onboarding", 2, "", "csm"};
};

// Every `every_months` months from a timestamp column (the customer's anniversary cadence).
struct QbrDef {
  std::string name = "qbr";
  std::string start_column;
  int every_months = 3;
  int lead_days = 21;
  TimedCtaTemplate cta{"Activity", "Quarterly business review", 2, "", "csm"};
};

// Executive check-ins: one per calendar month or quarter per sponsored account, opened on the
// first run in the period, due at its end, owned by the sponsor.
struct CheckInDef {
  std::string name = "exec_checkin";
  TimedCtaTemplate cta{"Activity", "Executive check-in", 2, "", ""};
};

struct TimedCtaDefs {
  std::vector<MilestoneDef> milestones;
  std::vector<QbrDef> qbrs;
  std::optional<CheckInDef> check_ins;
};

// A sponsor assignment row: 1 (monthly, strategic) or 3 (quarterly, enterprise).
struct SponsorCadence {
  std::string account;
  std::string sponsor;
  int every_months = 3;
};

struct TimedIntent {
  std::string source;  // the definition's name
  std::string_view account;
  std::string_view type;
  std::string reason;
  int priority = 2;
  std::string_view playbook;
  std::string owner;  // owner role, or the sponsor for check-ins
  absl::CivilDay due;
  absl::CivilDay window_start;  // when this occurrence became openable
};

class TimedCtas {
 public:
  // Checks names, day offsets, cadences and that start columns are timestamps in `schema`.
  static absl::StatusOr<TimedCtas> Compile(TimedCtaDefs defs, std::span<const ColumnSpec> schema);

  // Intents ordered by definition (milestones, QBRs, check-ins), then account row. A sponsor
  // row naming an account that is not in the frame, or a bad cadence, is an error.
  absl::StatusOr<std::vector<TimedIntent>> Evaluate(const AccountFrame& frame,
                                                    std::span<const SponsorCadence> sponsors,
                                                    absl::CivilDay as_of, const CtaLookup& ctas,
                                                    const RuleState& state) const;

 private:
  TimedCtaDefs defs_;
};

// Opens each intent through the store as a system actor named after the intent's definition
// (the CTA's source) and records the occurrence in
// `state`. Returns the number opened; rejected intents are reported as (index, why).
int64_t ApplyTimedIntents(std::span<const TimedIntent> intents, absl::CivilDay as_of,
                          CtaStore& store, RuleState& state,
                          std::vector<std::pair<size_t, absl::Status>>* rejected = nullptr);

}  // namespace cscore

#endif  // CSCORE_RULES_TIMED_H_
