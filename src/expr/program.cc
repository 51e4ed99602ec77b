// Compile, the Environment, and row-at-a-time evaluation (activations and frames).
#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_format.h"
#include "expr/ast.h"
#include "expr/program_impl.h"

namespace cscore::cel {

using internal::Node;

Environment Environment::ForFrame(const AccountFrame& frame, const MetricHistory* history) {
  Environment env;
  for (const Column& c : frame.columns()) {
    Kind k = Kind::kDouble;
    switch (c.type) {
      case ColumnType::kFloat64:
        k = Kind::kDouble;
        break;
      case ColumnType::kInt64:
        k = Kind::kInt;
        break;
      case ColumnType::kBool:
        k = Kind::kBool;
        break;
      case ColumnType::kCategorical:
        k = Kind::kString;
        break;
      case ColumnType::kTimestamp:
        k = Kind::kTimestamp;
        break;
    }
    env.Declare(c.name, k);
  }
  if (history != nullptr) {
    for (std::string& m : history->metric_names()) env.DeclareMetric(std::move(m));
  }
  return env;
}

Environment& Environment::Declare(std::string name, Kind kind) {
  variables_[std::move(name)] = kind;
  return *this;
}

Environment& Environment::DeclareMetric(std::string name) {
  metrics_.insert(std::move(name));
  return *this;
}

Value ResultColumn::ValueAt(size_t row) const {
  if (status[row] == RowStatus::kNull) return Value::Null();
  if (!values.empty()) return values[row];
  if (status[row] == RowStatus::kError) return Value::Error(first_error);
  switch (kind) {
    case Kind::kBool:
      return Value::Bool(b[row] != 0);
    case Kind::kInt:
      return Value::Int(i64[row]);
    case Kind::kDouble:
      return Value::Double(f64[row]);
    case Kind::kTimestamp:
      return Value::Timestamp(absl::FromUnixSeconds(i64[row]));
    default:
      return Value::Null();
  }
}

namespace internal {

namespace {

class ActivationVars : public Variables {
 public:
  explicit ActivationVars(const Activation& a) : a_(a) {}
  Value Get(const Node& n) const override {
    auto it = a_.find(n.name);
    if (it == a_.end()) return Value::Error("no value bound for variable '" + n.name + "'");
    return it->second;
  }

