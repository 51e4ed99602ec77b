// Batch predicates: compiled boolean conditions evaluated over every account of a frame.
//
// Risk signals and rule guards are conditions over the account frame and its metric
// history. Both modules only need "a mask per account", so they depend on this small seam
// rather than on one expression engine: CEL (cscore/expr) plugs in through a
// PredicateCompiler, and column thresholds are built in (ThresholdPredicate).
//
//   cscore::PredicateCompiler compile = MyCelCompiler(frame.schema());
//   absl::StatusOr<std::shared_ptr<const cscore::BatchPredicate>> p = compile("nps < 0");
//   (*p)->Evaluate({frame, &history, as_of}, mask);    // mask[row]: 1 true, 0 false/error
#ifndef CSCORE_RISK_PREDICATE_H_
#define CSCORE_RISK_PREDICATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"

namespace cscore {

// What a predicate reads. `history` may be null when no metric history is loaded.
struct PredicateInput {
  const AccountFrame& frame;
  const MetricHistory* history = nullptr;
  absl::CivilDay as_of;
};

class BatchPredicate {
 public:
  virtual ~BatchPredicate() = default;
  // Writes one byte per frame row: 1 when the condition holds. A row whose value cannot be
  // computed (missing data, type error) counts as false: a guard that cannot be decided must
  // not open work. `out.size()` is frame.num_rows().
  virtual absl::Status Evaluate(const PredicateInput& input, std::span<uint8_t> out) const = 0;
};

// Where an expression came from, so compile errors point at the config text.
struct SourceRef {
  std::string source;  // file name, or empty for definitions built in code
  int line = 0;        // 1-based line/column of the expression's first character
  int column = 0;
};

// Compiles one expression text. Errors should carry the expression's own line:column
// (1-based) in their message; callers prefix the config location.
using PredicateCompiler = std::function<absl::StatusOr<std::shared_ptr<const BatchPredicate>>(
    std::string_view expression)>;

enum class Comparison : uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };
absl::StatusOr<Comparison> ParseComparison(std::string_view op);  // "<", "<=", ">", ...
std::string_view ComparisonSymbol(Comparison op);

// A threshold on one number per account: a frame column (float64, int64, bool) or a window
// aggregate of a history metric (e.g. mean of logins over 30 days). Missing values never match.
struct ThresholdDef {
  std::string column;  // either a frame column ...
  std::string metric;  // ... or a history metric with `op` over `days`
  WindowOp op = WindowOp::kMean;
  int days = 30;
  Comparison compare = Comparison::kLess;
  double value = 0;
};

// Checks the column or metric against the schema / metric names it will read.
absl::StatusOr<std::shared_ptr<const BatchPredicate>> CompileThreshold(
    const ThresholdDef& def, std::span<const ColumnSpec> schema,
    std::span<const std::string> history_metrics);

// "file:line:column" of `where` shifted by the expression-relative `line:column` found at
// the start of `message` (if any), so a CEL error lands on the exact YAML character.
std::string LocateExpressionError(const SourceRef& where, std::string_view message);

}  // namespace cscore

#endif  // CSCORE_RISK_PREDICATE_H_
