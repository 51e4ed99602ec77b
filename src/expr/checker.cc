// Static checking: resolves names and functions, infers result kinds, and reports unknown
// identifiers and operand type mismatches at compile time with their position.
#include <initializer_list>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "expr/ast.h"
#include "re2/re2.h"

namespace cscore::cel::internal {
namespace {

bool IsNumber(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }
bool IsTypeName(std::string_view s) {
  return s == "int" || s == "uint" || s == "double" || s == "bool" || s == "string" ||
         s == "bytes" || s == "list" || s == "map" || s == "null_type" || s == "type";
}

class Checker {
 public:
  Checker(std::string_view source, const Environment& env, std::vector<std::string>& vars)
      : source_(source), env_(env), vars_(vars), check_(!env.check_disabled()) {}

  absl::Status Run(Node& root) {
    Visit(root);
    return status_;
  }

 private:
  void Error(const Node& n, std::string msg) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(FormatError(source_, n.pos, msg));
  }
  void TypeError(const Node& n, std::string msg) {
    if (check_) Error(n, std::move(msg));
  }
  int VarIndex(const std::string& name) {
    auto [it, inserted] = var_index_.try_emplace(name, static_cast<int>(vars_.size()));
    if (inserted) vars_.push_back(name);
    return it->second;
  }

  void Visit(Node& n) {
    if (!status_.ok()) return;
    switch (n.kind) {
      case NodeKind::kConst:
        n.type = n.constant.kind();
        return;
      case NodeKind::kIdent:
        Ident(n);
        return;
      case NodeKind::kSelect: {
        Visit(*n.args[0]);
        Kind k = n.args[0]->type;
        if (k != Kind::kDyn && k != Kind::kMap) {
          TypeError(n, absl::StrFormat("cannot select field '%s' from a value of type %s", n.name,
                                       KindName(k)));
        }
        n.type = n.test_only ? Kind::kBool : Kind::kDyn;
        return;
      }
      case NodeKind::kList:
      case NodeKind::kMap:
        for (auto& a : n.args) Visit(*a);
        n.type = n.kind == NodeKind::kList ? Kind::kList : Kind::kMap;
        return;
      case NodeKind::kComprehension: {
        Visit(*n.args[0]);
        Kind k = n.args[0]->type;
        if (k != Kind::kDyn && k != Kind::kList && k != Kind::kMap) {
          TypeError(n, absl::StrFormat("macro needs a list or map, not %s", KindName(k)));
        }
        scope_.push_back(n.name);
        for (size_t i = 1; i < n.args.size(); ++i) Visit(*n.args[i]);
        scope_.pop_back();
        if (n.macro != Macro::kMap) {
          Kind p = n.args[1]->type;
          if (p != Kind::kDyn && p != Kind::kBool) {
            TypeError(*n.args[1], absl::StrFormat("predicate must be bool, not %s", KindName(p)));
          }
        }
        n.type = (n.macro == Macro::kMap || n.macro == Macro::kFilter) ? Kind::kList : Kind::kBool;
        return;
      }
      case NodeKind::kCall:
        Call(n);
        return;
    }
  }

  void Ident(Node& n) {
    for (const auto& s : scope_) {
      if (s == n.name) {
        n.type = Kind::kDyn;
        return;
      }
    }
    if (auto it = env_.variables().find(n.name); it != env_.variables().end()) {
      n.var = VarIndex(n.name);
      n.type = it->second;
      return;
    }
    if (n.name == "now") {
      n.type = Kind::kTimestamp;
      return;
    }
    if (IsTypeName(n.name)) {
      n.type = Kind::kType;
      return;
    }
    if (!check_) {
      // Unchecked expressions look any other name up in the activation at run time.
      n.var = VarIndex(n.name);
      return;
    }
    if (env_.metrics().contains(n.name)) {
      Error(n, "metric '" + n.name + "' can only be used inside avg/sum/trend/pct_change");
      return;
    }
    Error(n, "undeclared reference to '" + n.name + "'");
  }

