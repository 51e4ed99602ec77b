#include "cscore/risk/domains.h"

#include <string>

#include "absl/strings/ascii.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

constexpr std::array<std::string_view, kNumRiskDomains> kOwners = {
    "CSM team", "CSM team", "CSM team", "Support",
    "Services", "Services", "Product",  "Engineering"};

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

}  // namespace

absl::StatusOr<RiskDomain> ParseScorecardDomain(std::string_view name) {
  std::string lower = Lower(name);
  if (lower == "adoption") lower = "habit";
  if (lower != "none") {
    absl::StatusOr<RiskDomain> d = ParseRiskDomain(lower);
    if (d.ok()) return d;
  }
  return absl::InvalidArgumentError(StrCat(
      "unknown risk domain '", name,
      "' (expected Habit, Sentiment, Company, Support, Implementation, Readiness, Product or "
      "Defect)"));
}

std::string_view DefaultOwnerTeam(RiskDomain domain) {
  const int i = DomainIndex(domain);
  return i >= 0 && i < kNumRiskDomains ? kOwners[i] : std::string_view();
}

std::string_view RiskStatusName(RiskStatus status) {
  switch (status) {
    case RiskStatus::kGreen:
      return "green";
    case RiskStatus::kYellow:
      return "yellow";
    case RiskStatus::kRed:
      return "red";
  }
  return "?";
}

absl::StatusOr<RiskStatus> ParseRiskStatus(std::string_view name) {
  const std::string lower = Lower(name);
  if (lower == "green") return RiskStatus::kGreen;
  if (lower == "yellow") return RiskStatus::kYellow;
  if (lower == "red") return RiskStatus::kRed;
  return absl::InvalidArgumentError(
      StrCat("unknown risk status '", name, "' (expected green, yellow or red)"));
}

}  // namespace cscore
