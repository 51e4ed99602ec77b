// The organisation behind escalations: people, roles, teams, reporting lines and the owner of
// each risk domain. OrganisationDef is a plain description (filled by the YAML loader or by
// hand); Organisation::Build validates it with Boost.Graph (reporting cycles are named, people
// without a manager must be at the top, every domain has an owner) and flattens the reporting
// tree into interval numbers, so "is X above Y" is two integer comparisons.
//
//   absl::StatusOr<cscore::Organisation> org = cscore::Organisation::Build(def);
//   bool may_act = org->IsAbove("vp-cs", "csm-17");   // the VP manages the CSM's line
//   std::string dot = org->ToDot();                   // Graphviz of reporting lines and teams
#ifndef CSCORE_ESCALATION_ORGANISATION_H_
#define CSCORE_ESCALATION_ORGANISATION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/base/strings.h"

namespace cscore {

// Where a definition came from, so that validation errors read "file:line:column: ...".
// line == 0 means unknown (definitions built in code); the message then has no prefix.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

// The eight risk domains of the scorecard, in their canonical order and spelling.
inline constexpr std::array<std::string_view, 8> kRiskDomains = {
    "habit", "sentiment", "company", "support", "implementation", "readiness", "product", "defect"};
// Index into kRiskDomains, or -1.
int RiskDomainIndex(std::string_view domain);

struct PersonDef {
  std::string id;
  std::string name;
  std::string role;     // e.g. "csm", "team_lead", "vp_cs", "ceo"
  std::string manager;  // empty only for people at the top
  std::vector<std::string> teams;
  SourceLoc loc;          // the person's entry
  SourceLoc manager_loc;  // the manager field (cycles and unknown managers are reported here)
};

struct TeamDef {
  std::string id;
  std::string name;
  std::vector<std::string> members;         // in addition to people who list the team
  std::optional<absl::Weekday> review_day;  // the team's weekly review meeting
  SourceLoc loc;
};

struct DomainOwnerDef {
  std::string domain;              // one of kRiskDomains
  std::vector<std::string> teams;  // owning team(s), e.g. Readiness -> services, cs_ops
  SourceLoc loc;
};

struct OrganisationDef {
  std::vector<PersonDef> people;
  std::vector<TeamDef> teams;
  std::vector<DomainOwnerDef> domain_owners;     // every domain needs one
  std::vector<std::string> top_roles = {"ceo"};  // roles allowed to have no manager
  SourceLoc loc;                                 // the document (for "domain has no owner")
};

using PersonId = int32_t;
using TeamId = int32_t;
inline constexpr int32_t kNoId = -1;

// Immutable and thread-safe after Build.
class Organisation {
 public:
  static absl::StatusOr<Organisation> Build(const OrganisationDef& def);

  int num_people() const { return static_cast<int>(people_.size()); }
  int num_teams() const { return static_cast<int>(teams_.size()); }
  std::optional<PersonId> FindPerson(std::string_view id) const;
  std::optional<TeamId> FindTeam(std::string_view id) const;
  const PersonDef& person(PersonId p) const { return people_[p]; }
  const TeamDef& team(TeamId t) const { return teams_[t]; }
  PersonId manager(PersonId p) const { return manager_[p]; }
  int depth(PersonId p) const { return depth_[p]; }
  std::span<const PersonId> members(TeamId t) const { return team_members_[t]; }
  std::span<const TeamId> teams_of(PersonId p) const { return person_teams_[p]; }
  std::span<const TeamId> domain_owners(int domain) const { return domain_owners_[domain]; }

  // True when `actor` is strictly above `owner` in the reporting lines (a manager, the
  // manager's manager, ...). Constant time: DFS entry/exit numbers of the reporting tree.
  bool IsAbove(PersonId actor, PersonId owner) const {
    return enter_[actor] < enter_[owner] && exit_[owner] <= exit_[actor];
  }
  // False when either person is unknown.
  bool IsAbove(std::string_view actor, std::string_view owner) const;

  // The nearest person above `p` (or `p` itself when include_self) whose role is `role`;
  // kNoId when there is none. O(depth).
  PersonId NearestWithRole(PersonId p, std::string_view role, bool include_self = false) const;
  // The first person (in definition order) with `role`, or kNoId.
  PersonId FirstWithRole(std::string_view role) const;
  // `p`, its manager, ..., the top.
  std::vector<PersonId> ReportingChain(PersonId p) const;

  // Graphviz DOT: people as boxes (reporting edges person -> manager), teams as ellipses
  // with dashed membership edges, and each domain's owning team.
  std::string ToDot() const;

 private:
  std::vector<PersonDef> people_;
  std::vector<TeamDef> teams_;
  StringMap<PersonId> person_index_;
  StringMap<TeamId> team_index_;
  StringMap<std::vector<PersonId>> by_role_;
  std::vector<PersonId> manager_;
  std::vector<int32_t> depth_;
  std::vector<int32_t> enter_;
  std::vector<int32_t> exit_;
  std::vector<std::vector<PersonId>> team_members_;
  std::vector<std::vector<TeamId>> person_teams_;
  std::array<std::vector<TeamId>, kRiskDomains.size()> domain_owners_;
};

}  // namespace cscore

#endif  // CSCORE_ESCALATION_ORGANISATION_H_
