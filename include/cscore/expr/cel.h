// CEL (Common Expression Language) for cscore: rule conditions, custom measures and
// lifecycle guards. Compile an expression once against an Environment (the declared
// variables and their types, usually the account frame's schema), then evaluate the
// immutable, thread-safe Program row by row (Evaluate) or over a whole frame (EvaluateFrame).
//
//   auto env = cscore::cel::Environment::ForFrame(frame, &history);
//   auto prog = cscore::cel::Compile("logins_30d < 10.0 && segment == 'SMB'", env);
//   auto col = prog->EvaluateFrame(frame, &history, {.now = as_of});
//
// Missing values: a NaN float64 cell, a missing categorical code and a cell whose valid flag
// is 0 all read as a CEL error value "missing value for '<column>' at account '<id>'"; so
// does a metric window with no data ("avg(logins, 30) is missing"). Errors follow CEL's
// rules: `false && err` is false, `true || err` is true, anything else that touches the
// error is an error, so a rule over a missing metric neither fires nor silently counts as
// false; the ResultColumn marks those rows (status kError) so callers can count them. A NaN
// computed by arithmetic (0.0 / 0.0) is a value, not an error.
//
// EvaluateFrame runs column-at-a-time: batches of rows, typed kernels, lookup tables over
// categorical dictionaries, precomputed metric windows, and selection vectors so that the
// right side of && / || and each branch of ?: only run where they matter. What has no
// vector form (macros, list and map literals over columns, has(), functions of several
// string columns) runs row by row inside the same call. Results are identical to
// EvaluateFrameRowwise, row for row, whatever the batch size and thread count.
#ifndef CSCORE_EXPR_CEL_H_
#define CSCORE_EXPR_CEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cscore/base/strings.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"

namespace cscore::cel {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kTimestamp,
  kDuration,
  kType,
  kError,
  kDyn,  // only in declarations: any value, checked at run time
};
std::string_view KindName(Kind kind);

class Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<Value, Value>>;  // insertion order, unique keys

struct Bytes {
  std::string data;
};
// A CEL type value, e.g. the result of type(1) == int.
struct TypeValue {
  std::string name;
};
struct ErrorValue {
  std::string message;
};

// A CEL value. Lists and maps share their (immutable) storage, so copies are cheap.
class Value {
 public:
  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool v) { return Value(v); }
  static Value Int(int64_t v) { return Value(v); }
  static Value Uint(uint64_t v) { return Value(v); }
  static Value Double(double v) { return Value(v); }
  static Value String(std::string v) { return Value(std::move(v)); }
  static Value BytesOf(std::string v) { return Value(cel::Bytes{std::move(v)}); }
  static Value List(ValueList v) { return Value(std::make_shared<const ValueList>(std::move(v))); }
  static Value Map(ValueMap v) { return Value(std::make_shared<const ValueMap>(std::move(v))); }
  static Value Timestamp(absl::Time t) { return Value(t); }
  static Value Duration(absl::Duration d) { return Value(d); }
  static Value Type(std::string name) { return Value(TypeValue{std::move(name)}); }
  static Value Error(std::string message) { return Value(ErrorValue{std::move(message)}); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_error() const { return kind() == Kind::kError; }
  bool is_null() const { return kind() == Kind::kNull; }

  bool bool_value() const { return std::get<bool>(v_); }
  int64_t int_value() const { return std::get<int64_t>(v_); }
  uint64_t uint_value() const { return std::get<uint64_t>(v_); }
  double double_value() const { return std::get<double>(v_); }
  const std::string& string_value() const { return std::get<std::string>(v_); }
  const std::string& bytes_value() const { return std::get<cel::Bytes>(v_).data; }
  const ValueList& list_value() const { return *std::get<std::shared_ptr<const ValueList>>(v_); }
  const ValueMap& map_value() const { return *std::get<std::shared_ptr<const ValueMap>>(v_); }
  absl::Time timestamp_value() const { return std::get<absl::Time>(v_); }
  absl::Duration duration_value() const { return std::get<absl::Duration>(v_); }
  const std::string& type_value() const { return std::get<TypeValue>(v_).name; }
  const std::string& error_message() const { return std::get<ErrorValue>(v_).message; }

  // Looks a key up in a map value (CEL's numeric key equality: 1 == 1u == 1.0).
  const Value* Find(const Value& key) const;
  // Readable form used in messages and the conformance report, e.g. [1, "a"] or {"k": 2u}.
  std::string DebugString() const;

 private:
  using Storage =
      std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, cel::Bytes,
                   std::shared_ptr<const ValueList>, std::shared_ptr<const ValueMap>, absl::Time,
                   absl::Duration, TypeValue, ErrorValue>;
  template <typename T>
  explicit Value(T v) : v_(std::move(v)) {}
  Storage v_;
};