 private:
  const Activation& a_;
};

}  // namespace

Value CellValue(const Column& c, size_t row, std::span<const std::string> ids) {
  bool missing = c.IsMissing(row) || (c.type == ColumnType::kFloat64 && std::isnan(c.f64[row]));
  if (missing) {
    return Value::Error(
        absl::StrFormat("missing value for '%s' at account '%s'", c.name, ids[row]));
  }
  switch (c.type) {
    case ColumnType::kFloat64:
      return Value::Double(c.f64[row]);
    case ColumnType::kInt64:
      return Value::Int(c.i64[row]);
    case ColumnType::kBool:
      return Value::Bool(c.b[row] != 0);
    case ColumnType::kCategorical:
      return Value::String(std::string(c.CategoryAt(row)));
    case ColumnType::kTimestamp:
      return Value::Timestamp(absl::FromUnixSeconds(c.i64[row]));
  }
  return Value::Null();
}

FrameVars::FrameVars(std::vector<const Column*> cols, std::span<const std::string> ids)
    : cols_(std::move(cols)), ids_(ids) {}

Value FrameVars::Get(const Node& n) const {
  const Column* c = cols_[n.var];
  if (c == nullptr) return Value::Error("variable '" + n.name + "' is not a frame column");
  return CellValue(*c, row_, ids_);
}

absl::StatusOr<std::vector<const Column*>> BindColumns(const Program::Impl& p,
                                                       const AccountFrame& frame) {
  std::vector<const Column*> cols;
  for (const std::string& v : p.vars) {
    const Column* c = frame.Find(v);
    if (c == nullptr && p.checked) {
      return absl::InvalidArgumentError(
          absl::StrFormat("expression uses '%s', which is not a column of the frame", v));
    }
    cols.push_back(c);
  }
  return cols;
}

ResultColumn MakeResult(Kind kind, size_t rows) {
  ResultColumn r;
  r.kind = kind;
  r.status.assign(rows, RowStatus::kOk);
  switch (kind) {
    case Kind::kBool:
      r.b.assign(rows, 0);
      break;
    case Kind::kInt:
    case Kind::kTimestamp:
      r.i64.assign(rows, 0);
      break;
    case Kind::kDouble:
      r.f64.assign(rows, 0.0);
      break;
    default:
      r.values.resize(rows);
      break;
  }
  return r;
}

void Store(ResultColumn& r, size_t row, const Value& v) {
  if (v.is_error()) {
    r.status[row] = RowStatus::kError;
    if (!r.values.empty()) r.values[row] = v;
    return;
  }
  if (v.is_null()) {
    r.status[row] = RowStatus::kNull;
    return;
  }
  if (!r.values.empty()) {
    r.values[row] = v;
    return;
  }
  if (v.kind() != r.kind) {
    // Only an unchecked expression over a frame whose column types differ from the
    // declarations gets here; the row reads as an error rather than a misread value.
    r.status[row] = RowStatus::kError;
    return;
  }
  switch (r.kind) {
    case Kind::kBool:
      r.b[row] = v.bool_value();
      break;
    case Kind::kInt:
      r.i64[row] = v.int_value();
      break;
    case Kind::kDouble:
      r.f64[row] = v.double_value();
      break;
    case Kind::kTimestamp:
      r.i64[row] = absl::ToUnixSeconds(v.timestamp_value());
      break;
    default:
      break;
  }
}

// Runs fn(begin, end) over contiguous row ranges on up to `threads` threads.
void ParallelRanges(size_t rows, int threads, const std::function<void(size_t, size_t)>& fn) {
  size_t t = std::max(1, threads);
  t = std::min(t, std::max<size_t>(1, rows / 1024));
  if (t <= 1) {
    fn(0, rows);
    return;
  }
  std::vector<std::thread> pool;
  size_t chunk = (rows + t - 1) / t;
  for (size_t i = 0; i < t; ++i) {
    size_t b = i * chunk, e = std::min(rows, b + chunk);
    if (b < e) pool.emplace_back(fn, b, e);
  }
  for (auto& th : pool) th.join();
}

void Finish(ResultColumn& r, const Program::Impl& p, const AccountFrame& frame,
            const std::vector<const Column*>& cols, const EvalContext& ctx) {
  r.num_errors =
      static_cast<size_t>(std::count(r.status.begin(), r.status.end(), RowStatus::kError));
  if (r.num_errors == 0) return;
  size_t i = static_cast<size_t>(std::find(r.status.begin(), r.status.end(), RowStatus::kError) -
                                 r.status.begin());
  // The message comes from the row evaluator so both paths report the same text.
  FrameVars vars(cols, frame.ids());
  vars.set_row(i);
  EvalContext c = ctx;
  c.account = i;
  Value v = Evaluate(*p.root, vars, c);
  r.first_error = absl::StrFormat("account '%s': %s", frame.ids()[i],
                                  v.is_error() ? v.error_message() : "error");
}

}  // namespace internal

Kind Program::result_kind() const { return impl_->result_kind; }
const std::string& Program::source() const { return impl_->source; }
bool Program::vectorized() const { return impl_->vector != nullptr; }

std::vector<std::pair<std::string, int64_t>> Program::metric_windows() const {
  std::vector<std::pair<std::string, int64_t>> out;
  std::vector<const Node*> todo = {impl_->root.get()};
  while (!todo.empty()) {
    const Node* n = todo.back();
    todo.pop_back();
    for (auto it = n->args.rbegin(); it != n->args.rend(); ++it) todo.push_back(it->get());
    bool metric_fn = n->kind == internal::NodeKind::kCall &&
                     (n->fn == internal::kAvg || n->fn == internal::kSum ||
                      n->fn == internal::kTrend || n->fn == internal::kPctChange);
    if (!metric_fn || n->args.size() != 2) continue;
    const Node& m = *n->args[0];
    const Node& d = *n->args[1];
    std::string name = m.kind == internal::NodeKind::kIdent ? m.name
                       : m.constant.kind() == Kind::kString ? m.constant.string_value()
                                                            : "";
    if (name.empty()) continue;
    int64_t days = d.kind == internal::NodeKind::kConst && d.constant.kind() == Kind::kInt
                       ? std::max<int64_t>(0, d.constant.int_value())
                       : 0;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == name; });
    if (it == out.end()) {
      out.emplace_back(name, days);
    } else {
      it->second = std::max(it->second, days);
    }
  }
  return out;
}

