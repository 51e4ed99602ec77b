// An in-memory CtaLookup for tests.
#ifndef CSCORE_TESTS_RULES_MEMORY_CTAS_H_
#define CSCORE_TESTS_RULES_MEMORY_CTAS_H_

#include <string>
#include <vector>

#include "cscore/rules/rules.h"

namespace cscore::testing {

class MemoryCtas final : public CtaLookup {
 public:
  struct Row {
    std::string account, type, reason;
    RiskDomain domain = RiskDomain::kNone;
    bool snoozed = false;
  };
  int32_t Add(Row row) {
    rows_.push_back(std::move(row));
    return static_cast<int32_t>(rows_.size() - 1);
  }
  std::optional<OpenCtaInfo> FindOpen(std::string_view account, std::string_view type,
                                      std::string_view reason) const override {
    for (size_t i = 0; i < rows_.size(); ++i) {
      const Row& r = rows_[i];
      if (r.account == account && r.type == type && r.reason == reason) return Info(i);
    }
    return std::nullopt;
  }
  void OpenOfAccount(std::string_view account, std::vector<OpenCtaInfo>& out) const override {
    // Newest first, like the store: the engine must not rely on the order.
    for (size_t i = rows_.size(); i-- > 0;) {
      if (rows_[i].account == account) out.push_back(Info(i));
    }
  }

 private:
  OpenCtaInfo Info(size_t i) const {
    const Row& r = rows_[i];
    return {static_cast<int32_t>(i), r.type, r.reason, r.domain, r.snoozed};
  }
  std::vector<Row> rows_;
};

}  // namespace cscore::testing

#endif  // CSCORE_TESTS_RULES_MEMORY_CTAS_H_
