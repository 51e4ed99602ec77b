// Column-at-a-time evaluation over an account frame.
//
// PlanVector turns the checked AST into a tree of vector operations. Each operation runs
// over a batch of rows (a few thousand) and produces a lane: typed values plus an error
// flag per row. Booleans are one byte per row in three states, ordered so that CEL's
// commutative && and || are plain min and max: 0 false, 1 error, 2 true.
//
// What makes the results identical to the row evaluator:
// - typed kernels (numeric arithmetic and comparisons, logic, ?:, int/double conversions,
//   days_since/days_until) implement exactly the row evaluator's rules, with no floating
//   point contraction (see CMakeLists.txt);
// - a subtree without free variables is folded to the row evaluator's value at compile time;
// - a subtree whose only variable is a categorical (or bool) column becomes a lookup table
//   computed per frame by the row evaluator over the column's dictionary;
// - every other strict function runs per row through the row evaluator's own function
//   (ApplyStrict), and what has no vector form at all (macros, literals over variables,
//   field selection) is evaluated per row by the row evaluator itself;
// - error messages are never produced here: rows that err in a dynamically typed result are
//   re-evaluated by the row evaluator, and first_error always comes from it.
// && and || evaluate their right side only where the left side does not decide, and ?: each
// branch only where it is taken, through selection vectors, when that side is expensive
// (per-row calls); cheap sides run densely over the batch, which gives the same values.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "expr/program_impl.h"

namespace cscore::cel::internal {

namespace {

std::atomic<bool> g_force_selection{false};

enum class Lk : uint8_t { kBool, kInt, kDouble, kTime, kDur, kBoxed };

Lk LaneOf(Kind k) {
  switch (k) {
    case Kind::kBool:
      return Lk::kBool;
    case Kind::kInt:
      return Lk::kInt;
    case Kind::kDouble:
      return Lk::kDouble;
    case Kind::kTimestamp:
      return Lk::kTime;
    case Kind::kDuration:
      return Lk::kDur;
    default:
      return Lk::kBoxed;
  }
}

enum class Op : uint8_t {
  kConst,
  kNow,
  kColumn,
  kTable,
  kWindow,
  kRow,   // the row evaluator over this subtree
  kCall,  // ApplyStrict per row over vector arguments
  kAnd,
  kOr,
  kNot,
  kCond,
  kArith,
  kNegate,
  kCompare,
  kDays,
  kIntToDouble,
  kDoubleToInt,
};

}  // namespace

struct PNode {
  Op op = Op::kRow;
  Lk lane = Lk::kBoxed;
  int fn = 0;
  const Node* src = nullptr;
  std::vector<int> kids;
  int alt = -1;  // kTable: the plan used when the dictionary is too large for a table
  int var = -1;  // kColumn, kTable
  ColumnType col_type = ColumnType::kFloat64;
  Value constant;  // kConst
  bool expensive = false;
  // kWindow
  std::string metric;
  WindowOp window_op = WindowOp::kMean;
  int days = 0;
};

struct VectorPlan {
  std::vector<PNode> nodes;
  int root = -1;
  std::vector<std::pair<int, ColumnType>> expect;  // columns the plan reads, with their types
};

void DeleteVectorPlan(const VectorPlan* p) { delete p; }
void SetForceSelection(bool force) { g_force_selection.store(force); }

namespace {

// Free state of a subtree: its variables (up to two are told apart), `now`, metric windows.
struct Uses {
  int var = -1;
  bool many = false;
  bool now = false;
  bool metric = false;
  bool free() const { return var >= 0 || now || metric; }
  void Merge(const Uses& o) {
    if (o.var >= 0) {
      if (var < 0)
        var = o.var;
      else if (var != o.var)
        many = true;
    }
    many |= o.many;
    now |= o.now;
    metric |= o.metric;
  }
};

bool IsMetricFn(int fn) { return fn == kAvg || fn == kSum || fn == kTrend || fn == kPctChange; }

class EmptyVars : public Variables {
 public:
  Value Get(const Node& n) const override {
    return Value::Error("no value bound for variable '" + n.name + "'");
  }
};

class Planner {
 public:
  Planner(const Environment& env, const std::vector<std::string>& vars) : env_(env), vars_(vars) {}

  std::unique_ptr<VectorPlan> Run(const Node& root) {
    ComputeUses(root);
    plan_ = std::make_unique<VectorPlan>();
    plan_->root = Plan(root);
    if (plan_->nodes[plan_->root].op == Op::kRow) return nullptr;
    return std::move(plan_);
  }

 private:
  Uses ComputeUses(const Node& n) {
    Uses u;
    if (n.kind == NodeKind::kIdent) {
      if (n.var >= 0) {
        u.var = n.var;
      } else if (n.name == "now") {
        u.now = true;  // or a macro variable named `now`: then only folding is lost
      }
    } else if (n.kind == NodeKind::kCall && IsMetricFn(n.fn)) {
      u.metric = true;
      for (size_t i = 1; i < n.args.size(); ++i) u.Merge(ComputeUses(*n.args[i]));
    } else {
      for (const auto& a : n.args) u.Merge(ComputeUses(*a));
      // days_since / days_until read `now` implicitly: never fold them at compile time.
      if (n.kind == NodeKind::kCall && (n.fn == kDaysSince || n.fn == kDaysUntil)) u.now = true;
    }
    uses_[&n] = u;
    return u;
  }

  int Add(PNode p) {
    bool exp = p.op == Op::kRow || p.op == Op::kCall;
    for (int k : p.kids) exp |= plan_->nodes[k].expensive;
    p.expensive = exp;
    plan_->nodes.push_back(std::move(p));
    return static_cast<int>(plan_->nodes.size() - 1);
  }
  void Expect(int var, ColumnType t) {
    for (const auto& [v, ty] : plan_->expect) {
      if (v == var) return;
    }
    plan_->expect.emplace_back(var, t);
  }
  int Row(const Node& n) {
    PNode p;
    p.op = Op::kRow;
    p.lane = LaneOf(n.type);
    p.src = &n;
    return Add(std::move(p));
  }

  // The declared kind of a variable, when a frame column of that kind backs it.
  bool ColumnKind(int var, Kind& kind, ColumnType& type) const {
    auto it = env_.variables().find(vars_[var]);
    if (it == env_.variables().end()) return false;
    kind = it->second;
    switch (kind) {
      case Kind::kDouble:
        type = ColumnType::kFloat64;
        return true;
      case Kind::kInt:
        type = ColumnType::kInt64;
        return true;
      case Kind::kBool:
        type = ColumnType::kBool;
        return true;
      case Kind::kString:
        type = ColumnType::kCategorical;
        return true;
      case Kind::kTimestamp:
        type = ColumnType::kTimestamp;
        return true;
      default:
        return false;
    }
  }

  int Plan(const Node& n) {
    const Uses& u = uses_.at(&n);
    if (!u.free()) {
      PNode p;
      p.op = Op::kConst;
      p.src = &n;
      p.constant = Evaluate(n, EmptyVars(), EvalContext{});
      Kind k = p.constant.kind();
      p.lane = k == Kind::kError ? (n.type == Kind::kBool ? Lk::kBool : Lk::kBoxed) : LaneOf(k);
      return Add(std::move(p));
    }
    Kind kind = Kind::kDyn;
    ColumnType type = ColumnType::kFloat64;
    if (u.var >= 0 && !u.many && !u.metric && n.kind != NodeKind::kIdent &&
        ColumnKind(u.var, kind, type) && (kind == Kind::kString || kind == Kind::kBool)) {
      int alt = Structural(n);
      PNode p;
      p.op = Op::kTable;
      p.lane = LaneOf(n.type);
      p.src = &n;
      p.var = u.var;
      p.col_type = type;
      p.alt = alt;
      Expect(u.var, type);
      return Add(std::move(p));
    }
    return Structural(n);
  }

