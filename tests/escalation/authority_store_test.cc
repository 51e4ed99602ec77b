// The CTA lifecycle's authorization backed by the organisation: the owner, anyone up the
// owner's reporting chain and admins may act; a forbidden transition changes nothing.
#include "cscore/escalation/authority.h"
#include "fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using testing_fixtures::SmallOrg;

absl::Time Day(int d) { return absl::FromUnixSeconds(1'700'000'000) + absl::Hours(24 * d); }

struct Columns {
  std::vector<uint8_t> status, flags;
  std::vector<int32_t> owner;
  size_t log = 0;
  explicit Columns(const CtaStore& s)
      : status(s.status_column().begin(), s.status_column().end()),
        flags(s.flags_column().begin(), s.flags_column().end()),
        owner(s.owner_column().begin(), s.owner_column().end()),
        log(s.audit().size()) {}
  bool operator==(const Columns&) const = default;
};

TEST(OrganisationAuthorityStore, EscalationChainReplacesTheRoleList) {
  absl::StatusOr<Organisation> org = Organisation::Build(SmallOrg());
  ASSERT_TRUE(org.ok()) << org.status();
  CtaStoreOptions options;
  options.authority = std::make_shared<OrganisationAuthority>(*org);
  absl::StatusOr<std::unique_ptr<CtaStore>> created = CtaStore::Create(std::move(options));
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  const Actor rules{.id = "usage_drop", .role = Role::kSystem};
  const CtaId id = *store.Open(
      {.account = "acme", .reason = "usage", .domain = RiskDomain::kHabit, .owner = "csm1"}, rules,
      Day(0));

  // lead2 is a team lead, but of another line: the role list would have let them in.
  const Columns before(store);
  absl::Status st = store.Fire(id, "start", {.id = "lead2", .role = Role::kTeamLead}, Day(1));
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "actor 'lead2' (team_lead) may not fire 'start' on CTA 0 (account 'acme', owner "
            "'csm1')");
  EXPECT_EQ(store.Fire(id, "flag", {.id = "csm2", .role = Role::kCsm}, Day(1)).code(),
            absl::StatusCode::kPermissionDenied);  // a peer
  EXPECT_EQ(store.Fire(id, "flag", {.id = "vp-sup", .role = Role::kVp}, Day(1)).code(),
            absl::StatusCode::kPermissionDenied);  // a VP of another line
  EXPECT_EQ(
      store.Update(id, {.priority = 0}, {.id = "lead2", .role = Role::kTeamLead}, Day(1)).code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Columns(store) == before);

  // The owner, the owner's lead, the VP and the CEO above them, and admins may.
  EXPECT_TRUE(store.Fire(id, "flag", {.id = "csm1", .role = Role::kCsm}, Day(1)).ok());
  EXPECT_TRUE(store.Fire(id, "unflag", {.id = "lead1", .role = Role::kTeamLead}, Day(1)).ok());
  EXPECT_TRUE(store.Fire(id, "flag", {.id = "vp-cs", .role = Role::kVp}, Day(2)).ok());
  EXPECT_TRUE(store.Fire(id, "start", {.id = "ceo", .role = Role::kCeo}, Day(2)).ok());
  EXPECT_TRUE(store.Close(id, "closed_success", {.id = "root", .role = Role::kAdmin}, Day(3)).ok());
  EXPECT_EQ(store.status_name(id), "closed_success");
}

}  // namespace
}  // namespace cscore