Value Program::Evaluate(const Activation& activation, const EvalContext& ctx) const {
  internal::ActivationVars vars(activation);
  return internal::Evaluate(*impl_->root, vars, ctx);
}

absl::StatusOr<ResultColumn> Program::EvaluateFrameRowwise(const AccountFrame& frame,
                                                           const MetricHistory* history,
                                                           const EvalContext& ctx,
                                                           const FrameOptions& options) const {
  auto cols = internal::BindColumns(*impl_, frame);
  if (!cols.ok()) return cols.status();
  if (history != nullptr && history->num_accounts() != frame.num_rows()) {
    return absl::InvalidArgumentError(absl::StrFormat("history has %d accounts, the frame %d rows",
                                                      history->num_accounts(), frame.num_rows()));
  }
  size_t rows = frame.num_rows();
  ResultColumn r = internal::MakeResult(impl_->result_kind, rows);
  internal::ParallelRanges(rows, options.threads, [&](size_t b, size_t e) {
    internal::FrameVars vars(*cols, frame.ids());
    EvalContext c = ctx;
    c.history = history;
    for (size_t i = b; i < e; ++i) {
      vars.set_row(i);
      c.account = i;
      Value v = internal::Evaluate(*impl_->root, vars, c);
      // A dynamically typed result that does not fit the typed column is kept as a value.
      internal::Store(r, i, v);
    }
  });
  EvalContext c = ctx;
  c.history = history;
  internal::Finish(r, *impl_, frame, *cols, c);
  return r;
}

absl::StatusOr<ResultColumn> Program::EvaluateFrame(const AccountFrame& frame,
                                                    const MetricHistory* history,
                                                    const EvalContext& ctx,
                                                    const FrameOptions& options) const {
  if (impl_->vector == nullptr) return EvaluateFrameRowwise(frame, history, ctx, options);
  auto cols = internal::BindColumns(*impl_, frame);
  if (!cols.ok()) return cols.status();
  if (history != nullptr && history->num_accounts() != frame.num_rows()) {
    return absl::InvalidArgumentError(absl::StrFormat("history has %d accounts, the frame %d rows",
                                                      history->num_accounts(), frame.num_rows()));
  }
  EvalContext c = ctx;
  c.history = history;
  internal::BoundVectorPtr bound = internal::BindVector(*impl_->vector, *impl_, frame, *cols, c);
  if (bound == nullptr) return EvaluateFrameRowwise(frame, history, ctx, options);
  size_t rows = frame.num_rows();
  ResultColumn r = internal::MakeResult(impl_->result_kind, rows);
  size_t batch = std::clamp<size_t>(options.batch_size, 64, 65536);
  internal::ParallelRanges(rows, options.threads, [&](size_t b, size_t e) {
    internal::RunVector(*bound, b, e, batch, r);
  });
  internal::Finish(r, *impl_, frame, *cols, c);
  return r;
}

absl::StatusOr<Program> Compile(std::string_view source, const Environment& env,
                                const CompileOptions& options) {
  auto root =
      internal::Parse(source, {options.max_source_bytes, options.max_depth, options.max_nodes});
  if (!root.ok()) return root.status();
  auto impl = std::make_shared<Program::Impl>();
  impl->source = std::string(source);
  impl->checked = !env.check_disabled();
  if (absl::Status s = internal::Check(source, env, **root, impl->vars); !s.ok()) return s;
  impl->root = *std::move(root);
  impl->result_kind = impl->root->type;
  if (impl->result_kind != Kind::kBool && impl->result_kind != Kind::kInt &&
      impl->result_kind != Kind::kDouble && impl->result_kind != Kind::kTimestamp) {
    impl->result_kind = Kind::kDyn;  // results kept as Values
  }
  impl->vector = internal::PlanVector(*impl->root, env, impl->vars);
  Program p;
  p.impl_ = std::move(impl);
  return p;
}

}  // namespace cscore::cel