  int Structural(const Node& n) {
    switch (n.kind) {
      case NodeKind::kIdent: {
        Kind kind = Kind::kDyn;
        ColumnType type = ColumnType::kFloat64;
        if (n.var >= 0 && ColumnKind(n.var, kind, type)) {
          PNode p;
          p.op = Op::kColumn;
          p.lane = LaneOf(kind);
          p.var = n.var;
          p.col_type = type;
          Expect(n.var, type);
          return Add(std::move(p));
        }
        if (n.var < 0 && n.name == "now") {
          PNode p;
          p.op = Op::kNow;
          p.lane = Lk::kTime;
          return Add(std::move(p));
        }
        return Row(n);
      }
      case NodeKind::kCall:
        return Call(n);
      default:
        return Row(n);
    }
  }

  int Call(const Node& n) {
    if (IsMetricFn(n.fn)) return Window(n);
    if (n.fn == kCond || n.fn == kAnd || n.fn == kOr) {
      std::vector<int> kids;
      for (const auto& a : n.args) kids.push_back(Plan(*a));
      auto lane = [&](int i) { return plan_->nodes[kids[i]].lane; };
      PNode p;
      p.src = &n;
      p.fn = n.fn;
      if (n.fn == kCond) {
        if (lane(0) != Lk::kBool || lane(1) != lane(2)) return Row(n);
        p.op = Op::kCond;
        p.lane = lane(1);
      } else {
        if (lane(0) != Lk::kBool || lane(1) != Lk::kBool) return Row(n);
        p.op = n.fn == kAnd ? Op::kAnd : Op::kOr;
        p.lane = Lk::kBool;
      }
      p.kids = std::move(kids);
      return Add(std::move(p));
    }
    if (n.args.size() > 3) return Row(n);
    PNode p;
    p.src = &n;
    p.fn = n.fn;
    for (const auto& a : n.args) p.kids.push_back(Plan(*a));
    auto lane = [&](size_t i) { return plan_->nodes[p.kids[i]].lane; };
    auto numeric = [&](size_t i) { return lane(i) == Lk::kInt || lane(i) == Lk::kDouble; };
    size_t argc = n.args.size();
    p.op = Op::kCall;
    p.lane = LaneOf(n.type);
    switch (n.fn) {
      case kAdd:
      case kSub:
      case kMul:
      case kDiv:
      case kMod:
        if (argc == 2 && lane(0) == lane(1) &&
            (lane(0) == Lk::kInt || (lane(0) == Lk::kDouble && n.fn != kMod))) {
          p.op = Op::kArith;
          p.lane = lane(0);
        }
        break;
      case kNeg:
        if (argc == 1 && numeric(0)) {
          p.op = Op::kNegate;
          p.lane = lane(0);
        }
        break;
      case kNot:
        if (argc == 1 && lane(0) == Lk::kBool) {
          p.op = Op::kNot;
          p.lane = Lk::kBool;
        }
        break;
      case kEq:
      case kNe:
      case kLt:
      case kLe:
      case kGt:
      case kGe:
        if (argc == 2 &&
            ((numeric(0) && numeric(1)) || (lane(0) == lane(1) && lane(0) != Lk::kBoxed))) {
          p.op = Op::kCompare;
          p.lane = Lk::kBool;
        }
        break;
      case kDaysSince:
      case kDaysUntil:
        if (argc == 1 && lane(0) == Lk::kTime) {
          p.op = Op::kDays;
          p.lane = Lk::kInt;
        }
        break;
      case kToDouble:
        if (argc == 1 && lane(0) == Lk::kInt) {
          p.op = Op::kIntToDouble;
          p.lane = Lk::kDouble;
        }
        break;
      case kToInt:
        if (argc == 1 && lane(0) == Lk::kDouble) {
          p.op = Op::kDoubleToInt;
          p.lane = Lk::kInt;
        }
        break;
      default:
        break;
    }
    return Add(std::move(p));
  }

  // avg/sum/trend/pct_change with a constant window read one precomputed column.
  int Window(const Node& n) {
    if (n.args.size() != 2) return Row(n);
    const Node& m = *n.args[0];
    const Node& d = *n.args[1];
    std::string metric = m.kind == NodeKind::kIdent ? m.name
                         : (m.kind == NodeKind::kConst && m.constant.kind() == Kind::kString)
                             ? m.constant.string_value()
                             : "";
    if (metric.empty() || uses_.at(&d).free()) return Row(n);
    Value days = Evaluate(d, EmptyVars(), EvalContext{});
    if (days.kind() != Kind::kInt || days.int_value() <= 0 || days.int_value() > 100000) {
      return Row(n);  // every row errs, as the row evaluator says
    }
    PNode p;
    p.op = Op::kWindow;
    p.lane = Lk::kDouble;
    p.src = &n;
    p.fn = n.fn;
    p.metric = metric;
    p.window_op = n.fn == kAvg     ? WindowOp::kMean
                  : n.fn == kSum   ? WindowOp::kSum
                  : n.fn == kTrend ? WindowOp::kTrend
                                   : WindowOp::kPctChange;
    p.days = static_cast<int>(days.int_value());
    return Add(std::move(p));
  }

  const Environment& env_;
  const std::vector<std::string>& vars_;
  absl::flat_hash_map<const Node*, Uses> uses_;
  std::unique_ptr<VectorPlan> plan_;
};

}  // namespace

std::unique_ptr<const VectorPlan, VectorPlanDeleter> PlanVector(
    const Node& root, const Environment& env, const std::vector<std::string>& vars) {
  Planner planner(env, vars);
  return std::unique_ptr<const VectorPlan, VectorPlanDeleter>(planner.Run(root).release());
}

// ---------------------------------------------------------------------------------------
// Binding: per-frame lookup tables and metric windows.

struct BoundNode {
  int use = -1;  // the node evaluated in this one's place (alt of an oversized table)
  // kTable, indexed by code + 1 (categorical) or 0 missing / 1 false / 2 true (bool).
  std::vector<uint8_t> tb;  // kBool lanes
  std::vector<int64_t> ti;
  std::vector<double> td;
  std::vector<uint8_t> te;  // error flags of non-bool entries
  std::vector<Value> tv;    // every entry, for kTime, kDur and kBoxed lanes
  // A bool table that is `code == k ? hit : rest` (missing: miss), e.g. segment == 'SMB'.
  bool single = false;
  int32_t single_code = 0;
  uint8_t hit = 0, rest = 0, miss = 0;
  // kWindow: one value per frame row; NaN reads as an error.
  std::vector<double> window;
};

struct BoundVector {
  const VectorPlan* plan = nullptr;
  const Program::Impl* program = nullptr;
  const AccountFrame* frame = nullptr;
  std::vector<const Column*> cols;
  EvalContext ctx;
  std::vector<BoundNode> nodes;
};

void BoundVectorDeleter::operator()(const BoundVector* b) const { delete b; }

namespace {

class OneVar : public Variables {
 public:
  OneVar(int var, const Value& v) : var_(var), v_(v) {}
  Value Get(const Node& n) const override {
    if (n.var == var_) return v_;
    return Value::Error("no value bound for variable '" + n.name + "'");
  }