  void Call(Node& n) {
    n.fn = FunctionId(n.name);
    bool metric_fn = n.fn == kAvg || n.fn == kSum || n.fn == kTrend || n.fn == kPctChange;
    if (metric_fn) {
      if (n.args.size() != 2) {
        Error(n, n.name + "() takes (metric, days)");
        return;
      }
      Node& m = *n.args[0];
      bool named = m.kind == NodeKind::kIdent ||
                   (m.kind == NodeKind::kConst && m.constant.kind() == Kind::kString);
      if (!named) {
        Error(m, n.name + "(): the first argument must name a metric");
        return;
      }
      std::string name = m.kind == NodeKind::kIdent ? m.name : m.constant.string_value();
      if (check_ && !env_.metrics().contains(name)) {
        Error(m, "unknown metric '" + name + "'");
        return;
      }
      Visit(*n.args[1]);
      Expect(*n.args[1], Kind::kInt, n.name);
      n.type = Kind::kDouble;
      return;
    }
    for (auto& a : n.args) Visit(*a);
    if (!status_.ok()) return;
    if (n.fn == kUnknownFn) {
      TypeError(n, "undeclared function '" + n.name + "'");
      return;
    }
    Kind a = n.args.empty() ? Kind::kDyn : n.args[0]->type;
    Kind b = n.args.size() > 1 ? n.args[1]->type : Kind::kDyn;
    bool known = a != Kind::kDyn && b != Kind::kDyn;
    if (!Overload(n)) return;
    switch (n.fn) {
      case kAdd:
      case kSub:
      case kMul:
      case kDiv:
      case kMod:
        n.type = Arith(n, a, b);
        return;
      case kNeg:
        if (a != Kind::kDyn && a != Kind::kInt && a != Kind::kDouble && a != Kind::kDuration) {
          TypeError(n,
                    absl::StrFormat("no matching overload for '-_' applied to (%s)", KindName(a)));
        }
        n.type = a;
        return;
      case kNot:
        Expect(*n.args[0], Kind::kBool, "!_");
        n.type = Kind::kBool;
        return;
      case kAnd:
      case kOr:
        Expect(*n.args[0], Kind::kBool, n.name);
        Expect(*n.args[1], Kind::kBool, n.name);
        n.type = Kind::kBool;
        return;
      case kCond: {
        Expect(*n.args[0], Kind::kBool, "_?_:_");
        Kind t1 = n.args[1]->type, t2 = n.args[2]->type;
        n.type = t1 == t2 ? t1 : Kind::kDyn;
        return;
      }
      case kEq:
      case kNe:
        // Numbers compare across int, uint and double; null compares with anything.
        if (known && a != b && !(IsNumber(a) && IsNumber(b)) && a != Kind::kNull &&
            b != Kind::kNull) {
          TypeError(n, absl::StrFormat("no matching overload for '%s' applied to (%s, %s)", n.name,
                                       KindName(a), KindName(b)));
        }
        n.type = Kind::kBool;
        return;
      case kIn:
        if (b != Kind::kDyn && b != Kind::kList && b != Kind::kMap) {
          TypeError(n,
                    absl::StrFormat("'in' needs a list or map on its right, not %s", KindName(b)));
        }
        n.type = Kind::kBool;
        return;
      case kLt:
      case kLe:
      case kGt:
      case kGe:
        if (known && a != b && !(IsNumber(a) && IsNumber(b))) {
          TypeError(n, absl::StrFormat("no matching overload for '%s' applied to (%s, %s)", n.name,
                                       KindName(a), KindName(b)));
        }
        n.type = Kind::kBool;
        return;
      case kIndex:
        if (a != Kind::kDyn && a != Kind::kList && a != Kind::kMap) {
          TypeError(n, absl::StrFormat("cannot index a value of type %s", KindName(a)));
        }
        n.type = Kind::kDyn;
        return;
      case kSize:
        n.type = Kind::kInt;
        return;
      case kContains:
      case kStartsWith:
      case kEndsWith:
      case kMatches:
        if (n.args.size() == 2) {
          Expect(*n.args[0], Kind::kString, n.name);
          Expect(*n.args[1], Kind::kString, n.name);
        }
        if (n.fn == kMatches && n.args.size() == 2 && n.args[1]->kind == NodeKind::kConst &&
            n.args[1]->constant.kind() == Kind::kString) {
          auto re = std::make_shared<RE2>(n.args[1]->constant.string_value(), RE2::Quiet);
          if (!re->ok()) {
            Error(*n.args[1], "invalid regular expression: " + re->error());
            return;
          }
          n.regex = std::move(re);
        }
        n.type = Kind::kBool;
        return;
      case kToInt:
        n.type = Kind::kInt;
        return;
      case kToUint:
        n.type = Kind::kUint;
        return;
      case kToDouble:
        n.type = Kind::kDouble;
        return;
      case kToString:
        n.type = Kind::kString;
        return;
      case kToBytes:
        n.type = Kind::kBytes;
        return;
      case kToBool:
        n.type = Kind::kBool;
        return;
      case kToTimestamp:
        n.type = Kind::kTimestamp;
        return;
      case kToDuration:
        n.type = Kind::kDuration;
        return;
      case kType:
        n.type = Kind::kType;
        return;
      case kDyn:
        n.type = Kind::kDyn;
        return;
      case kDaysSince:
      case kDaysUntil:
        if (n.args.size() == 1) Expect(*n.args[0], Kind::kTimestamp, n.name);
        n.type = Kind::kInt;
        return;
      default:
        n.type = Kind::kInt;  // timestamp and duration accessors
        return;
    }
  }

