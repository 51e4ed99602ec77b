// Column-at-a-time evaluation (placeholder plan: the row evaluator handles everything).
#include "expr/program_impl.h"

namespace cscore::cel::internal {

struct VectorPlan {};
void DeleteVectorPlan(const VectorPlan* p) { delete p; }

std::unique_ptr<const VectorPlan, VectorPlanDeleter> PlanVector(const Node&, const Environment&) {
  return nullptr;
}

void RunVector(const VectorPlan&, const std::vector<const Column*>&, const EvalContext&, size_t,
               size_t, size_t, ResultColumn&) {}

}  // namespace cscore::cel::internal