 private:
  int var_;
  const Value& v_;
};

bool FillTable(const PNode& p, const Column& col, const EvalContext& ctx, BoundNode& out) {
  std::vector<Value> entries;
  if (col.type == ColumnType::kCategorical) {
    entries.reserve(col.dictionary.size() + 1);
    entries.push_back(Value::Error("missing"));
    for (const std::string& s : col.dictionary) entries.push_back(Value::String(s));
  } else {
    entries = {Value::Error("missing"), Value::Bool(false), Value::Bool(true)};
  }
  size_t n = entries.size();
  out.tv.resize(n);
  out.te.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    OneVar vars(p.var, entries[i]);
    out.tv[i] = Evaluate(*p.src, vars, ctx);
  }
  const std::vector<Value>& tv = out.tv;
  switch (p.lane) {
    case Lk::kBool:
      out.tb.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (tv[i].is_error()) {
          out.tb[i] = 1;
        } else if (tv[i].kind() == Kind::kBool) {
          out.tb[i] = tv[i].bool_value() ? 2 : 0;
        } else {
          return false;
        }
      }
      if (col.type == ColumnType::kCategorical) {
        // Detect `code == k ? hit : rest` (equality with one value, or its negation), which
        // runs as a compare instead of a gather.
        out.miss = out.tb[0];
        out.single_code = -2;  // no row has it
        out.hit = out.rest = out.tb[0];
        for (size_t cand = 1; cand <= std::min<size_t>(2, n - 1); ++cand) {
          uint8_t rest = out.tb[cand];
          int odd = -1, count = 0;
          for (size_t i = 1; i < n; ++i) {
            if (out.tb[i] != rest) {
              odd = static_cast<int>(i);
              ++count;
            }
          }
          if (count <= 1) {
            out.single = true;
            out.rest = rest;
            out.single_code = count == 0 ? -2 : odd - 1;
            out.hit = count == 0 ? rest : out.tb[odd];
            break;
          }
        }
        if (n == 1) out.single = true;
      }
      return true;
    case Lk::kInt:
      out.ti.assign(n, 0);
      for (size_t i = 0; i < n; ++i) {
        if (tv[i].is_error()) {
          out.te[i] = 1;
        } else if (tv[i].kind() == Kind::kInt) {
          out.ti[i] = tv[i].int_value();
        } else {
          return false;
        }
      }
      return true;
    case Lk::kDouble:
      out.td.assign(n, 0.0);
      for (size_t i = 0; i < n; ++i) {
        if (tv[i].is_error()) {
          out.te[i] = 1;
        } else if (tv[i].kind() == Kind::kDouble) {
          out.td[i] = tv[i].double_value();
        } else {
          return false;
        }
      }
      return true;
    case Lk::kTime:
    case Lk::kDur:
      for (size_t i = 0; i < n; ++i) {
        Kind want = p.lane == Lk::kTime ? Kind::kTimestamp : Kind::kDuration;
        if (tv[i].is_error()) {
          out.te[i] = 1;
        } else if (tv[i].kind() != want) {
          return false;
        }
      }
      return true;
    case Lk::kBoxed:
      for (size_t i = 0; i < n; ++i) out.te[i] = tv[i].is_error();
      return true;
  }
  return false;
}

}  // namespace

BoundVectorPtr BindVector(const VectorPlan& plan, const Program::Impl& program,
                          const AccountFrame& frame, const std::vector<const Column*>& cols,
                          const EvalContext& ctx) {
  for (const auto& [var, type] : plan.expect) {
    if (cols[var] == nullptr || cols[var]->type != type) return nullptr;
  }
  auto b = std::make_unique<BoundVector>();
  b->plan = &plan;
  b->program = &program;
  b->frame = &frame;
  b->cols = cols;
  b->ctx = ctx;
  b->nodes.resize(plan.nodes.size());
  size_t rows = frame.num_rows();
  for (size_t i = 0; i < plan.nodes.size(); ++i) b->nodes[i].use = static_cast<int>(i);
  // Only what the root reaches is bound: the alternatives of the tables in use are not.
  std::vector<int> todo = {plan.root};
  while (!todo.empty()) {
    int i = todo.back();
    todo.pop_back();
    const PNode& p = plan.nodes[i];
    BoundNode& bn = b->nodes[i];
    for (int k : p.kids) todo.push_back(k);
    if (p.op == Op::kTable) {
      const Column& col = *cols[p.var];
      size_t entries = col.type == ColumnType::kCategorical ? col.dictionary.size() + 1 : 3;
      // A table pays off while it is small next to the rows it serves.
      if (entries > 4096 && entries > rows / 8) {
        bn.use = p.alt;
        todo.push_back(p.alt);
        continue;
      }
      if (!FillTable(p, col, ctx, bn)) return nullptr;
    } else if (p.op == Op::kWindow) {
      bn.window.assign(rows, std::numeric_limits<double>::quiet_NaN());
      if (ctx.history != nullptr) {
        absl::Status s = ctx.history->Window(p.metric, p.window_op, p.days, bn.window);
        if (!s.ok()) std::fill(bn.window.begin(), bn.window.end(), std::nan(""));
      }
    }
  }
  return BoundVectorPtr(b.release());
}

// ---------------------------------------------------------------------------------------
// Batch execution.

namespace {

enum class Em : uint8_t { kExplicit, kNan };  // where a numeric lane's error flags live

// A batch of values. Scalar lanes hold one value for every row (constants, `now`).
struct Lane {
  Lk kind = Lk::kBoxed;
  bool scalar = false;
  Em em = Em::kExplicit;
  const uint8_t* b = nullptr;  // kBool: 0 false, 1 error, 2 true
  const uint8_t* e = nullptr;  // other kinds: nonzero = error (unless em == kNan)
  const int64_t* i = nullptr;
  const double* d = nullptr;
  const absl::Time* t = nullptr;
  const absl::Duration* u = nullptr;
  const Value* v = nullptr;
  uint8_t sb = 0;
  int64_t si = 0;
  double sd = 0;
  absl::Time st;
  absl::Duration su;
  const Value* sv = nullptr;
  bool serr = false;  // scalar error (boxed constants)

