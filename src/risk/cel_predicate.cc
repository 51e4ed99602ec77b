#include "cscore/risk/cel_predicate.h"

#include <memory>

#include "absl/time/time.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

class CelPredicate final : public BatchPredicate {
 public:
  explicit CelPredicate(cel::Program program) : program_(std::move(program)) {}

  absl::Status Evaluate(const PredicateInput& input, std::span<uint8_t> out) const override {
    cel::EvalContext ctx;
    ctx.now = absl::FromCivil(input.as_of, absl::UTCTimeZone());
    ctx.history = input.history;
    absl::StatusOr<cel::ResultColumn> col = program_.EvaluateFrame(input.frame, input.history, ctx);
    if (!col.ok()) return col.status();
    if (col->kind != cel::Kind::kBool) {
      // kDyn results: rows that are bool true hold; the rest do not.
      for (size_t i = 0; i < out.size(); ++i) {
        const cel::Value v = col->ValueAt(i);
        out[i] = v.kind() == cel::Kind::kBool && v.bool_value();
      }
      return absl::OkStatus();
    }
    if (col->status.size() != out.size() || col->b.size() != out.size()) {
      return absl::InternalError("condition result does not cover the frame");
    }
    // Raw pointers and a branch-free body, so the copy into the mask vectorizes.
    const cel::RowStatus* status = col->status.data();
    const uint8_t* value = col->b.data();
    uint8_t* mask = out.data();
    for (size_t i = 0; i < out.size(); ++i) {
      mask[i] = static_cast<uint8_t>((status[i] == cel::RowStatus::kOk) & (value[i] != 0));
    }
    return absl::OkStatus();
  }

 private:
  cel::Program program_;
};

}  // namespace

PredicateCompiler CelPredicateCompiler(cel::Environment env) {
  auto shared = std::make_shared<const cel::Environment>(std::move(env));
  return [shared](
             std::string_view expression) -> absl::StatusOr<std::shared_ptr<const BatchPredicate>> {
    absl::StatusOr<cel::Program> program = cel::Compile(expression, *shared);
    if (!program.ok()) return program.status();
    const cel::Kind kind = program->result_kind();
    if (kind != cel::Kind::kBool && kind != cel::Kind::kDyn) {
      return absl::InvalidArgumentError(
          StrCat("1:1: condition has type ", cel::KindName(kind), ", expected bool"));
    }
    return std::make_shared<const CelPredicate>(*std::move(program));
  };
}

}  // namespace cscore