// CEL equality (heterogeneous numbers compare by value; lists and maps element-wise).
bool Equal(const Value& a, const Value& b);

// Declared variables and functions an expression is checked against.
class Environment {
 public:
  Environment() = default;
  // Each frame column becomes a variable: float64 -> double, int64 -> int, bool -> bool,
  // categorical -> string, timestamp -> timestamp. With a history, its metric names may be
  // used as the first argument of avg/sum/trend/pct_change.
  static Environment ForFrame(const AccountFrame& frame, const MetricHistory* history = nullptr);

  Environment& Declare(std::string name, Kind kind);
  Environment& DeclareMetric(std::string name);
  // Unchecked mode: identifiers resolve at evaluation time (cel-spec's disable_check).
  Environment& DisableCheck(bool disable = true) {
    disable_check_ = disable;
    return *this;
  }

  const StringMap<Kind>& variables() const { return variables_; }
  const StringSet& metrics() const { return metrics_; }
  bool check_disabled() const { return disable_check_; }

 private:
  StringMap<Kind> variables_;
  StringSet metrics_;
  bool disable_check_ = false;
};

// Variable values for row-wise evaluation.
using Activation = StringMap<Value>;

// What evaluation needs from the caller: the current time (for `now`, days_since and
// days_until) and, for the metric functions, the history and the account's row in it.
struct EvalContext {
  absl::Time now = absl::UnixEpoch();
  const MetricHistory* history = nullptr;
  size_t account = 0;
};

struct FrameOptions {
  int threads = 1;           // rows are split into contiguous ranges, one per thread
  size_t batch_size = 4096;  // rows per vectorized batch (clamped to 64..65536)
};

enum class RowStatus : uint8_t { kOk = 0, kError = 1, kNull = 2 };

// One result per frame row. The value lives in the vector matching `kind`
// (kBool -> b, kInt/kTimestamp (unix seconds) -> i64, kDouble -> f64, other kinds -> values).
struct ResultColumn {
  Kind kind = Kind::kDyn;
  std::vector<RowStatus> status;
  std::vector<uint8_t> b;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<Value> values;
  size_t num_errors = 0;
  std::string first_error;  // "account '<id>': <message>" of the first erring row

  size_t size() const { return status.size(); }
  bool ok(size_t row) const { return status[row] == RowStatus::kOk; }
  // True only for kBool rows that evaluated to true.
  bool IsTrue(size_t row) const { return ok(row) && b[row] != 0; }
  Value ValueAt(size_t row) const;
};

// Bounds on what Compile accepts; beyond them it returns an error (never a stack overflow).
// Long && / || chains are balanced and hardly count against max_depth. Evaluation is bounded
// too: each outermost macro may take 1,000,000 steps (iterations, nested ones included).
struct CompileOptions {
  size_t max_source_bytes = 1 << 20;
  int max_depth = 250;  // nesting levels; at most 400 whatever is asked
  size_t max_nodes = 100000;
};

class Program {
 public:
  // Static result type from the checker (kDyn when unknown until run time).
  Kind result_kind() const;
  const std::string& source() const;
  // True when EvaluateFrame runs column-at-a-time (false: row-at-a-time fallback).
  bool vectorized() const;
  // The history metrics read through avg/sum/trend/pct_change, in order of first use, each
  // with the longest window asked for (0 when no window of it is a constant), so a caller
  // knows how much history to load.
  std::vector<std::pair<std::string, int64_t>> metric_windows() const;

  Value Evaluate(const Activation& activation, const EvalContext& ctx = {}) const;
  // Evaluates every row of `frame`; history rows must match frame rows.
  absl::StatusOr<ResultColumn> EvaluateFrame(const AccountFrame& frame,
                                             const MetricHistory* history, const EvalContext& ctx,
                                             const FrameOptions& options = {}) const;
  // The row-at-a-time path over a frame (same results; used as a baseline and a fallback).
  absl::StatusOr<ResultColumn> EvaluateFrameRowwise(const AccountFrame& frame,
                                                    const MetricHistory* history,
                                                    const EvalContext& ctx,
                                                    const FrameOptions& options = {}) const;

  struct Impl;

 private:
  friend absl::StatusOr<Program> Compile(std::string_view, const Environment&,
                                         const CompileOptions&);
  std::shared_ptr<const Impl> impl_;
};

// Parses and checks `source`. Errors read "line:column: message" followed by the source
// line and a caret under the spot.
absl::StatusOr<Program> Compile(std::string_view source, const Environment& env,
                                const CompileOptions& options = {});

}  // namespace cscore::cel

#endif  // CSCORE_EXPR_CEL_H_