  bool Err(size_t j) const {
    if (kind == Lk::kBool) return (scalar ? sb : b[j]) == 1;
    if (scalar) return serr;
    if (em == Em::kNan) return std::isnan(d[j]);
    return e[j] != 0;
  }
  Value Get(size_t j) const {
    if (Err(j)) return Value::Error("");
    switch (kind) {
      case Lk::kBool:
        return Value::Bool((scalar ? sb : b[j]) == 2);
      case Lk::kInt:
        return Value::Int(scalar ? si : i[j]);
      case Lk::kDouble:
        return Value::Double(scalar ? sd : d[j]);
      case Lk::kTime:
        return Value::Timestamp(scalar ? st : t[j]);
      case Lk::kDur:
        return Value::Duration(scalar ? su : u[j]);
      case Lk::kBoxed:
        return scalar ? *sv : v[j];
    }
    return Value::Null();
  }
};

// Rows of a batch: base + j, or base + idx[j] under a selection.
struct Sel {
  size_t base = 0;
  size_t n = 0;
  const uint32_t* idx = nullptr;
  size_t Row(size_t j) const { return base + (idx ? idx[j] : j); }
};

template <typename T>
T* Buf(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

struct NodeScratch {
  std::vector<uint8_t> b, e;
  std::vector<int64_t> i;
  std::vector<double> d;
  std::vector<absl::Time> t;
  std::vector<absl::Duration> u;
  std::vector<Value> v;
  std::vector<uint32_t> idx1, idx2;
  std::vector<uint32_t> pos1, pos2;
};

// Operand accessors for the typed kernels, so one loop serves vectors and scalars.
struct DS {
  double v;
  double operator[](size_t) const { return v; }
};
struct DV {
  const double* p;
  double operator[](size_t j) const { return p[j]; }
};
struct IDV {  // int lane read as double (mixed comparisons)
  const int64_t* p;
  double operator[](size_t j) const { return static_cast<double>(p[j]); }
};
struct IS {
  int64_t v;
  int64_t operator[](size_t) const { return v; }
};
struct IV {
  const int64_t* p;
  int64_t operator[](size_t j) const { return p[j]; }
};
struct E0 {
  uint8_t operator[](size_t) const { return 0; }
};
struct EN {
  const double* p;
  uint8_t operator[](size_t j) const { return p[j] != p[j]; }
};
struct EX {
  const uint8_t* p;
  uint8_t operator[](size_t j) const { return p[j]; }
};

template <typename F>
void WithDouble(const Lane& l, F&& f) {
  if (l.scalar) {
    f(DS{l.sd}, E0{});
  } else if (l.em == Em::kNan) {
    f(DV{l.d}, EN{l.d});
  } else {
    f(DV{l.d}, EX{l.e});
  }
}
template <typename F>
void WithInt(const Lane& l, F&& f) {
  if (l.scalar) {
    f(IS{l.si}, E0{});
  } else {
    f(IV{l.i}, EX{l.e});
  }
}
template <typename F>
void WithAsDouble(const Lane& l, F&& f) {
  if (l.kind == Lk::kDouble) {
    WithDouble(l, f);
  } else if (l.scalar) {
    f(DS{static_cast<double>(l.si)}, E0{});
  } else {
    f(IDV{l.i}, EX{l.e});
  }
}

template <int FN>
struct CmpOp {
  template <typename T>
  bool operator()(T x, T y) const {
    if constexpr (FN == kEq) return x == y;
    if constexpr (FN == kNe) return x != y;
    if constexpr (FN == kLt) return x < y;
    if constexpr (FN == kLe) return x <= y;
    if constexpr (FN == kGt) return x > y;
    return x >= y;
  }
};

template <typename C, typename A, typename EA, typename B, typename EB>
void CmpLoop(size_t n, A a, EA ea, B b, EB eb, uint8_t* out) {
  C cmp;
  for (size_t j = 0; j < n; ++j) {
    uint8_t err = ea[j] | eb[j];
    uint8_t r = cmp(a[j], b[j]) ? 2 : 0;
    out[j] = err ? 1 : r;
  }
}

template <typename F>
void WithCmp(int fn, F&& f) {
  switch (fn) {
    case kEq:
      f(CmpOp<kEq>{});
      break;
    case kNe:
      f(CmpOp<kNe>{});
      break;
    case kLt:
      f(CmpOp<kLt>{});
      break;
    case kLe:
      f(CmpOp<kLe>{});
      break;
    case kGt:
      f(CmpOp<kGt>{});
      break;
    default:
      f(CmpOp<kGe>{});
      break;
  }
}

template <int FN>
struct DArith {
  double operator()(double x, double y) const {
    if constexpr (FN == kAdd) return x + y;
    if constexpr (FN == kSub) return x - y;
    if constexpr (FN == kMul) return x * y;
    return x / y;
  }
};

template <typename O, typename A, typename EA, typename B, typename EB>
void DArithLoop(size_t n, A a, EA ea, B b, EB eb, double* out, uint8_t* oe) {
  O op;
  for (size_t j = 0; j < n; ++j) {
    out[j] = op(a[j], b[j]);
    oe[j] = ea[j] | eb[j];
  }
}

// Same rules as the row evaluator's Arith for int64.
template <int FN, typename A, typename EA, typename B, typename EB>
void IArithLoop(size_t n, A a, EA ea, B b, EB eb, int64_t* out, uint8_t* oe) {
  for (size_t j = 0; j < n; ++j) {
    int64_t x = a[j], y = b[j], r = 0;
    bool bad = false;
    if constexpr (FN == kAdd) {
      bad = __builtin_add_overflow(x, y, &r);
    } else if constexpr (FN == kSub) {
      bad = __builtin_sub_overflow(x, y, &r);
    } else if constexpr (FN == kMul) {
      bad = __builtin_mul_overflow(x, y, &r);
    } else if constexpr (FN == kDiv) {
      bad = y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1);
      r = bad ? 0 : x / y;
    } else {
      bad = y == 0;
      r = (bad || y == -1) ? 0 : x % y;
    }
    uint8_t err = ea[j] | eb[j] | static_cast<uint8_t>(bad);
    out[j] = err ? 0 : r;
    oe[j] = err;
  }
}

class Runner {
 public:
  Runner(const BoundVector& bv, size_t batch)
      : bv_(bv),
        plan_(*bv.plan),
        scratch_(plan_.nodes.size()),
        vars_(bv.cols, bv.frame->ids()),
        ctx_(bv.ctx) {
    zeros_.assign(batch, 0);
  }

  // Evaluates the rows [begin, end) into `out`.
  void Batch(size_t begin, size_t end, ResultColumn& out) {
    fallback_ = false;
    Sel sel{begin, end - begin, nullptr};
    Lane root = Eval(plan_.root, sel);
    if (!fallback_) Write(root, sel, out);
    if (fallback_) {
      // A value of a kind the plan did not foresee: this batch goes through the row
      // evaluator, which is the reference anyway.
      for (size_t row = begin; row < end; ++row) Store(out, row, RowValue(*bv_.program->root, row));
      return;
    }
    if (out.kind == Kind::kDyn) {
      for (size_t row = begin; row < end; ++row) {
        if (out.status[row] == RowStatus::kError) {
          Store(out, row, RowValue(*bv_.program->root, row));
        }
      }
    }
  }

 private:
  Value RowValue(const Node& n, size_t row) {
    vars_.set_row(row);
    EvalContext c = ctx_;
    c.account = row;
    return Evaluate(n, vars_, c);
  }

  void Write(const Lane& l, const Sel& sel, ResultColumn& out) {
    size_t n = sel.n, base = sel.base;
    RowStatus* st = out.status.data() + base;
    if (out.kind == Kind::kBool && l.kind == Lk::kBool && !l.scalar) {
      uint8_t* ob = out.b.data() + base;
      for (size_t j = 0; j < n; ++j) {
        uint8_t x = l.b[j];
        ob[j] = x == 2;
        st[j] = x == 1 ? RowStatus::kError : RowStatus::kOk;
      }
      return;
    }
    if (out.kind == Kind::kDouble && l.kind == Lk::kDouble && !l.scalar) {
      double* od = out.f64.data() + base;
      WithDouble(l, [&](auto a, auto ea) {
        for (size_t j = 0; j < n; ++j) {
          uint8_t err = ea[j];
          od[j] = err ? 0.0 : a[j];
          st[j] = err ? RowStatus::kError : RowStatus::kOk;
        }
      });
      return;
    }
    if (out.kind == Kind::kInt && l.kind == Lk::kInt && !l.scalar) {
      int64_t* oi = out.i64.data() + base;
      for (size_t j = 0; j < n; ++j) {
        uint8_t err = l.e[j];
        oi[j] = err ? 0 : l.i[j];
        st[j] = err ? RowStatus::kError : RowStatus::kOk;
      }
      return;
    }
    for (size_t j = 0; j < n; ++j) Store(out, base + j, l.Get(j));
  }

