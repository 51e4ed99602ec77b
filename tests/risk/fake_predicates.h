// A stand-in expression compiler for tests: "<bool column>" holds where the column is true,
// anything else fails with a located error like an expression engine would report.
#ifndef CSCORE_TESTS_RISK_FAKE_PREDICATES_H_
#define CSCORE_TESTS_RISK_FAKE_PREDICATES_H_

#include <memory>
#include <string>

#include "cscore/base/strings.h"
#include "cscore/risk/predicate.h"

namespace cscore::testing {

class BoolColumnPredicate final : public BatchPredicate {
 public:
  explicit BoolColumnPredicate(std::string column) : column_(std::move(column)) {}
  absl::Status Evaluate(const PredicateInput& input, std::span<uint8_t> out) const override {
    absl::StatusOr<const Column*> c = input.frame.Get(column_);
    if (!c.ok()) return c.status();
    for (size_t i = 0; i < out.size(); ++i) out[i] = (*c)->b[i];
    return absl::OkStatus();
  }

 private:
  std::string column_;
};

inline PredicateCompiler BoolColumnCompiler() {
  return [](std::string_view expr) -> absl::StatusOr<std::shared_ptr<const BatchPredicate>> {
    for (size_t i = 0; i < expr.size(); ++i) {
      const char c = expr[i];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        return absl::InvalidArgumentError(
            StrCat("1:", i + 1, ": unexpected character '", std::string(1, c), "'"));
      }
    }
    return std::make_shared<const BoolColumnPredicate>(std::string(expr));
  };
}

}  // namespace cscore::testing

#endif  // CSCORE_TESTS_RISK_FAKE_PREDICATES_H_
