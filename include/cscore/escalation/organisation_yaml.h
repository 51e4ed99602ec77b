// YAML for the organisation (people, teams, domain owners, the sponsor pool) and for the
// escalation policies, filled into the plain definition structs with every item's position
// recorded, so that errors found while loading or building read "file:line:column: message".
// LoadEscalation loads both files and builds the compiled Escalator.
//
//   absl::StatusOr<cscore::EscalationSetup> setup = cscore::LoadEscalation(
//       "config/organisation.yaml", "config/escalation.yaml");
//   bool ok = setup->escalator.organisation().IsAbove("vp-cs", "csm-1");
#ifndef CSCORE_ESCALATION_ORGANISATION_YAML_H_
#define CSCORE_ESCALATION_ORGANISATION_YAML_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cscore/escalation/organisation.h"
#include "cscore/escalation/policy.h"
#include "cscore/escalation/sponsors.h"

namespace cscore {

struct OrganisationConfig {
  OrganisationDef organisation;
  SponsorPoolDef sponsors;
};

// organisation.yaml: top_roles, people, teams, domain_owners, sponsors.
absl::StatusOr<OrganisationConfig> LoadOrganisationFile(const std::string& path);
absl::StatusOr<OrganisationConfig> LoadOrganisationString(std::string_view text,
                                                          std::string source = "<string>");
// escalation.yaml: policies.
absl::StatusOr<std::vector<PolicyDef>> LoadPoliciesFile(const std::string& path);
absl::StatusOr<std::vector<PolicyDef>> LoadPoliciesString(std::string_view text,
                                                          std::string source = "<string>");

struct EscalationSetup {
  Escalator escalator;
  SponsorPoolDef sponsors;  // sponsors checked to be people of the organisation
};
// Loads and builds both; every sponsor must be a person of the organisation.
absl::StatusOr<EscalationSetup> BuildEscalation(const OrganisationConfig& organisation,
                                                std::vector<PolicyDef> policies);
absl::StatusOr<EscalationSetup> LoadEscalation(const std::string& organisation_path,
                                               const std::string& policies_path);

}  // namespace cscore

#endif  // CSCORE_ESCALATION_ORGANISATION_YAML_H_