  // Marks the batch for the row evaluator when `v` does not fit lane kind `k`.
  void Unbox(const Value& v, Lk k, NodeScratch& s, size_t j) {
    bool err = v.is_error();
    switch (k) {
      case Lk::kBool:
        if (err) {
          s.b[j] = 1;
        } else if (v.kind() == Kind::kBool) {
          s.b[j] = v.bool_value() ? 2 : 0;
        } else {
          fallback_ = true;
        }
        return;
      case Lk::kInt:
        s.e[j] = err;
        if (!err && v.kind() != Kind::kInt) fallback_ = true;
        s.i[j] = (!err && v.kind() == Kind::kInt) ? v.int_value() : 0;
        return;
      case Lk::kDouble:
        s.e[j] = err;
        if (!err && v.kind() != Kind::kDouble) fallback_ = true;
        s.d[j] = (!err && v.kind() == Kind::kDouble) ? v.double_value() : 0.0;
        return;
      case Lk::kTime:
        s.e[j] = err;
        if (!err && v.kind() != Kind::kTimestamp) fallback_ = true;
        s.t[j] = (!err && v.kind() == Kind::kTimestamp) ? v.timestamp_value() : absl::Time();
        return;
      case Lk::kDur:
        s.e[j] = err;
        if (!err && v.kind() != Kind::kDuration) fallback_ = true;
        s.u[j] = (!err && v.kind() == Kind::kDuration) ? v.duration_value() : absl::Duration();
        return;
      case Lk::kBoxed:
        s.e[j] = err;
        s.v[j] = v;
        return;
    }
  }

  // Output buffers of node `id` for `n` rows, as a lane of kind `k`.
  Lane Out(int id, Lk k, size_t n) {
    NodeScratch& s = scratch_[id];
    Lane l;
    l.kind = k;
    switch (k) {
      case Lk::kBool:
        l.b = Buf(s.b, n);
        break;
      case Lk::kInt:
        l.i = Buf(s.i, n);
        l.e = Buf(s.e, n);
        break;
      case Lk::kDouble:
        l.d = Buf(s.d, n);
        l.e = Buf(s.e, n);
        break;
      case Lk::kTime:
        l.t = Buf(s.t, n);
        l.e = Buf(s.e, n);
        break;
      case Lk::kDur:
        l.u = Buf(s.u, n);
        l.e = Buf(s.e, n);
        break;
      case Lk::kBoxed:
        l.v = Buf(s.v, n);
        l.e = Buf(s.e, n);
        break;
    }
    return l;
  }

  Lane Eval(int id, const Sel& sel) {
    const BoundNode& bn = bv_.nodes[id];
    if (bn.use != id) return Eval(bn.use, sel);
    const PNode& p = plan_.nodes[id];
    switch (p.op) {
      case Op::kConst:
        return Const(p);
      case Op::kNow: {
        Lane l;
        l.kind = Lk::kTime;
        l.scalar = true;
        l.st = ctx_.now;
        return l;
      }
      case Op::kColumn:
        return ColumnLane(id, p, sel);
      case Op::kTable:
        return TableLane(id, p, bn, sel);
      case Op::kWindow:
        return WindowLane(id, bn, sel);
      case Op::kRow:
        return RowLane(id, p, sel);
      case Op::kCall:
        return CallLane(id, p, sel);
      case Op::kAnd:
      case Op::kOr:
        return Logic(id, p, sel);
      case Op::kNot:
        return Not(id, p, sel);
      case Op::kCond:
        return Cond(id, p, sel);
      case Op::kArith:
        return Arith(id, p, sel);
      case Op::kNegate:
        return Negate(id, p, sel);
      case Op::kCompare:
        return Compare(id, p, sel);
      case Op::kDays:
        return Days(id, p, sel);
      case Op::kIntToDouble:
      case Op::kDoubleToInt:
        return Convert(id, p, sel);
    }
    return RowLane(id, p, sel);
  }

  Lane Const(const PNode& p) {
    Lane l;
    l.kind = p.lane;
    l.scalar = true;
    const Value& c = p.constant;
    switch (p.lane) {
      case Lk::kBool:
        l.sb = c.is_error() ? 1 : (c.bool_value() ? 2 : 0);
        break;
      case Lk::kInt:
        l.si = c.int_value();
        break;
      case Lk::kDouble:
        l.sd = c.double_value();
        break;
      case Lk::kTime:
        l.st = c.timestamp_value();
        break;
      case Lk::kDur:
        l.su = c.duration_value();
        break;
      case Lk::kBoxed:
        l.sv = &c;
        l.serr = c.is_error();
        break;
    }
    return l;
  }

  Lane ColumnLane(int id, const PNode& p, const Sel& sel) {
    const Column& c = *bv_.cols[p.var];
    size_t n = sel.n;
    NodeScratch& s = scratch_[id];
    auto missing = [&](size_t row) { return !c.valid.empty() && c.valid[row] == 0; };
    Lane l;
    l.kind = p.lane;
    switch (p.col_type) {
      case ColumnType::kFloat64:
        l.em = Em::kNan;
        if (!sel.idx) {
          l.d = c.f64.data() + sel.base;
        } else {
          double* d = Buf(s.d, n);
          for (size_t j = 0; j < n; ++j) d[j] = c.f64[sel.Row(j)];
          l.d = d;
        }
        return l;
      case ColumnType::kInt64: {
        uint8_t* e = nullptr;
        if (c.valid.empty()) {
          l.e = zeros_.data();
        } else {
          e = Buf(s.e, n);
          for (size_t j = 0; j < n; ++j) e[j] = missing(sel.Row(j));
          l.e = e;
        }
        if (!sel.idx) {
          l.i = c.i64.data() + sel.base;
        } else {
          int64_t* i = Buf(s.i, n);
          for (size_t j = 0; j < n; ++j) i[j] = c.i64[sel.Row(j)];
          l.i = i;
        }
        return l;
      }
      case ColumnType::kBool: {
        uint8_t* b = Buf(s.b, n);
        for (size_t j = 0; j < n; ++j) {
          size_t row = sel.Row(j);
          b[j] = missing(row) ? 1 : (c.b[row] ? 2 : 0);
        }
        l.b = b;
        return l;
      }
      case ColumnType::kTimestamp: {
        absl::Time* t = Buf(s.t, n);
        uint8_t* e = Buf(s.e, n);
        for (size_t j = 0; j < n; ++j) {
          size_t row = sel.Row(j);
          e[j] = missing(row);
          t[j] = absl::FromUnixSeconds(c.i64[row]);
        }
        l.t = t;
        l.e = e;
        return l;
      }
      case ColumnType::kCategorical: {
        Value* v = Buf(s.v, n);
        uint8_t* e = Buf(s.e, n);
        for (size_t j = 0; j < n; ++j) {
          int32_t code = c.codes[sel.Row(j)];
          e[j] = code < 0;
          v[j] = code < 0 ? Value::Error("") : Value::String(c.dictionary[code]);
        }
        l.v = v;
        l.e = e;
        return l;
      }
    }
    return l;
  }

