// The CTA lifecycle's authorization guard backed by the organisation: `actor` may act on a
// CTA of `owner` when the reporting lines put the actor above the owner (constant time, see
// Organisation::IsAbove). Admins keep the escape hatch RoleAuthority gives them. The
// organisation must outlive the adapter.
//
//   cscore::CtaStoreOptions options;
//   options.authority = std::make_shared<cscore::OrganisationAuthority>(escalator.organisation());
//   auto store = cscore::CtaStore::Create(std::move(options));  // escalation_chain = reporting
//   lines
#ifndef CSCORE_ESCALATION_AUTHORITY_H_
#define CSCORE_ESCALATION_AUTHORITY_H_

#include <string_view>

#include "cscore/cta/store.h"
#include "cscore/escalation/organisation.h"

namespace cscore {

class OrganisationAuthority final : public Authority {
 public:
  explicit OrganisationAuthority(const Organisation& org) : org_(&org) {}
  bool IsAbove(const Actor& actor, std::string_view owner) const override {
    return actor.role == Role::kAdmin || org_->IsAbove(actor.id, owner);
  }

 private:
  const Organisation* org_;
};

}  // namespace cscore

#endif  // CSCORE_ESCALATION_AUTHORITY_H_
