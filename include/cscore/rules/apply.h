// Applying rule intents to the CTA store, and reading the store as the rules' CtaLookup.
//
// Evaluation is pure; this is the one step that changes state. Each intent is applied on
// its own (the store keeps each change atomic), so a rejected intent (e.g. a closed status
// the CTA's lifecycle does not have) is reported with its reason and the rest proceed.
//
//   cscore::CtaStoreLookup lookup(store);
//   auto run = rules.Evaluate({frame, &history, as_of}, lookup, state);
//   cscore::ApplyReport report = cscore::ApplyIntents(rules, *run, as_of, store, state);
#ifndef CSCORE_RULES_APPLY_H_
#define CSCORE_RULES_APPLY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "cscore/cta/store.h"
#include "cscore/rules/rules.h"

namespace cscore {

// The open CTAs of a CtaStore, for RuleSet::Evaluate. Holds a reference: keep the store
// alive and unchanged while evaluating.
class CtaStoreLookup final : public CtaLookup {
 public:
  explicit CtaStoreLookup(const CtaStore& store) : store_(store) {}
  std::optional<OpenCtaInfo> FindOpen(std::string_view account, std::string_view type,
                                      std::string_view reason) const override;
  void OpenOfAccount(std::string_view account, std::vector<OpenCtaInfo>& out) const override;
  void FindOpenBatch(std::span<const std::string_view> accounts, std::string_view type,
                     std::string_view reason,
                     std::span<std::optional<OpenCtaInfo>> out) const override;

 private:
  OpenCtaInfo Info(CtaId id) const;
  const CtaStore& store_;
};

struct ApplyReport {
  int64_t opened = 0;
  int64_t updated = 0;
  int64_t closed = 0;
  int64_t unchanged = 0;  // update intents whose priority and due date were already set
  // Measure overrides and tags are not CTA changes: they are left to the caller (the health
  // overrides and the account tags), as indexes into run.intents. The daily run keeps them
  // in its store (cscore/engine/engine.h).
  std::vector<size_t> passed_on;
  std::vector<std::pair<size_t, absl::Status>> rejected;  // (intent index, why)
};

// Opens, updates and closes through the store at the start of `as_of` (UTC), each as the
// system actor named after its rule (so a CTA's source is the rule that opened it), then
// records the run in `state` (fired rules and closed keys). A CTA opened for an owner role
// is owned by Intent::owner when set, else by the role name. An update that would change
// nothing is not written (counted as unchanged), so the log only grows with real changes.
ApplyReport ApplyIntents(const RuleSet& rules, const RuleRun& run, absl::CivilDay as_of,
                         CtaStore& store, RuleState& state);

}  // namespace cscore

#endif  // CSCORE_RULES_APPLY_H_