  Lane TableLane(int id, const PNode& p, const BoundNode& bn, const Sel& sel) {
    const Column& c = *bv_.cols[p.var];
    size_t n = sel.n;
    // Index of each row's entry: code + 1, or 0 missing / 1 false / 2 true for bools.
    auto index = [&](size_t row) -> size_t {
      if (c.type == ColumnType::kCategorical) return static_cast<size_t>(c.codes[row] + 1);
      if (!c.valid.empty() && c.valid[row] == 0) return 0;
      return c.b[row] ? 2 : 1;
    };
    Lane l = Out(id, p.lane, n);
    NodeScratch& s = scratch_[id];
    if (p.lane == Lk::kBool) {
      uint8_t* b = s.b.data();
      if (bn.single && !sel.idx) {
        const int32_t* codes = c.codes.data() + sel.base;
        const int32_t k = bn.single_code;
        const uint8_t hit = bn.hit, rest = bn.rest, miss = bn.miss;
        for (size_t j = 0; j < n; ++j) {
          int32_t code = codes[j];
          b[j] = code == k ? hit : (code < 0 ? miss : rest);
        }
      } else {
        const uint8_t* tb = bn.tb.data();
        for (size_t j = 0; j < n; ++j) b[j] = tb[index(sel.Row(j))];
      }
      return l;
    }
    for (size_t j = 0; j < n; ++j) {
      size_t x = index(sel.Row(j));
      s.e[j] = bn.te[x];
      switch (p.lane) {
        case Lk::kInt:
          s.i[j] = bn.ti[x];
          break;
        case Lk::kDouble:
          s.d[j] = bn.td[x];
          break;
        case Lk::kTime:
          s.t[j] = bn.te[x] ? absl::Time() : bn.tv[x].timestamp_value();
          break;
        case Lk::kDur:
          s.u[j] = bn.te[x] ? absl::Duration() : bn.tv[x].duration_value();
          break;
        default:
          s.v[j] = bn.tv[x];
          break;
      }
    }
    return l;
  }

  Lane WindowLane(int id, const BoundNode& bn, const Sel& sel) {
    Lane l;
    l.kind = Lk::kDouble;
    l.em = Em::kNan;
    if (!sel.idx) {
      l.d = bn.window.data() + sel.base;
    } else {
      double* d = Buf(scratch_[id].d, sel.n);
      for (size_t j = 0; j < sel.n; ++j) d[j] = bn.window[sel.Row(j)];
      l.d = d;
    }
    return l;
  }

  Lane RowLane(int id, const PNode& p, const Sel& sel) {
    Lane l = Out(id, p.lane, sel.n);
    NodeScratch& s = scratch_[id];
    for (size_t j = 0; j < sel.n; ++j) Unbox(RowValue(*p.src, sel.Row(j)), p.lane, s, j);
    return l;
  }

  Lane CallLane(int id, const PNode& p, const Sel& sel) {
    Lane args[3];
    size_t argc = p.kids.size();
    for (size_t k = 0; k < argc; ++k) args[k] = Eval(p.kids[k], sel);
    Lane l = Out(id, p.lane, sel.n);
    NodeScratch& s = scratch_[id];
    Value vals[3];
    Value err = Value::Error("");
    EvalContext c = ctx_;
    for (size_t j = 0; j < sel.n; ++j) {
      bool bad = false;
      for (size_t k = 0; k < argc && !bad; ++k) bad = args[k].Err(j);
      if (bad) {
        Unbox(err, p.lane, s, j);
        continue;
      }
      for (size_t k = 0; k < argc; ++k) vals[k] = args[k].Get(j);
      c.account = sel.Row(j);
      Unbox(ApplyStrict(*p.src, vals, argc, c), p.lane, s, j);
    }
    return l;
  }

  // Positions j (and their rows, as a selection) where `keep(j)` holds.
  size_t Select(const Sel& sel, uint32_t* idx, uint32_t* pos, auto keep) {
    size_t m = 0;
    for (size_t j = 0; j < sel.n; ++j) {
      if (keep(j)) {
        idx[m] = static_cast<uint32_t>(sel.idx ? sel.idx[j] : j);
        pos[m] = static_cast<uint32_t>(j);
        ++m;
      }
    }
    return m;
  }

  Lane Logic(int id, const PNode& p, const Sel& sel) {
    const bool is_and = p.op == Op::kAnd;
    size_t n = sel.n;
    Lane a = Eval(p.kids[0], sel);
    Lane out = Out(id, Lk::kBool, n);
    uint8_t* o = scratch_[id].b.data();
    const uint8_t decide = is_and ? 0 : 2;  // the left value that settles the result
    const PNode& right = plan_.nodes[p.kids[1]];
    if (!a.scalar && (right.expensive || g_force_selection.load(std::memory_order_relaxed))) {
      NodeScratch& s = scratch_[id];
      uint32_t* idx = Buf(s.idx1, n);
      uint32_t* pos = Buf(s.pos1, n);
      size_t m = Select(sel, idx, pos, [&](size_t j) { return a.b[j] != decide; });
      for (size_t j = 0; j < n; ++j) o[j] = a.b[j];
      if (m == 0) return out;
      Lane b = Eval(p.kids[1], Sel{sel.base, m, idx});
      for (size_t k = 0; k < m; ++k) {
        uint8_t x = o[pos[k]], y = b.scalar ? b.sb : b.b[k];
        o[pos[k]] = is_and ? std::min(x, y) : std::max(x, y);
      }
      return out;
    }
    Lane b = Eval(p.kids[1], sel);
    if (a.scalar || b.scalar) {
      const Lane& v = a.scalar ? b : a;
      uint8_t s = a.scalar ? a.sb : b.sb;
      for (size_t j = 0; j < n; ++j) o[j] = is_and ? std::min(v.b[j], s) : std::max(v.b[j], s);
      return out;
    }
    if (is_and) {
      for (size_t j = 0; j < n; ++j) o[j] = std::min(a.b[j], b.b[j]);
    } else {
      for (size_t j = 0; j < n; ++j) o[j] = std::max(a.b[j], b.b[j]);
    }
    return out;
  }

  Lane Not(int id, const PNode& p, const Sel& sel) {
    Lane a = Eval(p.kids[0], sel);
    Lane out = Out(id, Lk::kBool, sel.n);
    uint8_t* o = scratch_[id].b.data();
    for (size_t j = 0; j < sel.n; ++j) o[j] = 2 - a.b[j];
    return out;
  }

