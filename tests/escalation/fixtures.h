// A small organisation shared by the escalation tests.
#ifndef CSCORE_TESTS_ESCALATION_FIXTURES_H_
#define CSCORE_TESTS_ESCALATION_FIXTURES_H_

#include "cscore/escalation/organisation.h"

namespace cscore::testing_fixtures {

// ceo > vp-cs > lead1 > csm1, csm2
//           vp-cs > lead2 > csm3
//     ceo > vp-sup > sup1;  ceo > vp-eng > eng1
inline OrganisationDef SmallOrg() {
  OrganisationDef def;
  auto person = [&](const char* id, const char* role, const char* manager,
                    std::vector<std::string> teams) {
    def.people.push_back({id, id, role, manager, std::move(teams), {}, {}});
  };
  person("ceo", "ceo", "", {});
  person("vp-cs", "vp_cs", "ceo", {});
  person("vp-sup", "vp_support", "ceo", {});
  person("vp-eng", "vp_engineering", "ceo", {});
  person("lead1", "team_lead", "vp-cs", {"cs"});
  person("lead2", "team_lead", "vp-cs", {"cs"});
  person("csm1", "csm", "lead1", {"cs"});
  person("csm2", "csm", "lead1", {"cs"});
  person("csm3", "csm", "lead2", {"cs"});
  person("sup1", "support", "vp-sup", {"support"});
  person("eng1", "engineer", "vp-eng", {"engineering", "product"});
  def.teams.push_back({"cs", "Customer Success", {}, absl::Weekday::tuesday, {}});
  def.teams.push_back({"support", "Support", {}, absl::Weekday::wednesday, {}});
  def.teams.push_back({"services", "Services", {"lead2"}, absl::Weekday::friday, {}});
  def.teams.push_back({"product", "Product", {}, std::nullopt, {}});
  def.teams.push_back({"engineering", "Engineering", {}, std::nullopt, {}});
  def.domain_owners = {{"habit", {"cs"}, {}},
                       {"sentiment", {"cs"}, {}},
                       {"company", {"cs"}, {}},
                       {"support", {"support"}, {}},
                       {"implementation", {"services"}, {}},
                       {"readiness", {"services"}, {}},
                       {"product", {"product"}, {}},
                       {"defect", {"engineering"}, {}}};
  return def;
}

}  // namespace cscore::testing_fixtures

#endif  // CSCORE_TESTS_ESCALATION_FIXTURES_H_
