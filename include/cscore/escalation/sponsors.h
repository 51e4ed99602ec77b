// Executive sponsor assignment: accounts at or above the pool's ARR threshold get a sponsor
// from the leadership pool. Strategic accounts have a 30-minute check-in each month,
// enterprise accounts each quarter; each sponsor has a capacity in check-ins a week, and
// earlier relationships (the current sponsor, else the executive who took part in the sale)
// are kept when possible.
//
// Model (exact). Load is counted in check-ins a quarter: strategic 3, enterprise 1; sponsor s
// holds at most Q_s = floor(13 * capacity_per_week) of them. An account assigned to a sponsor
// other than its current one costs `break_relationship`; an account with no current sponsor
// costs `no_relationship` unless it goes to its sale sponsor. Load imbalance is convex:
// the u-th check-in unit of sponsor s (u = 0, 1, ...) costs imbalance * floor(u / band_s),
// band_s = ceil(Q_s / bands), so fuller sponsors (relative to their capacity) cost more.
// Because a strategic account takes three units of one sponsor, one flow cannot carry both
// tiers; the assignment is lexicographically optimal: first strategic accounts (as many as
// fit, then least cost with each sponsor's whole capacity), then enterprise accounts (as many
// as fit, then least cost given the strategic load). Each stage is a min-cost max-flow
// (Boost.Graph successive shortest paths) on a small graph where interchangeable accounts
// (same tier and same preferred sponsor) form one class; classes are split back onto
// accounts in account id order, deterministically.
//
//   cscore::SponsorPoolDef pool{.sponsors = {{"ceo", 2.0}, {"cro", 3.0}}, .min_arr = 250000};
//   absl::StatusOr<cscore::SponsorPlan> plan = cscore::AssignSponsors(pool, accounts);
//   for (const auto& a : plan->assigned) OpenCheckin(a.account_id, a.sponsor_id, a.cadence_months);
#ifndef CSCORE_ESCALATION_SPONSORS_H_
#define CSCORE_ESCALATION_SPONSORS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/escalation/organisation.h"
#include "cscore/rules/timed.h"

namespace cscore {

struct SponsorDef {
  std::string id;                // a person of the leadership team
  double capacity_per_week = 0;  // check-ins a week, >= 0
  SourceLoc loc;
};

struct SponsorCosts {
  int64_t break_relationship = 100;
  int64_t no_relationship = 10;
  int64_t imbalance = 1;
  int bands = 10;  // steps of the convex load cost across a sponsor's capacity
};

struct SponsorPoolDef {
  std::vector<SponsorDef> sponsors;
  double min_arr = 0;  // accounts below get no sponsor
  SponsorCosts costs;
  SourceLoc loc;
};

struct SponsorAccount {
  std::string account_id;
  double arr = 0;
  std::string tier;             // "strategic" or "enterprise"; other tiers get no sponsor
  std::string current_sponsor;  // empty: none
  std::string sale_sponsor;     // took part in the sale; empty: none
};

struct SponsorAssignment {
  std::string account_id;
  std::string sponsor_id;
  int cadence_months = 3;  // 1 strategic, 3 enterprise: feeds the timed check-in CTA
  int checkin_minutes = 30;
  bool kept = false;  // the account keeps its current sponsor
};

struct SponsorPlan {
  std::vector<SponsorAssignment> assigned;  // in input order of the accounts
  std::vector<std::string> unassigned;      // eligible accounts without a sponsor
  std::string unassigned_reason;            // empty when every eligible account has one
  int not_eligible = 0;                     // below the ARR threshold or another tier
  std::vector<int> load;                    // check-ins a quarter, per sponsor (pool order)
  int64_t relationship_cost = 0;
  int64_t imbalance_cost = 0;
};

// Quarterly capacity in check-ins of a weekly capacity, and the objective's load cost of a
// sponsor holding `units` check-ins a quarter; exposed so callers can audit a plan.
int QuarterlyCapacity(double capacity_per_week);
int64_t LoadCost(int units, int quarterly_capacity, const SponsorCosts& costs);

// The date of the check-in CTA due on or after `as_of` for a sponsorship that started on
// `since` with a check-in every `cadence_months` (same day of the month, clamped to the
// month's end): what the rules engine schedules as the sponsor-owned timed CTA.
absl::CivilDay NextCheckin(absl::CivilDay since, int cadence_months, absl::CivilDay as_of);

// The plan as the rules engine's timed check-in CTAs read it (TimedCtas::Evaluate): one row
// per assigned account, in plan order, owned by its sponsor, every 1 (strategic) or 3
// (enterprise) months.
std::vector<SponsorCadence> CheckInCadences(const SponsorPlan& plan);

// Infeasible capacity is not an error: the plan lists who is left out and why. Errors: a
// negative or non-finite capacity, duplicate ids, an unknown current / sale sponsor, a
// non-finite ARR.
absl::StatusOr<SponsorPlan> AssignSponsors(const SponsorPoolDef& pool,
                                           std::span<const SponsorAccount> accounts);

}  // namespace cscore

#endif  // CSCORE_ESCALATION_SPONSORS_H_
