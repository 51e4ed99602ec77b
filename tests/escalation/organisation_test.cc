#include "cscore/escalation/organisation.h"

#include <random>

#include "cscore/escalation/authority.h"
#include "fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;
using testing_fixtures::SmallOrg;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(OrganisationTest, IsAboveFollowsReportingLines) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  ASSERT_TRUE(org.ok()) << org.status();
  EXPECT_TRUE(org->IsAbove("lead1", "csm1"));
  EXPECT_TRUE(org->IsAbove("vp-cs", "csm3"));
  EXPECT_TRUE(org->IsAbove("ceo", "eng1"));
  EXPECT_FALSE(org->IsAbove("csm1", "lead1"));
  EXPECT_FALSE(org->IsAbove("lead1", "csm3"));   // another line
  EXPECT_FALSE(org->IsAbove("csm1", "csm1"));    // strictly above
  EXPECT_FALSE(org->IsAbove("vp-sup", "csm1"));  // a peer's line
  EXPECT_FALSE(org->IsAbove("nobody", "csm1"));
  EXPECT_FALSE(org->IsAbove("ceo", "nobody"));
}

TEST(OrganisationTest, IsAboveAgreesWithManagerWalkOnRandomTrees) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    OrganisationDef def;
    const int n = 60;
    for (int i = 0; i < n; ++i) {
      PersonDef p;
      p.id = "p" + std::to_string(i);
      p.role = i == 0 ? "ceo" : "staff";
      if (i > 0)
        p.manager = "p" + std::to_string(std::uniform_int_distribution<int>(0, i - 1)(rng));
      def.people.push_back(p);
    }
    def.teams.push_back({"t", "", {"p0"}, std::nullopt, {}});
    for (std::string_view d : kRiskDomains)
      def.domain_owners.push_back({std::string(d), {"t"}, {}});
    // Shuffle the definition order: numbering must not depend on it.
    std::shuffle(def.people.begin(), def.people.end(), rng);
    absl::StatusOr<Organisation> org = Organisation::Build(def);
    ASSERT_TRUE(org.ok()) << org.status();
    for (PersonId a = 0; a < n; ++a) {
      for (PersonId b = 0; b < n; ++b) {
        bool walk = false;
        for (PersonId q = org->manager(b); q != kNoId; q = org->manager(q)) walk |= q == a;
        ASSERT_EQ(org->IsAbove(a, b), walk) << a << " " << b;
      }
    }
  }
}

TEST(OrganisationTest, TeamsDomainsAndRoles) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  ASSERT_TRUE(org.ok()) << org.status();
  const TeamId services = *org->FindTeam("services");
  ASSERT_EQ(org->members(services).size(), 1u);
  EXPECT_EQ(org->person(org->members(services)[0]).id, "lead2");
  const PersonId lead2 = *org->FindPerson("lead2");
  EXPECT_EQ(org->teams_of(lead2).size(), 2u);  // cs (own list) and services (team's list)
  const auto defect = org->domain_owners(RiskDomainIndex("defect"));
  ASSERT_EQ(defect.size(), 1u);
  EXPECT_EQ(org->team(defect[0]).id, "engineering");
  const PersonId csm3 = *org->FindPerson("csm3");
  EXPECT_EQ(org->person(org->NearestWithRole(csm3, "vp_cs")).id, "vp-cs");
  EXPECT_EQ(org->NearestWithRole(csm3, "vp_support"), kNoId);
  EXPECT_EQ(org->depth(csm3), 3);
  EXPECT_EQ(org->ReportingChain(csm3).size(), 4u);
}

TEST(OrganisationTest, CycleIsNamed) {
  OrganisationDef def = SmallOrg();
  def.people.push_back({"a", "", "csm", "c", {}, {}, {"org.yaml", 40, 5}});
  def.people.push_back({"b", "", "csm", "a", {}, {}, {"org.yaml", 41, 5}});
  def.people.push_back({"c", "", "csm", "b", {}, {}, {"org.yaml", 42, 5}});
  absl::StatusOr<Organisation> org = Organisation::Build(def);
  ASSERT_FALSE(org.ok());
  EXPECT_EQ(Message(org.status()), "org.yaml:40:5: cycle in reporting lines: a -> c -> b -> a");
}

