// CEL conditions as batch predicates: the PredicateCompiler that risk signals and rule
// guards use in production.
//
// Each condition is compiled once against a CEL environment (normally the frame's schema
// plus its history metrics) and evaluated column-at-a-time over the whole frame. `now` is
// the start of as_of (UTC). Rows where the condition errs (a missing value) or is not a bool
// count as not holding.
//
//   cscore::PredicateCompiler compile =
//       cscore::CelPredicateCompiler(cscore::cel::Environment::ForFrame(frame, &history));
//   auto rules = cscore::RuleSet::Compile(defs, compile, context);
#ifndef CSCORE_RISK_CEL_PREDICATE_H_
#define CSCORE_RISK_CEL_PREDICATE_H_

#include "cscore/expr/cel.h"
#include "cscore/risk/predicate.h"

namespace cscore {

// Compile errors are CEL's "line:column: message" (a condition whose type is known not to be
// bool is rejected at compile time).
PredicateCompiler CelPredicateCompiler(cel::Environment env);

}  // namespace cscore

#endif  // CSCORE_RISK_CEL_PREDICATE_H_
