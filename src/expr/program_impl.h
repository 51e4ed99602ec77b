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

ResultColumn MakeResult(Kind kind, size_t rows);
// Stores one row's value; a value that does not fit the column's kind becomes an error row.
void Store(ResultColumn& r, size_t row, const Value& v);

// Null when the whole expression needs the row evaluator (its root cannot vectorize).
// `vars` are the program's free variables (Node::var order).
std::unique_ptr<const VectorPlan, VectorPlanDeleter> PlanVector(
    const Node& root, const Environment& env, const std::vector<std::string>& vars);

// Everything one EvaluateFrame call needs besides the rows: the columns, the lookup tables
// over categorical dictionaries, the metric windows. Read-only while threads run.
struct BoundVector;
struct BoundVectorDeleter {
  void operator()(const BoundVector* b) const;
};
using BoundVectorPtr = std::unique_ptr<const BoundVector, BoundVectorDeleter>;
// Null when this frame does not fit the plan (a column of another type than declared, a
// lookup result of an unexpected kind): the caller then evaluates row by row.
BoundVectorPtr BindVector(const VectorPlan& plan, const Program::Impl& program,
                          const AccountFrame& frame, const std::vector<const Column*>& cols,
                          const EvalContext& ctx);
// Evaluates rows [begin, end) in batches into `out`; rows that err in a kDyn result get the
// row evaluator's error value, so both paths store the same values.
void RunVector(const BoundVector& bound, size_t begin, size_t end, size_t batch, ResultColumn& out);

// Test hook: when true, && || and ?: always evaluate their right side / branches on a
// selection vector, so the selection code is exercised by cheap expressions too.
void SetForceSelection(bool force);

}  // namespace internal
}  // namespace cscore::cel

#endif  // CSCORE_SRC_EXPR_PROGRAM_IMPL_H_