TEST(OrganisationTest, SelfManagerIsACycle) {
  OrganisationDef def = SmallOrg();
  def.people.push_back({"x", "", "csm", "x", {}, {}, {}});
  absl::StatusOr<Organisation> org = Organisation::Build(def);
  ASSERT_FALSE(org.ok());
  EXPECT_THAT(Message(org.status()), HasSubstr("cycle in reporting lines: x -> x"));
}

TEST(OrganisationTest, NoManagerBelowTheTopIsAnError) {
  OrganisationDef def = SmallOrg();
  def.people[3].manager = "";  // vp-eng
  absl::StatusOr<Organisation> org = Organisation::Build(def);
  ASSERT_FALSE(org.ok());
  EXPECT_THAT(
      Message(org.status()),
      HasSubstr("person 'vp-eng' has no manager and role 'vp_engineering' is not at the top"));
}

TEST(OrganisationTest, DomainWithoutOwnerIsAnError) {
  OrganisationDef def = SmallOrg();
  def.domain_owners.pop_back();  // defect
  def.loc = {"org.yaml", 3, 1};
  absl::StatusOr<Organisation> org = Organisation::Build(def);
  ASSERT_FALSE(org.ok());
  EXPECT_EQ(Message(org.status()), "org.yaml:3:1: domain 'defect' has no owner");
}

TEST(OrganisationTest, UnknownReferencesAreErrors) {
  OrganisationDef def = SmallOrg();
  def.people[6].manager = "ghost";
  def.people[6].manager_loc = {"org.yaml", 9, 30};
  EXPECT_EQ(Message(Organisation::Build(def).status()),
            "org.yaml:9:30: person 'csm1': unknown manager 'ghost'");
  def = SmallOrg();
  def.people[6].teams.push_back("nope");
  EXPECT_THAT(Message(Organisation::Build(def).status()), HasSubstr("unknown team 'nope'"));
  def = SmallOrg();
  def.domain_owners[0].teams = {"nope"};
  EXPECT_THAT(Message(Organisation::Build(def).status()),
              HasSubstr("domain 'habit': unknown owning team 'nope'"));
  def = SmallOrg();
  def.people.push_back(def.people[2]);
  EXPECT_THAT(Message(Organisation::Build(def).status()), HasSubstr("duplicate person 'vp-sup'"));
}

TEST(OrganisationTest, DotExport) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  ASSERT_TRUE(org.ok());
  const std::string dot = org->ToDot();
  EXPECT_THAT(dot, HasSubstr("digraph organisation {"));
  EXPECT_THAT(dot, HasSubstr("\"csm1\" -> \"lead1\";"));
  EXPECT_THAT(dot, HasSubstr("\"lead2\" -> \"team:services\" [style=dashed];"));
  EXPECT_THAT(dot, HasSubstr("\"team:engineering\" -> \"domain:defect\""));
  EXPECT_THAT(dot, HasSubstr("review Wednesday"));
}

TEST(OrganisationTest, AuthorityAdapterUsesReportingLines) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  ASSERT_TRUE(org.ok());
  OrganisationAuthority authority(*org);
  const Authority& guard = authority;
  EXPECT_TRUE(guard.IsAbove(Actor{"lead1", Role::kTeamLead}, "csm2"));
  // A team lead of another line is not above the owner (the role list would have said yes).
  EXPECT_FALSE(guard.IsAbove(Actor{"lead2", Role::kTeamLead}, "csm1"));
  EXPECT_FALSE(guard.IsAbove(Actor{"csm2", Role::kCsm}, "csm1"));
  EXPECT_TRUE(guard.IsAbove(Actor{"root", Role::kAdmin}, "csm1"));
}

}  // namespace
}  // namespace cscore
