#include "cscore/escalation/organisation_yaml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

constexpr char kOrg[] = R"(people:
  - {id: ceo, role: ceo}
  - {id: vp, role: vp_cs, manager: ceo}
  - {id: lead, role: team_lead, manager: vp, teams: [cs]}
  - {id: csm, role: csm, manager: lead, teams: [cs]}
teams:
  - {id: cs, review_day: tuesday}
domain_owners:
  habit: cs
  sentiment: cs
  company: cs
  support: cs
  implementation: cs
  readiness: [cs]
  product: cs
  defect: cs
sponsors:
  min_arr: 100
  pool:
    - {id: ceo, capacity: 2}
)";

constexpr char kPolicies[] = R"(policies:
  - id: p
    levels:
      - targets: [owner_manager]
        timeout: 2d
      - targets: [{role: vp_cs}]
        timeout: 36h
      - targets: [{person: ceo}]
)";

absl::Status Build(std::string_view org, std::string_view policies) {
  absl::StatusOr<OrganisationConfig> o = LoadOrganisationString(org, "org.yaml");
  if (!o.ok()) return o.status();
  absl::StatusOr<std::vector<PolicyDef>> p = LoadPoliciesString(policies, "esc.yaml");
  if (!p.ok()) return p.status();
  return BuildEscalation(*o, *std::move(p)).status();
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(EscalationYamlTest, LoadsAndBuilds) {
  absl::StatusOr<std::vector<PolicyDef>> p = LoadPoliciesString(kPolicies, "esc.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].levels[1].timeout, absl::Hours(36));
  EXPECT_EQ((*p)[0].levels[2].timeout, absl::InfiniteDuration());
  EXPECT_EQ((*p)[0].levels[1].targets[0].kind, TargetDef::Kind::kRole);
  absl::StatusOr<OrganisationConfig> o = LoadOrganisationString(kOrg, "org.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->sponsors.sponsors[0].capacity_per_week, 2);
  absl::StatusOr<EscalationSetup> setup = BuildEscalation(*o, *p);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_TRUE(setup->escalator.organisation().IsAbove("vp", "csm"));
}

TEST(EscalationYamlTest, DemoConfigBuilds) {
  const std::string dir = std::string(CSCORE_SOURCE_DIR) + "/examples/demo/config/";
  absl::StatusOr<EscalationSetup> setup =
      LoadEscalation(dir + "organisation.yaml", dir + "escalation.yaml");
  ASSERT_TRUE(setup.ok()) << setup.status();
  const Organisation& org = setup->escalator.organisation();
  // The demo book changes; what must hold is the shape: one top, every CSM under a VP of
  // customer success, and sponsors who are people of the organisation.
  EXPECT_TRUE(org.IsAbove("vp-cs", "csm-3"));
  EXPECT_FALSE(org.IsAbove("vp-support", "csm-3"));
  int tops = 0;
  for (PersonId p = 0; p < org.num_people(); ++p) {
    tops += org.manager(p) == kNoId;
    if (org.person(p).role == "csm") {
      EXPECT_NE(org.NearestWithRole(p, "vp_cs"), kNoId) << org.person(p).id;
    }
  }
  EXPECT_EQ(tops, 1);
  EXPECT_FALSE(setup->sponsors.sponsors.empty());
  for (const SponsorDef& s : setup->sponsors.sponsors) EXPECT_TRUE(org.FindPerson(s.id)) << s.id;
  EXPECT_GT(setup->sponsors.min_arr, 0);
}

TEST(EscalationYamlTest, UnknownPersonInPolicy) {
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "{person: ceo}", "{person: cfo}"))),
            "esc.yaml:8:28: policy 'p' v1 level 3: unknown person 'cfo'");
}

TEST(EscalationYamlTest, UnknownTeamInPolicy) {
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "[owner_manager]", "[{team: ops}]"))),
            "esc.yaml:4:26: policy 'p' v1 level 1: unknown team 'ops'");
}

TEST(EscalationYamlTest, NegativeTimeout) {
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "timeout: 36h", "timeout: -36h"))),
            "esc.yaml:7:18: timeout '-36h' must be positive");
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "timeout: 36h", "timeout: 36 days"))),
            "esc.yaml:7:18: timeout '36 days': expected a number and a unit m, h, d or w");
}

TEST(EscalationYamlTest, RepeatOutOfRange) {
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "  - id: p\n", "  - id: p\n    repeat: 12\n"))),
            "esc.yaml:3:13: repeat 12 is out of range 0..9");
}

TEST(EscalationYamlTest, UnreachableLevel) {
  EXPECT_EQ(Message(Build(kOrg, Replace(kPolicies, "timeout: 36h", "timeout: none"))),
            "esc.yaml:8:9: policy 'p' v1 level 3 is unreachable: level 2 has no timeout");
}

TEST(EscalationYamlTest, NegativeCapacity) {
  EXPECT_EQ(Message(Build(Replace(kOrg, "capacity: 2", "capacity: -2"), kPolicies)),
            "org.yaml:20:27: sponsor 'ceo': capacity -2 is below zero");
}

TEST(EscalationYamlTest, SponsorMustBeAPerson) {
  EXPECT_EQ(Message(Build(Replace(kOrg, "{id: ceo, capacity", "{id: cfo, capacity"), kPolicies)),
            "org.yaml:20:7: sponsor 'cfo' is not a person of the organisation");
}

TEST(EscalationYamlTest, ReportingCycle) {
  const std::string org =
      Replace(kOrg, "{id: vp, role: vp_cs, manager: ceo}", "{id: vp, role: vp_cs, manager: csm}");
  EXPECT_EQ(Message(Build(org, kPolicies)),
            "org.yaml:3:36: cycle in reporting lines: vp -> csm -> lead -> vp");
}

TEST(EscalationYamlTest, NoManagerBelowTop) {
  const std::string org =
      Replace(kOrg, "{id: vp, role: vp_cs, manager: ceo}", "{id: vp, role: vp_cs}");
  EXPECT_EQ(Message(Build(org, kPolicies)),
            "org.yaml:3:5: person 'vp' has no manager and role 'vp_cs' is not at the top");
}

TEST(EscalationYamlTest, DomainWithoutOwner) {
  const std::string org = Replace(kOrg, "  defect: cs\n", "");
  EXPECT_EQ(Message(Build(org, kPolicies)), "org.yaml:9:3: domain 'defect' has no owner");
}

TEST(EscalationYamlTest, TyposAndBadValuesAreLocated) {
  EXPECT_THAT(
      Message(Build(Replace(kOrg, "review_day: tuesday", "review_day: someday"), kPolicies)),
      HasSubstr("org.yaml:7:26: unknown weekday 'someday'"));
  EXPECT_THAT(Message(Build(kOrg, Replace(kPolicies, "timeout: 2d", "timout: 2d"))),
              HasSubstr("esc.yaml:5:9: unknown field 'timout'"));
  EXPECT_THAT(Message(Build(kOrg, Replace(kPolicies, "[owner_manager]", "[boss]"))),
              HasSubstr("esc.yaml:4:19: unknown target 'boss'"));
  EXPECT_THAT(Message(Build(Replace(kOrg, "  habit: cs", "  weather: cs"), kPolicies)),
              HasSubstr("org.yaml:9:3: unknown risk domain 'weather'"));
}

}  // namespace
}  // namespace cscore