  // out[j] = lane value j of `from` (or an error), for any lane kind.
  static void CopyAt(const Lane& from, size_t k, NodeScratch& s, Lk kind, size_t j) {
    switch (kind) {
      case Lk::kBool:
        s.b[j] = from.scalar ? from.sb : from.b[k];
        return;
      case Lk::kInt:
        s.e[j] = from.Err(k);
        s.i[j] = from.scalar ? from.si : from.i[k];
        return;
      case Lk::kDouble:
        s.e[j] = from.Err(k);
        s.d[j] = from.scalar ? from.sd : from.d[k];
        return;
      case Lk::kTime:
        s.e[j] = from.Err(k);
        s.t[j] = from.scalar ? from.st : from.t[k];
        return;
      case Lk::kDur:
        s.e[j] = from.Err(k);
        s.u[j] = from.scalar ? from.su : from.u[k];
        return;
      case Lk::kBoxed:
        s.e[j] = from.Err(k);
        s.v[j] = from.scalar ? *from.sv : from.v[k];
        return;
    }
  }
  static void SetError(NodeScratch& s, Lk kind, size_t j) {
    if (kind == Lk::kBool) {
      s.b[j] = 1;
      return;
    }
    s.e[j] = 1;
    switch (kind) {
      case Lk::kInt:
        s.i[j] = 0;
        break;
      case Lk::kDouble:
        s.d[j] = 0;
        break;
      case Lk::kTime:
        s.t[j] = absl::Time();
        break;
      case Lk::kDur:
        s.u[j] = absl::Duration();
        break;
      case Lk::kBoxed:
        s.v[j] = Value::Error("");
        break;
      default:
        break;
    }
  }

  Lane Cond(int id, const PNode& p, const Sel& sel) {
    size_t n = sel.n;
    Lane c = Eval(p.kids[0], sel);
    Lane out = Out(id, p.lane, n);
    NodeScratch& s = scratch_[id];
    const PNode& t = plan_.nodes[p.kids[1]];
    const PNode& f = plan_.nodes[p.kids[2]];
    bool select = !c.scalar &&
                  (t.expensive || f.expensive || g_force_selection.load(std::memory_order_relaxed));
    if (!select) {
      Lane a = Eval(p.kids[1], sel);
      Lane b = Eval(p.kids[2], sel);
      if (p.lane == Lk::kDouble && !c.scalar) {
        double* od = s.d.data();
        uint8_t* oe = s.e.data();
        WithDouble(a, [&](auto av, auto ae) {
          WithDouble(b, [&](auto bv, auto be) {
            for (size_t j = 0; j < n; ++j) {
              uint8_t cj = c.b[j];
              od[j] = cj == 2 ? av[j] : bv[j];
              oe[j] = cj == 1 ? 1 : (cj == 2 ? ae[j] : be[j]);
              if (oe[j]) od[j] = 0;
            }
          });
        });
        return out;
      }
      if (p.lane == Lk::kInt && !c.scalar) {
        int64_t* oi = s.i.data();
        uint8_t* oe = s.e.data();
        WithInt(a, [&](auto av, auto ae) {
          WithInt(b, [&](auto bv, auto be) {
            for (size_t j = 0; j < n; ++j) {
              uint8_t cj = c.b[j];
              uint8_t err = cj == 1 ? 1 : (cj == 2 ? ae[j] : be[j]);
              int64_t v = cj == 2 ? av[j] : bv[j];
              oi[j] = err ? 0 : v;
              oe[j] = err;
            }
          });
        });
        return out;
      }
      if (p.lane == Lk::kBool && !c.scalar && !a.scalar && !b.scalar) {
        uint8_t* o = s.b.data();
        for (size_t j = 0; j < n; ++j) {
          uint8_t cj = c.b[j];
          o[j] = cj == 1 ? 1 : (cj == 2 ? a.b[j] : b.b[j]);
        }
        return out;
      }
      for (size_t j = 0; j < n; ++j) {
        uint8_t cj = c.scalar ? c.sb : c.b[j];
        if (cj == 1) {
          SetError(s, p.lane, j);
        } else {
          CopyAt(cj == 2 ? a : b, j, s, p.lane, j);
        }
      }
      return out;
    }
    uint32_t* ti = Buf(s.idx1, n);
    uint32_t* tp = Buf(s.pos1, n);
    uint32_t* fi = Buf(s.idx2, n);
    uint32_t* fp = Buf(s.pos2, n);
    size_t mt = Select(sel, ti, tp, [&](size_t j) { return c.b[j] == 2; });
    size_t mf = Select(sel, fi, fp, [&](size_t j) { return c.b[j] == 0; });
    for (size_t j = 0; j < n; ++j) {
      if (c.b[j] == 1) SetError(s, p.lane, j);
    }
    if (mt > 0) {
      Lane a = Eval(p.kids[1], Sel{sel.base, mt, ti});
      for (size_t k = 0; k < mt; ++k) CopyAt(a, k, s, p.lane, tp[k]);
    }
    if (mf > 0) {
      Lane b = Eval(p.kids[2], Sel{sel.base, mf, fi});
      for (size_t k = 0; k < mf; ++k) CopyAt(b, k, s, p.lane, fp[k]);
    }
    return out;
  }

  Lane Arith(int id, const PNode& p, const Sel& sel) {
    Lane a = Eval(p.kids[0], sel);
    Lane b = Eval(p.kids[1], sel);
    size_t n = sel.n;
    Lane out = Out(id, p.lane, n);
    NodeScratch& s = scratch_[id];
    if (p.lane == Lk::kDouble) {
      double* od = s.d.data();
      uint8_t* oe = s.e.data();
      WithDouble(a, [&](auto av, auto ae) {
        WithDouble(b, [&](auto bv, auto be) {
          switch (p.fn) {
            case kAdd:
              DArithLoop<DArith<kAdd>>(n, av, ae, bv, be, od, oe);
              break;
            case kSub:
              DArithLoop<DArith<kSub>>(n, av, ae, bv, be, od, oe);
              break;
            case kMul:
              DArithLoop<DArith<kMul>>(n, av, ae, bv, be, od, oe);
              break;
            default:
              DArithLoop<DArith<kDiv>>(n, av, ae, bv, be, od, oe);
              break;
          }
        });
      });
      return out;
    }
    int64_t* oi = s.i.data();
    uint8_t* oe = s.e.data();
    WithInt(a, [&](auto av, auto ae) {
      WithInt(b, [&](auto bv, auto be) {
        switch (p.fn) {
          case kAdd:
            IArithLoop<kAdd>(n, av, ae, bv, be, oi, oe);
            break;
          case kSub:
            IArithLoop<kSub>(n, av, ae, bv, be, oi, oe);
            break;
          case kMul:
            IArithLoop<kMul>(n, av, ae, bv, be, oi, oe);
            break;
          case kDiv:
            IArithLoop<kDiv>(n, av, ae, bv, be, oi, oe);
            break;
          default:
            IArithLoop<kMod>(n, av, ae, bv, be, oi, oe);
            break;
        }
      });
    });
    return out;
  }

  Lane Negate(int id, const PNode& p, const Sel& sel) {
    Lane a = Eval(p.kids[0], sel);
    size_t n = sel.n;
    Lane out = Out(id, p.lane, n);
    NodeScratch& s = scratch_[id];
    if (p.lane == Lk::kDouble) {
      WithDouble(a, [&](auto av, auto ae) {
        for (size_t j = 0; j < n; ++j) {
          s.d[j] = -av[j];
          s.e[j] = ae[j];
        }
      });
      return out;
    }
    WithInt(a, [&](auto av, auto ae) {
      for (size_t j = 0; j < n; ++j) {
        int64_t x = av[j];
        uint8_t err = ae[j] | (x == std::numeric_limits<int64_t>::min());
        s.i[j] = err ? 0 : -x;
        s.e[j] = err;
      }
    });
    return out;
  }

