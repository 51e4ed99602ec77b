// The eight risk domains as the risk scorecard sees them: default owners and statuses.
//
// The domain enum itself lives with the CTA record (cscore/cta/store.h, kNone for CTAs
// outside the scorecard); this header adds the default RACI of DOMAIN.md, the list of the
// eight real domains, their dense index 0..7 and the green / yellow / red status.
//
//   absl::StatusOr<cscore::RiskDomain> d = cscore::ParseScorecardDomain("Support");
//   std::string_view team = cscore::DefaultOwnerTeam(*d);  // "Support"
//   int column = cscore::DomainIndex(*d);                  // 3
#ifndef CSCORE_RISK_DOMAINS_H_
#define CSCORE_RISK_DOMAINS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "cscore/cta/store.h"

namespace cscore {

inline constexpr int kNumRiskDomains = 8;
inline constexpr std::array<RiskDomain, kNumRiskDomains> kAllRiskDomains = {
    RiskDomain::kHabit,          RiskDomain::kSentiment, RiskDomain::kCompany, RiskDomain::kSupport,
    RiskDomain::kImplementation, RiskDomain::kReadiness, RiskDomain::kProduct, RiskDomain::kDefect};

// 0..7 for the eight domains, -1 for kNone.
inline int DomainIndex(RiskDomain d) { return static_cast<int>(d) - 1; }

// Case-insensitive name of one of the eight domains as DOMAIN.md writes them ("Habit",
// "support"...), with "adoption" for Habit; kNone is not accepted. Config files use this.
absl::StatusOr<RiskDomain> ParseScorecardDomain(std::string_view name);

// The default RACI of DOMAIN.md (CSM team, Support, Services, Product, Engineering);
// empty for kNone.
std::string_view DefaultOwnerTeam(RiskDomain domain);

// Ordered so that worst-of is a max.
enum class RiskStatus : uint8_t { kGreen = 0, kYellow = 1, kRed = 2 };
std::string_view RiskStatusName(RiskStatus status);  // "green", "yellow", "red"
absl::StatusOr<RiskStatus> ParseRiskStatus(std::string_view name);

}  // namespace cscore

#endif  // CSCORE_RISK_DOMAINS_H_
