// Internal AST of a parsed CEL expression. Operators are calls with cel-spec names
// ("_+_", "_[_]", "@in"...); macros are comprehension nodes.
#ifndef CSCORE_SRC_EXPR_AST_H_
#define CSCORE_SRC_EXPR_AST_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cscore/expr/cel.h"

namespace re2 {
class RE2;
}

namespace cscore::cel::internal {

enum class NodeKind : uint8_t { kConst, kIdent, kSelect, kCall, kList, kMap, kComprehension };
enum class Macro : uint8_t { kNone, kAll, kExists, kExistsOne, kMap, kFilter };

struct Node {
  NodeKind kind = NodeKind::kConst;
  int pos = 0;  // byte offset in the source
  Value constant;
  std::string name;        // identifier, selected field, function or iteration variable
  bool test_only = false;  // has(a.b)
  bool receiver = false;   // a.f(x): args[0] is the receiver
  Macro macro = Macro::kNone;
  // Call/list arguments; map: key, value, key, value...; select: operand;
  // comprehension: range, step (predicate or transform), optional filter.
  std::vector<std::unique_ptr<Node>> args;
  Kind type = Kind::kDyn;  // set by the checker
  int depth = 1;
  int fn = 0;                             // resolved function (eval.cc's Fn), 0 when unknown
  int var = -1;                           // index into the program's variable names for identifiers
  std::shared_ptr<const re2::RE2> regex;  // matches() with a constant pattern
};
using NodePtr = std::unique_ptr<Node>;

struct ParseLimits {
  size_t max_source_bytes;
  int max_depth;
  size_t max_nodes;
};

absl::StatusOr<NodePtr> Parse(std::string_view source, const ParseLimits& limits);
// "line:column: message" plus the line and a caret.
std::string FormatError(std::string_view source, int pos, std::string_view message);
// Resolves identifiers and functions, infers static kinds, and (unless the environment
// disables checking) reports unknown names and type mismatches. Fills `vars` with the
// distinct free variable names, indexed by Node::var.
absl::Status Check(std::string_view source, const Environment& env, Node& root,
                   std::vector<std::string>& vars);
int FindInvalidUtf8(std::string_view s);
// Function ids; kUnknown resolves at run time to an "unbound function" error.
int FunctionId(std::string_view name);

enum Fn : int {
  kUnknownFn = 0,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kNot,
  kAnd,
  kOr,
  kCond,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIndex,
  kIn,
  kSize,
  kContains,
  kStartsWith,
  kEndsWith,
  kMatches,
  kToInt,
  kToUint,
  kToDouble,
  kToString,
  kToBytes,
  kToBool,
  kToTimestamp,
  kToDuration,
  kType,
  kDyn,
  kGetFullYear,
  kGetMonth,
  kGetDayOfYear,
  kGetDayOfMonth,
  kGetDate,
  kGetDayOfWeek,
  kGetHours,
  kGetMinutes,
  kGetSeconds,
  kGetMilliseconds,
  kAvg,
  kSum,
  kTrend,
  kPctChange,
  kDaysSince,
  kDaysUntil,
};

// Free variables of one evaluation, by Node::var.
class Variables {
 public:
  virtual ~Variables() = default;
  virtual Value Get(const Node& ident) const = 0;
};

// Work units one outermost macro may spend (iterations, literal elements, concatenated list
// elements and 16-byte string chunks, nested macros included); beyond it the macro's result
// is an error.
inline constexpr uint64_t kEvalBudget = 1'000'000;

Value Evaluate(const Node& root, const Variables& vars, const EvalContext& ctx);
// A strict function call (not &&, ||, ?:, macros or the metric functions) on evaluated,
// non-error arguments; `args` has room for 3 values.
Value ApplyStrict(const Node& n, const Value* args, size_t argc, const EvalContext& ctx);
// Whole days from `from` to `to`, rounded down; false when out of range.
bool DaysBetween(absl::Time from, absl::Time to, int64_t& days);
// Shared by the row and vector evaluators so both agree bit for bit.
bool NumericCompare(const Value& a, const Value& b, int& result);

}  // namespace cscore::cel::internal

#endif  // CSCORE_SRC_EXPR_AST_H_