  Lane Compare(int id, const PNode& p, const Sel& sel) {
    Lane a = Eval(p.kids[0], sel);
    Lane b = Eval(p.kids[1], sel);
    size_t n = sel.n;
    Lane out = Out(id, Lk::kBool, n);
    uint8_t* o = scratch_[id].b.data();
    if (a.kind == Lk::kInt && b.kind == Lk::kInt) {
      WithCmp(p.fn, [&](auto cmp) {
        using C = decltype(cmp);
        WithInt(a, [&](auto av, auto ae) {
          WithInt(b, [&](auto bv, auto be) { CmpLoop<C>(n, av, ae, bv, be, o); });
        });
      });
      return out;
    }
    if ((a.kind == Lk::kInt || a.kind == Lk::kDouble) &&
        (b.kind == Lk::kInt || b.kind == Lk::kDouble)) {
      // int against double compares as double, as the row evaluator does.
      WithCmp(p.fn, [&](auto cmp) {
        using C = decltype(cmp);
        WithAsDouble(a, [&](auto av, auto ae) {
          WithAsDouble(b, [&](auto bv, auto be) { CmpLoop<C>(n, av, ae, bv, be, o); });
        });
      });
      return out;
    }
    // bool, timestamp, duration: a three-way comparison per row.
    for (size_t j = 0; j < n; ++j) {
      if (a.Err(j) || b.Err(j)) {
        o[j] = 1;
        continue;
      }
      int c = 0;
      switch (a.kind) {
        case Lk::kBool: {
          int x = (a.scalar ? a.sb : a.b[j]) == 2, y = (b.scalar ? b.sb : b.b[j]) == 2;
          c = x - y;
          break;
        }
        case Lk::kTime: {
          absl::Time x = a.scalar ? a.st : a.t[j], y = b.scalar ? b.st : b.t[j];
          c = x < y ? -1 : x > y;
          break;
        }
        default: {
          absl::Duration x = a.scalar ? a.su : a.u[j], y = b.scalar ? b.su : b.u[j];
          c = x < y ? -1 : x > y;
          break;
        }
      }
      bool r = false;
      switch (p.fn) {
        case kEq:
          r = c == 0;
          break;
        case kNe:
          r = c != 0;
          break;
        case kLt:
          r = c < 0;
          break;
        case kLe:
          r = c <= 0;
          break;
        case kGt:
          r = c > 0;
          break;
        default:
          r = c >= 0;
          break;
      }
      o[j] = r ? 2 : 0;
    }
    return out;
  }

  Lane Days(int id, const PNode& p, const Sel& sel) {
    const PNode& kid = plan_.nodes[p.kids[0]];
    if (kid.op == Op::kColumn && bv_.nodes[p.kids[0]].use == p.kids[0]) {
      return DaysOfColumn(id, p, *bv_.cols[kid.var], sel);
    }
    Lane a = Eval(p.kids[0], sel);
    size_t n = sel.n;
    Lane out = Out(id, Lk::kInt, n);
    NodeScratch& s = scratch_[id];
    for (size_t j = 0; j < n; ++j) {
      int64_t days = 0;
      bool ok = !a.Err(j);
      if (ok) {
        absl::Time t = a.scalar ? a.st : a.t[j];
        ok = p.fn == kDaysSince ? DaysBetween(t, ctx_.now, days) : DaysBetween(ctx_.now, t, days);
      }
      s.i[j] = ok ? days : 0;
      s.e[j] = !ok;
    }
    return out;
  }

  // days_since / days_until of a timestamp column (whole seconds) in integer arithmetic.
  // DaysBetween floors FDivDuration's double quotient, whose relative error is below
  // 4e-16: for differences under 2^38 s (8,700 years) that is under 0.1 ms, so the integer
  // floor is the same unless the difference lies within 1 ms of a whole day (then exact
  // multiples of a day, which the double quotient also gets exactly, are the only case
  // taken here; the rest goes through DaysBetween itself).
  Lane DaysOfColumn(int id, const PNode& p, const Column& c, const Sel& sel) {
    size_t n = sel.n;
    Lane out = Out(id, Lk::kInt, n);
    NodeScratch& s = scratch_[id];
    const absl::Time now = ctx_.now;
    const bool finite = now != absl::InfiniteFuture() && now != absl::InfinitePast();
    const int64_t now_s = finite ? absl::ToUnixSeconds(now) : 0;
    const int64_t now_ns =
        finite ? absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(now_s)) : 0;
    const bool since = p.fn == kDaysSince;
    constexpr int64_t kDayNs = int64_t{86400} * 1000000000;
    constexpr int64_t kMargin = 1000000;  // 1 ms
    constexpr int64_t kFar = int64_t{1} << 38;
    const bool fast_now = finite && now_s > -kFar && now_s < kFar;
    for (size_t j = 0; j < n; ++j) {
      size_t row = sel.Row(j);
      if (!c.valid.empty() && c.valid[row] == 0) {
        s.i[j] = 0;
        s.e[j] = 1;
        continue;
      }
      const int64_t ts = c.i64[row];
      if (fast_now && ts > -kFar && ts < kFar) {
        // to - from = sec seconds + ns nanoseconds, |ns| < 1 s.
        const int64_t sec = since ? now_s - ts : ts - now_s;
        const int64_t ns = since ? now_ns : -now_ns;
        int64_t q = sec / 86400, r = sec % 86400;
        if (r < 0) {
          r += 86400;
          --q;
        }
        int64_t rem = r * 1000000000 + ns;  // nanoseconds into day q
        if (rem < 0) {
          rem += kDayNs;
          --q;
        } else if (rem >= kDayNs) {
          rem -= kDayNs;
          ++q;
        }
        if (rem == 0 || (rem >= kMargin && rem <= kDayNs - kMargin)) {
          s.i[j] = q;
          s.e[j] = 0;
          continue;
        }
      }
      int64_t days = 0;
      absl::Time t = absl::FromUnixSeconds(ts);
      bool ok = since ? DaysBetween(t, now, days) : DaysBetween(now, t, days);
      s.i[j] = ok ? days : 0;
      s.e[j] = !ok;
    }
    return out;
  }

  Lane Convert(int id, const PNode& p, const Sel& sel) {
    Lane a = Eval(p.kids[0], sel);
    size_t n = sel.n;
    Lane out = Out(id, p.lane, n);
    NodeScratch& s = scratch_[id];
    if (p.op == Op::kIntToDouble) {
      WithInt(a, [&](auto av, auto ae) {
        for (size_t j = 0; j < n; ++j) {
          s.d[j] = static_cast<double>(av[j]);
          s.e[j] = ae[j];
        }
      });
      return out;
    }
    WithDouble(a, [&](auto av, auto ae) {
      for (size_t j = 0; j < n; ++j) {
        double d = av[j];
        // The row evaluator's int(): the open bounds exclude 2^63.
        uint8_t err = ae[j] | !(d > -9223372036854775808.0 && d < 9223372036854775808.0);
        s.i[j] = err ? 0 : static_cast<int64_t>(d);
        s.e[j] = err;
      }
    });
    return out;
  }

  const BoundVector& bv_;
  const VectorPlan& plan_;
  std::vector<NodeScratch> scratch_;
  std::vector<uint8_t> zeros_;
  FrameVars vars_;
  EvalContext ctx_;
  bool fallback_ = false;
};

}  // namespace

void RunVector(const BoundVector& bound, size_t begin, size_t end, size_t batch,
               ResultColumn& out) {
  Runner runner(bound, batch);
  for (size_t b = begin; b < end; b += batch) runner.Batch(b, std::min(end, b + batch), out);
}

}  // namespace cscore::cel::internal
