#include "cscore/escalation/organisation.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/depth_first_search.hpp"
#include "escalation/located.h"

namespace cscore {
namespace {

using escalation_internal::LocatedError;
using ReportingGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Edge = boost::graph_traits<ReportingGraph>::edge_descriptor;

// Stops at the first back edge: with one outgoing edge per person (to the manager), a back
// edge u -> v closes the cycle v -> manager(v) -> ... -> u -> v.
struct CycleFinder : boost::default_dfs_visitor {
  std::optional<Edge>* found;
  void back_edge(Edge e, const ReportingGraph&) const {
    if (!found->has_value()) *found = e;
  }
};

const char* WeekdayName(absl::Weekday d) {
  switch (d) {
    case absl::Weekday::monday:
      return "Monday";
    case absl::Weekday::tuesday:
      return "Tuesday";
    case absl::Weekday::wednesday:
      return "Wednesday";
    case absl::Weekday::thursday:
      return "Thursday";
    case absl::Weekday::friday:
      return "Friday";
    case absl::Weekday::saturday:
      return "Saturday";
    case absl::Weekday::sunday:
      return "Sunday";
  }
  return "";
}

std::string DotQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int RiskDomainIndex(std::string_view domain) {
  for (size_t i = 0; i < kRiskDomains.size(); ++i) {
    if (kRiskDomains[i] == domain) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<Organisation> Organisation::Build(const OrganisationDef& def) {
  Organisation org;
  org.people_ = def.people;
  org.teams_ = def.teams;
  const int n = static_cast<int>(def.people.size());
  for (int i = 0; i < n; ++i) {
    const PersonDef& p = def.people[i];
    if (p.id.empty()) return LocatedError(p.loc, "person without an id");
    if (!org.person_index_.emplace(p.id, i).second) {
      return LocatedError(p.loc, StrCat("duplicate person '", p.id, "'"));
    }
    org.by_role_[p.role].push_back(i);
  }
  for (int t = 0; t < static_cast<int>(def.teams.size()); ++t) {
    const TeamDef& team = def.teams[t];
    if (team.id.empty()) return LocatedError(team.loc, "team without an id");
    if (!org.team_index_.emplace(team.id, t).second) {
      return LocatedError(team.loc, StrCat("duplicate team '", team.id, "'"));
    }
  }

  org.manager_.assign(n, kNoId);
  ReportingGraph graph(n);
  for (int i = 0; i < n; ++i) {
    const PersonDef& p = def.people[i];
    if (p.manager.empty()) {
      if (std::find(def.top_roles.begin(), def.top_roles.end(), p.role) == def.top_roles.end()) {
        return LocatedError(p.loc, StrCat("person '", p.id, "' has no manager and role '", p.role,
                                          "' is not at the top"));
      }
      continue;
    }
    auto m = org.person_index_.find(p.manager);
    if (m == org.person_index_.end()) {
      return LocatedError(p.manager_loc.line > 0 ? p.manager_loc : p.loc,
                          StrCat("person '", p.id, "': unknown manager '", p.manager, "'"));
    }
    org.manager_[i] = m->second;
    boost::add_edge(i, m->second, graph);
  }

  std::optional<Edge> back;
  CycleFinder finder;
  finder.found = &back;
  std::vector<boost::default_color_type> colors(n);
  boost::depth_first_search(graph,
                            boost::visitor(finder).color_map(boost::make_iterator_property_map(
                                colors.begin(), boost::get(boost::vertex_index, graph))));
  if (back.has_value()) {
    const PersonId to = static_cast<PersonId>(boost::target(*back, graph));
    // Report at the member listed first in the file, naming the cycle from there.
    std::vector<PersonId> cycle = {to};
    for (PersonId p = org.manager_[to]; p != to; p = org.manager_[p]) cycle.push_back(p);
    auto first = std::min_element(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), first, cycle.end());
    std::string names;
    for (PersonId p : cycle) names += def.people[p].id + " -> ";
    names += def.people[cycle.front()].id;
    const PersonDef& at = def.people[cycle.front()];
    return LocatedError(at.manager_loc.line > 0 ? at.manager_loc : at.loc,
                        StrCat("cycle in reporting lines: ", names));
  }

  // Teams: membership from both sides, deduplicated, in person order.
  org.team_members_.assign(def.teams.size(), {});
  org.person_teams_.assign(n, {});
  for (int i = 0; i < n; ++i) {
    for (const std::string& t : def.people[i].teams) {
      auto it = org.team_index_.find(t);
      if (it == org.team_index_.end()) {
        return LocatedError(def.people[i].loc,
                            StrCat("person '", def.people[i].id, "': unknown team '", t, "'"));
      }
      org.team_members_[it->second].push_back(i);
    }
  }
  for (int t = 0; t < static_cast<int>(def.teams.size()); ++t) {
    for (const std::string& m : def.teams[t].members) {
      auto it = org.person_index_.find(m);
      if (it == org.person_index_.end()) {
        return LocatedError(def.teams[t].loc,
                            StrCat("team '", def.teams[t].id, "': unknown member '", m, "'"));
      }
      org.team_members_[t].push_back(it->second);
    }
    auto& members = org.team_members_[t];
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    for (PersonId p : members) org.person_teams_[p].push_back(t);
  }

  for (const DomainOwnerDef& d : def.domain_owners) {
    const int index = RiskDomainIndex(d.domain);
    if (index < 0) return LocatedError(d.loc, StrCat("unknown risk domain '", d.domain, "'"));
    if (d.teams.empty()) return LocatedError(d.loc, StrCat("domain '", d.domain, "' has no owner"));
    for (const std::string& t : d.teams) {
      auto it = org.team_index_.find(t);
      if (it == org.team_index_.end()) {
        return LocatedError(d.loc,
                            StrCat("domain '", d.domain, "': unknown owning team '", t, "'"));
      }
      org.domain_owners_[index].push_back(it->second);
    }
  }
  for (size_t d = 0; d < kRiskDomains.size(); ++d) {
    if (org.domain_owners_[d].empty()) {
      return LocatedError(def.loc, StrCat("domain '", kRiskDomains[d], "' has no owner"));
    }
  }

  // Interval numbering of the reporting forest (iterative: deep lines must not overflow).
  std::vector<std::vector<PersonId>> reports(n);
  std::vector<PersonId> roots;
  for (int i = 0; i < n; ++i) {
    if (org.manager_[i] == kNoId) {
      roots.push_back(i);
    } else {
      reports[org.manager_[i]].push_back(i);
    }
  }
  org.enter_.assign(n, 0);
  org.exit_.assign(n, 0);
  org.depth_.assign(n, 0);
  int32_t clock = 0;
  std::vector<std::pair<PersonId, size_t>> stack;
  for (PersonId root : roots) {
    org.enter_[root] = clock++;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto& [p, next] = stack.back();
      if (next < reports[p].size()) {
        const PersonId child = reports[p][next++];
        org.enter_[child] = clock++;
        org.depth_[child] = org.depth_[p] + 1;
        stack.push_back({child, 0});
      } else {
        org.exit_[p] = clock;
        stack.pop_back();
      }
    }
  }
  return org;
}

std::optional<PersonId> Organisation::FindPerson(std::string_view id) const {
  auto it = person_index_.find(id);
  if (it == person_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<TeamId> Organisation::FindTeam(std::string_view id) const {
  auto it = team_index_.find(id);
  if (it == team_index_.end()) return std::nullopt;
  return it->second;
}

bool Organisation::IsAbove(std::string_view actor, std::string_view owner) const {
  auto a = person_index_.find(actor);
  auto o = person_index_.find(owner);
  if (a == person_index_.end() || o == person_index_.end()) return false;
  return IsAbove(a->second, o->second);
}

PersonId Organisation::NearestWithRole(PersonId p, std::string_view role, bool include_self) const {
  for (PersonId q = include_self ? p : manager_[p]; q != kNoId; q = manager_[q]) {
    if (people_[q].role == role) return q;
  }
  return kNoId;
}

PersonId Organisation::FirstWithRole(std::string_view role) const {
  auto it = by_role_.find(role);
  return it == by_role_.end() || it->second.empty() ? kNoId : it->second.front();
}

std::vector<PersonId> Organisation::ReportingChain(PersonId p) const {
  std::vector<PersonId> chain;
  for (PersonId q = p; q != kNoId; q = manager_[q]) chain.push_back(q);
  return chain;
}

std::string Organisation::ToDot() const {
  std::string out = "digraph organisation {\n  rankdir=BT;\n";
  for (const PersonDef& p : people_) {
    absl::StrAppendFormat(&out, "  %s [shape=box,label=%s];\n", DotQuote(p.id),
                          DotQuote(p.name.empty() ? p.id : p.name + "\\n" + p.role));
  }
  for (const TeamDef& t : teams_) {
    std::string label = t.name.empty() ? t.id : t.name;
    if (t.review_day) label += StrCat("\\nreview ", WeekdayName(*t.review_day));
    absl::StrAppendFormat(&out, "  %s [shape=ellipse,label=%s];\n", DotQuote("team:" + t.id),
                          DotQuote(label));
  }
  for (size_t i = 0; i < people_.size(); ++i) {
    if (manager_[i] != kNoId) {
      absl::StrAppendFormat(&out, "  %s -> %s;\n", DotQuote(people_[i].id),
                            DotQuote(people_[manager_[i]].id));
    }
  }
  for (size_t t = 0; t < teams_.size(); ++t) {
    for (PersonId p : team_members_[t]) {
      absl::StrAppendFormat(&out, "  %s -> %s [style=dashed];\n", DotQuote(people_[p].id),
                            DotQuote("team:" + teams_[t].id));
    }
  }
  for (size_t d = 0; d < kRiskDomains.size(); ++d) {
    absl::StrAppendFormat(&out, "  %s [shape=note];\n",
                          DotQuote(StrCat("domain:", kRiskDomains[d])));
    for (TeamId t : domain_owners_[d]) {
      absl::StrAppendFormat(&out, "  %s -> %s [style=dotted,label=\"owns\"];\n",
                            DotQuote("team:" + teams_[t].id),
                            DotQuote(StrCat("domain:", kRiskDomains[d])));
    }
  }
  out += "}\n";
  return out;
}

}  // namespace cscore