  // Argument count and argument kinds of the fixed-signature functions; false (with the
  // error recorded when checking) when no overload can match.
  bool Overload(const Node& n) {
    using K = Kind;
    auto argc = n.args.size();
    auto count = [&](std::initializer_list<size_t> allowed) {
      for (size_t c : allowed) {
        if (c == argc) return true;
      }
      TypeError(n, absl::StrFormat("no matching overload for '%s' with %d argument%s", n.name, argc,
                                   argc == 1 ? "" : "s"));
      return false;
    };
    auto kinds = [&](size_t i, std::initializer_list<Kind> allowed) {
      Kind k = n.args[i]->type;
      if (k == K::kDyn) return true;
      for (Kind a : allowed) {
        if (a == k) return true;
      }
      TypeError(*n.args[i], absl::StrFormat("no matching overload for '%s' applied to %s", n.name,
                                            KindName(k)));
      return false;
    };
    switch (n.fn) {
      case kNeg:
      case kNot:
        return count({1});
      case kSize:
        return count({1}) && kinds(0, {K::kString, K::kBytes, K::kList, K::kMap});
      case kToInt:
        return count({1}) && kinds(0, {K::kInt, K::kUint, K::kDouble, K::kString, K::kTimestamp});
      case kToUint:
        return count({1}) && kinds(0, {K::kInt, K::kUint, K::kDouble, K::kString});
      case kToDouble:
        return count({1}) && kinds(0, {K::kInt, K::kUint, K::kDouble, K::kString});
      case kToString:
        return count({1}) && kinds(0, {K::kInt, K::kUint, K::kDouble, K::kString, K::kBool,
                                       K::kBytes, K::kTimestamp, K::kDuration});
      case kToBytes:
        return count({1}) && kinds(0, {K::kBytes, K::kString});
      case kToBool:
        return count({1}) && kinds(0, {K::kBool, K::kString});
      case kToTimestamp:
        return count({1}) && kinds(0, {K::kTimestamp, K::kString, K::kInt});
      case kToDuration:
        return count({1}) && kinds(0, {K::kDuration, K::kString});
      case kType:
      case kDyn:
        return count({1});
      case kDaysSince:
      case kDaysUntil:
        return count({1}) && kinds(0, {K::kTimestamp});
      case kContains:
      case kStartsWith:
      case kEndsWith:
      case kMatches:
        return count({2});
      case kGetHours:
      case kGetMinutes:
      case kGetSeconds:
      case kGetMilliseconds:
        if (!count({1, 2})) return false;
        if (argc == 2) return kinds(0, {K::kTimestamp}) && kinds(1, {K::kString});
        return kinds(0, {K::kTimestamp, K::kDuration});
      case kGetFullYear:
      case kGetMonth:
      case kGetDayOfYear:
      case kGetDayOfMonth:
      case kGetDate:
      case kGetDayOfWeek:
        if (!count({1, 2})) return false;
        if (argc == 2 && !kinds(1, {K::kString})) return false;
        return kinds(0, {K::kTimestamp});
      default:
        return true;
    }
  }

  Kind Arith(Node& n, Kind a, Kind b) {
    if (a == Kind::kDyn || b == Kind::kDyn) return Kind::kDyn;
    if (a == b) {
      bool ok = n.fn == kMod   ? (a == Kind::kInt || a == Kind::kUint)
                : n.fn == kAdd ? (IsNumber(a) || a == Kind::kString || a == Kind::kBytes ||
                                  a == Kind::kList || a == Kind::kDuration)
                : n.fn == kSub ? (IsNumber(a) || a == Kind::kDuration || a == Kind::kTimestamp)
                               : IsNumber(a);
      if (ok) return a == Kind::kTimestamp ? Kind::kDuration : a;
    } else if (n.fn == kAdd && ((a == Kind::kTimestamp && b == Kind::kDuration) ||
                                (a == Kind::kDuration && b == Kind::kTimestamp))) {
      return Kind::kTimestamp;
    } else if (n.fn == kSub && a == Kind::kTimestamp && b == Kind::kDuration) {
      return Kind::kTimestamp;
    }
    TypeError(n, absl::StrFormat("no matching overload for '%s' applied to (%s, %s)", n.name,
                                 KindName(a), KindName(b)));
    return Kind::kDyn;
  }

  void Expect(const Node& arg, Kind want, std::string_view fn) {
    if (arg.type != Kind::kDyn && arg.type != want) {
      TypeError(arg, absl::StrFormat("'%s' expects %s here, found %s", fn, KindName(want),
                                     KindName(arg.type)));
    }
  }

  std::string_view source_;
  const Environment& env_;
  std::vector<std::string>& vars_;
  bool check_;
  std::vector<std::string> scope_;
  absl::flat_hash_map<std::string, int> var_index_;
  absl::Status status_;
};

}  // namespace

absl::Status Check(std::string_view source, const Environment& env, Node& root,
                   std::vector<std::string>& vars) {
  Checker c(source, env, vars);
  return c.Run(root);
}

}  // namespace cscore::cel::internal
