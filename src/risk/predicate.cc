#include "cscore/risk/predicate.h"

#include <charconv>
#include <cmath>

#include "cscore/base/strings.h"

namespace cscore {
namespace {

template <typename Cmp>
void CompareDoubles(std::span<const double> v, double x, Cmp cmp, std::span<uint8_t> out) {
  // NaN compares false under every operator but !=, which is handled by the caller.
  for (size_t i = 0; i < v.size(); ++i) out[i] = cmp(v[i], x) ? 1 : 0;
}

void ApplyComparison(Comparison op, std::span<const double> v, double x, std::span<uint8_t> out) {
  switch (op) {
    case Comparison::kLess:
      return CompareDoubles(
          v, x, [](double a, double b) { return a < b; }, out);
    case Comparison::kLessEqual:
      return CompareDoubles(
          v, x, [](double a, double b) { return a <= b; }, out);
    case Comparison::kGreater:
      return CompareDoubles(
          v, x, [](double a, double b) { return a > b; }, out);
    case Comparison::kGreaterEqual:
      return CompareDoubles(
          v, x, [](double a, double b) { return a >= b; }, out);
    case Comparison::kEqual:
      return CompareDoubles(
          v, x, [](double a, double b) { return a == b; }, out);
    case Comparison::kNotEqual:
      return CompareDoubles(
          v, x, [](double a, double b) { return a == a && a != b; }, out);
  }
}

class ThresholdPredicate final : public BatchPredicate {
 public:
  explicit ThresholdPredicate(ThresholdDef def) : def_(std::move(def)) {}

  absl::Status Evaluate(const PredicateInput& input, std::span<uint8_t> out) const override {
    const size_t n = input.frame.num_rows();
    if (out.size() != n) return absl::InvalidArgumentError("threshold: output size != frame rows");
    std::vector<double> values;
    if (!def_.metric.empty()) {
      values.resize(n);
      if (input.history == nullptr) {
        return absl::FailedPreconditionError(
            StrCat("threshold on metric '", def_.metric, "' needs a metric history"));
      }
      if (input.history->num_accounts() != n) {
        return absl::InvalidArgumentError(StrCat("metric history has ",
                                                 input.history->num_accounts(),
                                                 " accounts but the frame has ", n));
      }
      if (auto s =
              input.history->Window(def_.metric, def_.op, def_.days, std::span<double>(values));
          !s.ok()) {
        return s;
      }
    } else {
      absl::StatusOr<const Column*> col = input.frame.Get(def_.column);
      if (!col.ok()) return col.status();
      const Column& c = **col;
      switch (c.type) {
        case ColumnType::kFloat64:
          ApplyComparison(def_.compare, c.f64, def_.value, out);
          return absl::OkStatus();
        case ColumnType::kInt64:
          values.resize(n);
          for (size_t i = 0; i < n; ++i) values[i] = static_cast<double>(c.i64[i]);
          break;
        case ColumnType::kBool:
          values.resize(n);
          for (size_t i = 0; i < n; ++i) values[i] = c.b[i];
          break;
        default:
          return absl::InvalidArgumentError(
              StrCat("threshold column '", def_.column, "' is not numeric"));
      }
      if (!c.valid.empty()) {
        for (size_t i = 0; i < n; ++i) {
          if (!c.valid[i]) values[i] = std::nan("");
        }
      }
    }
    ApplyComparison(def_.compare, values, def_.value, out);
    return absl::OkStatus();
  }

 private:
  ThresholdDef def_;
};

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

absl::StatusOr<Comparison> ParseComparison(std::string_view op) {
  if (op == "<") return Comparison::kLess;
  if (op == "<=") return Comparison::kLessEqual;
  if (op == ">") return Comparison::kGreater;
  if (op == ">=") return Comparison::kGreaterEqual;
  if (op == "==") return Comparison::kEqual;
  if (op == "!=") return Comparison::kNotEqual;
  return absl::InvalidArgumentError(
      StrCat("unknown comparison '", op, "' (expected <, <=, >, >=, == or !=)"));
}

std::string_view ComparisonSymbol(Comparison op) {
  static constexpr std::string_view kSymbols[] = {"<", "<=", ">", ">=", "==", "!="};
  return kSymbols[static_cast<int>(op)];
}

absl::StatusOr<std::shared_ptr<const BatchPredicate>> CompileThreshold(
    const ThresholdDef& def, std::span<const ColumnSpec> schema,
    std::span<const std::string> history_metrics) {
  if (def.column.empty() == def.metric.empty()) {
    return absl::InvalidArgumentError("a threshold reads exactly one of 'column' or 'metric'");
  }
  if (!std::isfinite(def.value)) return absl::InvalidArgumentError("threshold value is not finite");
  if (!def.metric.empty()) {
    bool known = false;
    for (const std::string& m : history_metrics) known = known || m == def.metric;
    if (!known) return absl::NotFoundError(StrCat("unknown metric '", def.metric, "'"));
    const int min_days = def.op == WindowOp::kTrend ? 2 : 1;
    if (def.days < min_days) {
      return absl::InvalidArgumentError(StrCat("window of ", def.days, " days for '",
                                               WindowOpName(def.op), "' (minimum ", min_days, ")"));
    }
  } else {
    const ColumnSpec* spec = nullptr;
    for (const ColumnSpec& c : schema) {
      if (c.name == def.column) spec = &c;
    }
    if (spec == nullptr) return absl::NotFoundError(StrCat("unknown column '", def.column, "'"));
    if (spec->type != ColumnType::kFloat64 && spec->type != ColumnType::kInt64 &&
        spec->type != ColumnType::kBool) {
      return absl::InvalidArgumentError(
          StrCat("column '", def.column, "' is ", ColumnTypeName(spec->type), ", not numeric"));
    }
  }
  return std::make_shared<const ThresholdPredicate>(def);
}

std::string LocateExpressionError(const SourceRef& where, std::string_view message) {
  if (where.source.empty() && where.line == 0) return std::string(message);
  int line = 1, column = 1;
  std::string_view rest = message;
  // Expression errors start with "line:column: "; anything else is reported at the start.
  const size_t c1 = rest.find(':');
  if (c1 != std::string_view::npos) {
    const size_t c2 = rest.find(':', c1 + 1);
    int l = 0, c = 0;
    if (c2 != std::string_view::npos && ParseInt(rest.substr(0, c1), l) &&
        ParseInt(rest.substr(c1 + 1, c2 - c1 - 1), c)) {
      line = l;
      column = c;
      rest = rest.substr(c2 + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    }
  }
  const int abs_line = where.line + line - 1;
  const int abs_col = line == 1 ? where.column + column - 1 : column;
  return StrCat(where.source, ":", abs_line, ":", abs_col, ": ", rest);
}

}  // namespace cscore
