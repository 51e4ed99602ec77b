// Internals shared by the row and vector evaluators.
#ifndef CSCORE_SRC_EXPR_PROGRAM_IMPL_H_
#define CSCORE_SRC_EXPR_PROGRAM_IMPL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "expr/ast.h"

namespace cscore::cel {

namespace internal {
struct VectorPlan;
void DeleteVectorPlan(const VectorPlan* p);
struct VectorPlanDeleter {
  void operator()(const VectorPlan* p) const { DeleteVectorPlan(p); }
};
}  // namespace internal

struct Program::Impl {
  std::string source;
  internal::NodePtr root;
  std::vector<std::string> vars;  // free variables, by Node::var
  Kind result_kind = Kind::kDyn;
  bool checked = true;  // false: unknown names are run-time errors, also over frames
  // Column-at-a-time plan; null when the expression needs the row evaluator.
  std::unique_ptr<const internal::VectorPlan, internal::VectorPlanDeleter> vector;
};

namespace internal {

class FrameVars : public Variables {
 public:
  FrameVars(std::vector<const Column*> cols, std::span<const std::string> ids);
  void set_row(size_t row) { row_ = row; }
  Value Get(const Node& n) const override;

 private:
  std::vector<const Column*> cols_;
  std::span<const std::string> ids_;
  size_t row_ = 0;
};

Value CellValue(const Column& c, size_t row, std::span<const std::string> ids);

// Null when the expression has a part the vector evaluator does not cover.
std::unique_ptr<const VectorPlan, VectorPlanDeleter> PlanVector(const Node& root,
                                                                const Environment& env);
// Evaluates rows [begin, end) in batches into `out` (typed vectors and status).
void RunVector(const VectorPlan& plan, const std::vector<const Column*>& cols,
               const EvalContext& ctx, size_t begin, size_t end, size_t batch, ResultColumn& out);

}  // namespace internal
}  // namespace cscore::cel

#endif  // CSCORE_SRC_EXPR_PROGRAM_IMPL_H_
