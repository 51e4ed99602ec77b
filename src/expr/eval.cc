// Row-at-a-time CEL evaluator and the standard function library.
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "expr/ast.h"
#include "re2/re2.h"

namespace cscore::cel::internal {
namespace {

Value NoOverload(std::string_view fn, const Value& a) {
  return Value::Error(
      absl::StrFormat("no matching overload for '%s' applied to (%s)", fn, KindName(a.kind())));
}
Value NoOverload(std::string_view fn, const Value& a, const Value& b) {
  return Value::Error(absl::StrFormat("no matching overload for '%s' applied to (%s, %s)", fn,
                                      KindName(a.kind()), KindName(b.kind())));
}
Value Overflow() { return Value::Error("integer overflow"); }

const absl::Time kMinTime = absl::FromUnixSeconds(-62135596800);  // 0001-01-01T00:00:00Z
const absl::Time kMaxTime =
    absl::FromUnixSeconds(253402300799) + absl::Nanoseconds(999999999);  // 9999-12-31
const absl::Duration kMaxDuration = absl::Seconds(315576000000) + absl::Nanoseconds(999999999);

Value CheckedTime(absl::Time t) {
  if (t < kMinTime || t > kMaxTime) return Value::Error("timestamp out of range");
  return Value::Timestamp(t);
}
Value CheckedDuration(absl::Duration d) {
  if (d > kMaxDuration || d < -kMaxDuration) return Value::Error("duration out of range");
  return Value::Duration(d);
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  for (int prec = 1; prec <= 17; ++prec) {
    std::string s = absl::StrFormat("%.*g", prec, d);
    if (std::strtod(s.c_str(), nullptr) == d) return s;
  }
  return absl::StrFormat("%.17g", d);
}

std::string FormatDurationCel(absl::Duration d) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  bool neg = ns < 0;
  uint64_t mag = neg ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string s = absl::StrFormat("%s%d", neg ? "-" : "", mag / 1000000000);
  if (uint64_t frac = mag % 1000000000; frac != 0) {
    std::string f = absl::StrFormat("%09d", frac);
    while (f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s + "s";
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool ParseZone(const std::string& name, absl::TimeZone& tz) {
  std::string s = name;
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s = s.substr(1);
  }
  int h = 0, m = 0;
  if (s.size() == 5 && s[2] == ':' && absl::SimpleAtoi(s.substr(0, 2), &h) &&
      absl::SimpleAtoi(s.substr(3, 2), &m)) {
    tz = absl::FixedTimeZone(sign * (h * 3600 + m * 60));
    return true;
  }
  return absl::LoadTimeZone(name, &tz);
}

Value TimeAccessor(int fn, const Value& t, const Value* zone) {
  if (t.kind() == Kind::kDuration) {
    absl::Duration d = t.duration_value();
    switch (fn) {
      case kGetHours:
        return Value::Int(absl::ToInt64Hours(d));
      case kGetMinutes:
        return Value::Int(absl::ToInt64Minutes(d));
      case kGetSeconds:
        return Value::Int(absl::ToInt64Seconds(d));
      case kGetMilliseconds:
        return Value::Int(absl::ToInt64Milliseconds(d) % 1000);
      default:
        return NoOverload("accessor", t);
    }
  }
  if (t.kind() != Kind::kTimestamp) return NoOverload("accessor", t);
  absl::TimeZone tz = absl::UTCTimeZone();
  if (zone != nullptr) {
    if (zone->kind() != Kind::kString) return NoOverload("accessor", t, *zone);
    if (!ParseZone(zone->string_value(), tz)) {
      return Value::Error("unknown time zone '" + zone->string_value() + "'");
    }
  }
  absl::TimeZone::CivilInfo ci = tz.At(t.timestamp_value());
  switch (fn) {
    case kGetFullYear:
      return Value::Int(ci.cs.year());
    case kGetMonth:
      return Value::Int(ci.cs.month() - 1);
    case kGetDayOfYear:
      return Value::Int(absl::GetYearDay(absl::CivilDay(ci.cs)) - 1);
    case kGetDayOfMonth:
      return Value::Int(ci.cs.day() - 1);
    case kGetDate:
      return Value::Int(ci.cs.day());
    case kGetDayOfWeek: {
      int wd = static_cast<int>(absl::GetWeekday(absl::CivilDay(ci.cs)));  // Monday == 0
      return Value::Int((wd + 1) % 7);
    }
    case kGetHours:
      return Value::Int(ci.cs.hour());
    case kGetMinutes:
      return Value::Int(ci.cs.minute());
    case kGetSeconds:
      return Value::Int(ci.cs.second());
    case kGetMilliseconds:
      return Value::Int(absl::ToInt64Milliseconds(ci.subsecond));
    default:
      return NoOverload("accessor", t);
  }
}

Value Add(const Value& a, const Value& b) {
  Kind k = a.kind();
  if (k != b.kind()) {
    if (k == Kind::kTimestamp && b.kind() == Kind::kDuration) {
      return CheckedTime(a.timestamp_value() + b.duration_value());
    }
    if (k == Kind::kDuration && b.kind() == Kind::kTimestamp) {
      return CheckedTime(b.timestamp_value() + a.duration_value());
    }
    return NoOverload("_+_", a, b);
  }
  switch (k) {
    case Kind::kInt: {
      int64_t r;
      if (__builtin_add_overflow(a.int_value(), b.int_value(), &r)) return Overflow();
      return Value::Int(r);
    }
    case Kind::kUint: {
      uint64_t r;
      if (__builtin_add_overflow(a.uint_value(), b.uint_value(), &r)) return Overflow();
      return Value::Uint(r);
    }
    case Kind::kDouble:
      return Value::Double(a.double_value() + b.double_value());
    case Kind::kString:
      return Value::String(a.string_value() + b.string_value());
    case Kind::kBytes:
      return Value::BytesOf(a.bytes_value() + b.bytes_value());
    case Kind::kList: {
      ValueList out = a.list_value();
      out.insert(out.end(), b.list_value().begin(), b.list_value().end());
      return Value::List(std::move(out));
    }
    case Kind::kDuration:
      return CheckedDuration(a.duration_value() + b.duration_value());
    default:
      return NoOverload("_+_", a, b);
  }
}

Value Arith(int fn, const Value& a, const Value& b) {
  if (fn == kAdd) return Add(a, b);
  const char* name = fn == kSub ? "_-_" : fn == kMul ? "_*_" : fn == kDiv ? "_/_" : "_%_";
  Kind k = a.kind();
  if (fn == kSub && k == Kind::kTimestamp) {
    if (b.kind() == Kind::kTimestamp) {
      // The difference must fit int64 nanoseconds (about 292 years), as in cel-spec's tests.
      absl::Duration d = a.timestamp_value() - b.timestamp_value();
      if (absl::AbsDuration(d) > absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
        return Value::Error("duration out of range");
      }
      return Value::Duration(d);
    }
    if (b.kind() == Kind::kDuration) return CheckedTime(a.timestamp_value() - b.duration_value());
  }
  if (k != b.kind()) return NoOverload(name, a, b);
  switch (k) {
    case Kind::kInt: {
      int64_t x = a.int_value(), y = b.int_value(), r;
      switch (fn) {
        case kSub:
          if (__builtin_sub_overflow(x, y, &r)) return Overflow();
          return Value::Int(r);
        case kMul:
          if (__builtin_mul_overflow(x, y, &r)) return Overflow();
          return Value::Int(r);
        case kDiv:
          if (y == 0) return Value::Error("divide by zero");
          if (x == std::numeric_limits<int64_t>::min() && y == -1) return Overflow();
          return Value::Int(x / y);
        default:
          if (y == 0) return Value::Error("modulus by zero");
          if (y == -1) return Value::Int(0);
          return Value::Int(x % y);
      }
    }
    case Kind::kUint: {
      uint64_t x = a.uint_value(), y = b.uint_value(), r;
      switch (fn) {
        case kSub:
          if (__builtin_sub_overflow(x, y, &r)) return Overflow();
          return Value::Uint(r);
        case kMul:
          if (__builtin_mul_overflow(x, y, &r)) return Overflow();
          return Value::Uint(r);
        case kDiv:
          if (y == 0) return Value::Error("divide by zero");
          return Value::Uint(x / y);
        default:
          if (y == 0) return Value::Error("modulus by zero");
          return Value::Uint(x % y);
      }
    }
    case Kind::kDouble: {
      double x = a.double_value(), y = b.double_value();
      switch (fn) {
        case kSub:
          return Value::Double(x - y);
        case kMul:
          return Value::Double(x * y);
        case kDiv:
          return Value::Double(x / y);
        default:
          return NoOverload(name, a, b);
      }
    }
    case Kind::kDuration:
      if (fn == kSub) return CheckedDuration(a.duration_value() - b.duration_value());
      return NoOverload(name, a, b);
    default:
      return NoOverload(name, a, b);
  }
}

bool IsNumber(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

Value Compare(int fn, const Value& a, const Value& b) {
  static const char* kNames[] = {"_<_", "_<=_", "_>_", "_>=_"};
  const char* name = kNames[fn - kLt];
  int c = 0;
  Kind k = a.kind();
  if (IsNumber(k) && IsNumber(b.kind())) {
    if (!NumericCompare(a, b, c)) return Value::Bool(false);  // NaN: every ordering is false
  } else if (k != b.kind()) {
    return NoOverload(name, a, b);
  } else {
    switch (k) {
      case Kind::kBool:
        c = int(a.bool_value()) - int(b.bool_value());
        break;
      case Kind::kString:
        c = a.string_value().compare(b.string_value());
        break;
      case Kind::kBytes:
        c = a.bytes_value().compare(b.bytes_value());
        break;
      case Kind::kTimestamp:
        c = a.timestamp_value() < b.timestamp_value() ? -1
                                                      : a.timestamp_value() > b.timestamp_value();
        break;
      case Kind::kDuration:
        c = a.duration_value() < b.duration_value() ? -1 : a.duration_value() > b.duration_value();
        break;
      default:
        return NoOverload(name, a, b);
    }
  }
  switch (fn) {
    case kLt:
      return Value::Bool(c < 0);
    case kLe:
      return Value::Bool(c <= 0);
    case kGt:
      return Value::Bool(c > 0);
    default:
      return Value::Bool(c >= 0);
  }
}

Value Index(const Value& a, const Value& i) {
  if (a.kind() == Kind::kList) {
    int64_t idx;
    if (i.kind() == Kind::kInt) {
      idx = i.int_value();
    } else if (i.kind() == Kind::kUint) {
      idx = i.uint_value() > uint64_t(INT64_MAX) ? -1 : static_cast<int64_t>(i.uint_value());
    } else if (i.kind() == Kind::kDouble && std::trunc(i.double_value()) == i.double_value() &&
               std::abs(i.double_value()) < 9e18) {
      idx = static_cast<int64_t>(i.double_value());
    } else {
      return Value::Error(
          absl::StrFormat("invalid_argument: list index of type %s", KindName(i.kind())));
    }
    const ValueList& l = a.list_value();
    if (idx < 0 || idx >= static_cast<int64_t>(l.size())) {
      return Value::Error(
          absl::StrFormat("invalid_argument: index %d out of range (size %d)", idx, l.size()));
    }
    return l[idx];
  }
  if (a.kind() == Kind::kMap) {
    if (const Value* v = a.Find(i)) return *v;
    return Value::Error("no such key: " + i.DebugString());
  }
  return NoOverload("_[_]", a, i);
}

Value In(const Value& e, const Value& c) {
  if (c.kind() == Kind::kList) {
    for (const Value& v : c.list_value()) {
      if (Equal(e, v)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (c.kind() == Kind::kMap) return Value::Bool(c.Find(e) != nullptr);
  return NoOverload("@in", e, c);
}

Value ToInt(const Value& v) {
  switch (v.kind()) {
    case Kind::kInt:
      return v;
    case Kind::kUint:
      if (v.uint_value() > uint64_t(INT64_MAX)) return Value::Error("int() argument out of range");
      return Value::Int(static_cast<int64_t>(v.uint_value()));
    case Kind::kDouble: {
      double d = v.double_value();
      // The open bounds exclude 2^63 itself, which is what int64 max rounds to.
      if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) {
        return Value::Error("int() argument out of range");
      }
      return Value::Int(static_cast<int64_t>(d));
    }
    case Kind::kString: {
      int64_t r;
      if (!absl::SimpleAtoi(v.string_value(), &r)) {
        return Value::Error("cannot convert '" + v.string_value() + "' to int");
      }
      return Value::Int(r);
    }
    case Kind::kTimestamp:
      return Value::Int(absl::ToUnixSeconds(v.timestamp_value()));
    default:
      return NoOverload("int", v);
  }
}

Value ToUint(const Value& v) {
  switch (v.kind()) {
    case Kind::kUint:
      return v;
    case Kind::kInt:
      if (v.int_value() < 0) return Value::Error("uint() argument out of range");
      return Value::Uint(static_cast<uint64_t>(v.int_value()));
    case Kind::kDouble: {
      double d = v.double_value();
      if (!(d > -1.0 && d < 18446744073709551616.0)) {
        return Value::Error("uint() argument out of range");
      }
      return Value::Uint(static_cast<uint64_t>(d));
    }
    case Kind::kString: {
      uint64_t r;
      if (!absl::SimpleAtoi(v.string_value(), &r)) {
        return Value::Error("cannot convert '" + v.string_value() + "' to uint");
      }
      return Value::Uint(r);
    }
    default:
      return NoOverload("uint", v);
  }
}

Value ToDouble(const Value& v) {
  switch (v.kind()) {
    case Kind::kDouble:
      return v;
    case Kind::kInt:
      return Value::Double(static_cast<double>(v.int_value()));
    case Kind::kUint:
      return Value::Double(static_cast<double>(v.uint_value()));
    case Kind::kString: {
      double d;
      if (!absl::SimpleAtod(v.string_value(), &d)) {
        return Value::Error("cannot convert '" + v.string_value() + "' to double");
      }
      return Value::Double(d);
    }
    default:
      return NoOverload("double", v);
  }
}

Value ToString(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return v;
    case Kind::kInt:
      return Value::String(absl::StrFormat("%d", v.int_value()));
    case Kind::kUint:
      return Value::String(absl::StrFormat("%d", v.uint_value()));
    case Kind::kDouble:
      return Value::String(FormatDouble(v.double_value()));
    case Kind::kBool:
      return Value::String(v.bool_value() ? "true" : "false");
    case Kind::kBytes:
      if (FindInvalidUtf8(v.bytes_value()) >= 0) {
        return Value::Error("string() of bytes with invalid UTF-8");
      }
      return Value::String(v.bytes_value());
    case Kind::kTimestamp:
      return Value::String(
          absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", v.timestamp_value(), absl::UTCTimeZone()));
    case Kind::kDuration:
      return Value::String(FormatDurationCel(v.duration_value()));
    default:
      return NoOverload("string", v);
  }
}

Value ToBool(const Value& v) {
  if (v.kind() == Kind::kBool) return v;
  if (v.kind() != Kind::kString) return NoOverload("bool", v);
  static const char* kTrue[] = {"1", "t", "true", "TRUE", "True"};
  static const char* kFalse[] = {"0", "f", "false", "FALSE", "False"};
  for (const char* s : kTrue) {
    if (v.string_value() == s) return Value::Bool(true);
  }
  for (const char* s : kFalse) {
    if (v.string_value() == s) return Value::Bool(false);
  }
  return Value::Error("type conversion error: cannot convert '" + v.string_value() + "' to bool");
}

Value ToTimestamp(const Value& v) {
  if (v.kind() == Kind::kTimestamp) return v;
  if (v.kind() == Kind::kInt) return CheckedTime(absl::FromUnixSeconds(v.int_value()));
  if (v.kind() != Kind::kString) return NoOverload("timestamp", v);
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &err)) {
    return Value::Error("timestamp(): cannot parse '" + v.string_value() + "': " + err);
  }
  return CheckedTime(t);
}

Value ToDuration(const Value& v) {
  if (v.kind() == Kind::kDuration) return v;
  if (v.kind() != Kind::kString) return NoOverload("duration", v);
  absl::Duration d;
  if (!absl::ParseDuration(v.string_value(), &d) || v.string_value() == "inf" ||
      v.string_value() == "-inf") {
    return Value::Error("duration(): cannot parse '" + v.string_value() + "'");
  }
  return CheckedDuration(d);
}

Value TypeOf(const Value& v) {
  if (v.kind() == Kind::kType) return Value::Type("type");
  return Value::Type(std::string(KindName(v.kind())));
}

Value Size(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return Value::Int(static_cast<int64_t>(Utf8Length(v.string_value())));
    case Kind::kBytes:
      return Value::Int(static_cast<int64_t>(v.bytes_value().size()));
    case Kind::kList:
      return Value::Int(static_cast<int64_t>(v.list_value().size()));
    case Kind::kMap:
      return Value::Int(static_cast<int64_t>(v.map_value().size()));
    default:
      return NoOverload("size", v);
  }
}

Value StringPred(int fn, const Value& a, const Value& b, const Node& n) {
  const char* name = fn == kContains     ? "contains"
                     : fn == kStartsWith ? "startsWith"
                     : fn == kEndsWith   ? "endsWith"
                                         : "matches";
  if (a.kind() != Kind::kString || b.kind() != Kind::kString) return NoOverload(name, a, b);
  const std::string& s = a.string_value();
  const std::string& p = b.string_value();
  switch (fn) {
    case kContains:
      return Value::Bool(s.find(p) != std::string::npos);
    case kStartsWith:
      return Value::Bool(s.starts_with(p));
    case kEndsWith:
      return Value::Bool(s.ends_with(p));
    default: {
      if (n.regex) return Value::Bool(RE2::PartialMatch(s, *n.regex));
      RE2 re(p, RE2::Quiet);
      if (!re.ok()) return Value::Error("invalid regular expression: " + re.error());
      return Value::Bool(RE2::PartialMatch(s, re));
    }
  }
}

Value Metric(int fn, const Node& n, const Value& days, const EvalContext& ctx) {
  const Node& m = *n.args[0];
  std::string metric = m.kind == NodeKind::kIdent           ? m.name
                       : m.constant.kind() == Kind::kString ? m.constant.string_value()
                                                            : "";
  if (metric.empty()) return Value::Error(n.name + "(): first argument must name a metric");
  if (days.kind() != Kind::kInt) return NoOverload(n.name, Value::String(metric), days);
  if (ctx.history == nullptr) return Value::Error(n.name + "(): no metric history supplied");
  if (days.int_value() <= 0 || days.int_value() > 100000) {
    return Value::Error(absl::StrFormat("%s(): window of %d days", n.name, days.int_value()));
  }
  WindowOp op = fn == kAvg     ? WindowOp::kMean
                : fn == kSum   ? WindowOp::kSum
                : fn == kTrend ? WindowOp::kTrend
                               : WindowOp::kPctChange;
  auto r = ctx.history->WindowAt(metric, op, static_cast<int>(days.int_value()), ctx.account);
  if (!r.ok()) return Value::Error(std::string(r.status().message()));
  if (std::isnan(*r)) {
    return Value::Error(absl::StrFormat("%s(%s, %d) is missing", n.name, metric, days.int_value()));
  }
  return Value::Double(*r);
}

// Strict functions: every argument is already evaluated and none is an error. Shared by the
// row evaluator and the vector evaluator's per-row calls, so both agree exactly.
Value ApplyStrictImpl(const Node& n, const Value* args, size_t argc, const EvalContext& ctx) {
  if (n.fn == kUnknownFn) return Value::Error("unbound function '" + n.name + "'");
  const Value& a = args[0];
  if (argc == 1) {
    switch (n.fn) {
      case kNeg:
        if (a.kind() == Kind::kInt) {
          if (a.int_value() == std::numeric_limits<int64_t>::min()) return Overflow();
          return Value::Int(-a.int_value());
        }
        if (a.kind() == Kind::kDouble) return Value::Double(-a.double_value());
        if (a.kind() == Kind::kDuration) return CheckedDuration(-a.duration_value());
        return NoOverload("-_", a);
      case kNot:
        if (a.kind() == Kind::kBool) return Value::Bool(!a.bool_value());
        return NoOverload("!_", a);
      case kSize:
        return Size(a);
      case kToInt:
        return ToInt(a);
      case kToUint:
        return ToUint(a);
      case kToDouble:
        return ToDouble(a);
      case kToString:
        return ToString(a);
      case kToBytes:
        if (a.kind() == Kind::kBytes) return a;
        if (a.kind() == Kind::kString) return Value::BytesOf(a.string_value());
        return NoOverload("bytes", a);
      case kToBool:
        return ToBool(a);
      case kToTimestamp:
        return ToTimestamp(a);
      case kToDuration:
        return ToDuration(a);
      case kType:
        return TypeOf(a);
      case kDyn:
        return a;
      case kGetFullYear:
      case kGetMonth:
      case kGetDayOfYear:
      case kGetDayOfMonth:
      case kGetDate:
      case kGetDayOfWeek:
      case kGetHours:
      case kGetMinutes:
      case kGetSeconds:
      case kGetMilliseconds:
        return TimeAccessor(n.fn, a, nullptr);
      case kDaysSince:
      case kDaysUntil: {
        if (a.kind() != Kind::kTimestamp) return NoOverload(n.name, a);
        int64_t days = 0;
        bool ok = n.fn == kDaysSince ? DaysBetween(a.timestamp_value(), ctx.now, days)
                                     : DaysBetween(ctx.now, a.timestamp_value(), days);
        if (!ok) return Value::Error(n.name + "(): the time lies outside the supported range");
        return Value::Int(days);
      }
      default:
        break;
    }
  } else if (argc == 2) {
    const Value& b = args[1];
    switch (n.fn) {
      case kAdd:
      case kSub:
      case kMul:
      case kDiv:
      case kMod:
        return Arith(n.fn, a, b);
      case kEq:
        return Value::Bool(Equal(a, b));
      case kNe:
        return Value::Bool(!Equal(a, b));
      case kLt:
      case kLe:
      case kGt:
      case kGe:
        return Compare(n.fn, a, b);
      case kIndex:
        return Index(a, b);
      case kIn:
        return In(a, b);
      case kContains:
      case kStartsWith:
      case kEndsWith:
      case kMatches:
        return StringPred(n.fn, a, b, n);
      case kGetFullYear:
      case kGetMonth:
      case kGetDayOfYear:
      case kGetDayOfMonth:
      case kGetDate:
      case kGetDayOfWeek:
      case kGetHours:
      case kGetMinutes:
      case kGetSeconds:
      case kGetMilliseconds:
        return TimeAccessor(n.fn, a, &b);
      default:
        break;
    }
  }
  return Value::Error(
      absl::StrFormat("no matching overload for '%s' with %d arguments", n.name, argc));
}
// Map keys (int, uint, string, bool) in a form where equal CEL keys are equal strings.
std::string CanonicalKey(const Value& k) {
  switch (k.kind()) {
    case Kind::kInt:
      if (k.int_value() < 0) return absl::StrFormat("-%d", k.int_value());
      return absl::StrFormat("n%d", k.int_value());
    case Kind::kUint:
      return absl::StrFormat("n%d", k.uint_value());
    case Kind::kBool:
      return k.bool_value() ? "t" : "f";
    default:
      return "s" + k.string_value();
  }
}

struct Frame {
  std::string_view name;
  const Value* value;
};

class Evaluator {
 public:
  Evaluator(const Variables& vars, const EvalContext& ctx) : vars_(vars), ctx_(ctx) {}

  Value Eval(const Node& n) {
    switch (n.kind) {
      case NodeKind::kConst:
        return n.constant;
      case NodeKind::kIdent:
        return Ident(n);
      case NodeKind::kSelect: {
        Value m = Eval(*n.args[0]);
        if (m.is_error()) return m;
        if (m.kind() != Kind::kMap) {
          return Value::Error(
              absl::StrFormat("cannot select field '%s' from %s", n.name, KindName(m.kind())));
        }
        const Value* v = m.Find(Value::String(n.name));
        if (n.test_only) return Value::Bool(v != nullptr);
        if (v == nullptr) return Value::Error("no such key: '" + n.name + "'");
        return *v;
      }
      case NodeKind::kList: {
        if (!Charge(n.args.size())) return BudgetError();
        ValueList out;
        out.reserve(n.args.size());
        for (const auto& a : n.args) {
          out.push_back(Eval(*a));
          if (out.back().is_error()) return out.back();
        }
        return Value::List(std::move(out));
      }
      case NodeKind::kMap: {
        if (!Charge(n.args.size())) return BudgetError();
        ValueMap out;
        absl::flat_hash_set<std::string> seen;
        for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
          Value k = Eval(*n.args[i]);
          if (k.is_error()) return k;
          Kind kk = k.kind();
          if (kk != Kind::kInt && kk != Kind::kUint && kk != Kind::kString && kk != Kind::kBool) {
            return Value::Error(absl::StrFormat("unsupported map key type %s", KindName(kk)));
          }
          Value v = Eval(*n.args[i + 1]);
          if (v.is_error()) return v;
          // A hash of canonical keys keeps a large literal linear (1 == 1u: same key).
          if (!seen.insert(CanonicalKey(k)).second) {
            return Value::Error("duplicate map key " + k.DebugString());
          }
          out.emplace_back(std::move(k), std::move(v));
        }
        return Value::Map(std::move(out));
      }
      case NodeKind::kComprehension:
        return Comprehension(n);
      case NodeKind::kCall:
        return Call(n);
    }
    return Value::Error("unreachable");
  }

 private:
  Value Ident(const Node& n) {
    for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
      if (it->name == n.name) return *it->value;
    }
    if (n.var >= 0) return vars_.Get(n);
    if (n.name == "now") return Value::Timestamp(ctx_.now);
    static const char* kTypes[] = {"int",   "uint", "double", "bool",      "string",
                                   "bytes", "list", "map",    "null_type", "type"};
    for (const char* t : kTypes) {
      if (n.name == t) return Value::Type(t);
    }
    return Value::Error("undeclared reference to '" + n.name + "'");
  }

  Value Logic(const Node& n, bool is_and) {
    Value l = Eval(*n.args[0]);
    if (l.kind() == Kind::kBool && l.bool_value() != is_and) return l;
    Value r = Eval(*n.args[1]);
    if (r.kind() == Kind::kBool && r.bool_value() != is_and) return r;
    if (l.kind() == Kind::kBool && r.kind() == Kind::kBool) return l;
    if (l.is_error()) return l;
    if (r.is_error()) return r;
    return NoOverload(is_and ? "_&&_" : "_||_", l, r);
  }

  // Each outermost macro gets its own budget, so an expression evaluated as a whole (rows)
  // and in parts (the vector path runs each macro on its own) errs on exactly the same rows.
  Value Comprehension(const Node& n) {
    if (comp_depth_ == 0) {
      budget_ = kEvalBudget;
      exhausted_ = false;
    }
    ++comp_depth_;
    Value r = ComprehensionBody(n);
    --comp_depth_;
    if (comp_depth_ == 0 && exhausted_) return BudgetError();
    return r;
  }

  Value ComprehensionBody(const Node& n) {
    Value range = Eval(*n.args[0]);
    if (range.is_error()) return range;
    ValueList keys;
    const ValueList* items;
    if (range.kind() == Kind::kList) {
      items = &range.list_value();
    } else if (range.kind() == Kind::kMap) {
      for (const auto& kv : range.map_value()) keys.push_back(kv.first);
      items = &keys;
    } else {
      return Value::Error(absl::StrFormat("%s() over %s", n.macro == Macro::kAll ? "all" : "macro",
                                          KindName(range.kind())));
    }
    ValueList out;
    int64_t count = 0;
    Value pending;  // first error seen by all/exists, returned unless another element decides
    bool has_pending = false;
    for (const Value& item : *items) {
      if (!Charge(1)) return BudgetError();
      scope_.push_back({n.name, &item});
      // map(x, filter, transform) only transforms the elements the filter keeps.
      Value keep = Value::Bool(true);
      if (n.macro == Macro::kMap && n.args.size() == 3) keep = Eval(*n.args[2]);
      Value v;
      if (keep.kind() == Kind::kBool && keep.bool_value()) v = Eval(*n.args[1]);
      scope_.pop_back();
      switch (n.macro) {
        case Macro::kAll:
        case Macro::kExists: {
          bool decisive = n.macro == Macro::kExists;
          if (v.kind() == Kind::kBool) {
            if (v.bool_value() == decisive) return v;
          } else if (!has_pending) {
            pending = v.is_error() ? v : NoOverload(decisive ? "exists" : "all", v);
            has_pending = true;
          }
          break;
        }
        case Macro::kExistsOne:
          if (v.kind() != Kind::kBool) return v.is_error() ? v : NoOverload("exists_one", v);
          count += v.bool_value();
          break;
        case Macro::kFilter:
          if (v.kind() != Kind::kBool) return v.is_error() ? v : NoOverload("filter", v);
          if (v.bool_value()) out.push_back(item);
          break;
        case Macro::kMap:
          if (keep.kind() != Kind::kBool) return keep.is_error() ? keep : NoOverload("map", keep);
          if (!keep.bool_value()) break;
          if (v.is_error()) return v;
          out.push_back(std::move(v));
          break;
        case Macro::kNone:
          break;
      }
    }
    switch (n.macro) {
      case Macro::kAll:
      case Macro::kExists:
        if (has_pending) return pending;
        return Value::Bool(n.macro == Macro::kAll);
      case Macro::kExistsOne:
        return Value::Bool(count == 1);
      default:
        return Value::List(std::move(out));
    }
  }

  Value Call(const Node& n) {
    switch (n.fn) {
      case kAnd:
        return Logic(n, true);
      case kOr:
        return Logic(n, false);
      case kCond: {
        Value c = Eval(*n.args[0]);
        if (c.is_error()) return c;
        if (c.kind() != Kind::kBool) return NoOverload("_?_:_", c);
        return Eval(*n.args[c.bool_value() ? 1 : 2]);
      }
      case kAvg:
      case kSum:
      case kTrend:
      case kPctChange: {
        if (n.args.size() != 2) return Value::Error(n.name + "() takes (metric, days)");
        Value days = Eval(*n.args[1]);
        if (days.is_error()) return days;
        return Metric(n.fn, n, days, ctx_);
      }
      default:
        break;
    }
    Value args[3];
    size_t argc = n.args.size();
    if (argc > 3) return Value::Error("no matching overload for '" + n.name + "'");
    for (size_t i = 0; i < argc; ++i) {
      args[i] = Eval(*n.args[i]);
      if (args[i].is_error()) return args[i];
    }
    if (n.fn == kAdd && argc == 2 && !Charge(ConcatCost(args[0]) + ConcatCost(args[1]))) {
      return BudgetError();
    }
    return ApplyStrictImpl(n, args, argc, ctx_);
  }

  const Variables& vars_;
  const EvalContext& ctx_;
  std::vector<Frame> scope_;
  int comp_depth_ = 0;
  uint64_t budget_ = kEvalBudget;
  bool exhausted_ = false;

  // Macros cannot loop, but nested comprehensions multiply and concatenation inside them
  // grows; the budget keeps one macro's work and memory bounded. Outside macros the work is
  // bounded by the size of the expression.
  bool Charge(uint64_t units) {
    if (comp_depth_ == 0) return true;
    if (exhausted_ || units > budget_) {
      exhausted_ = true;
      budget_ = 0;
      return false;
    }
    budget_ -= units;
    return true;
  }
  static uint64_t ConcatCost(const Value& v) {
    switch (v.kind()) {
      case Kind::kString:
        return v.string_value().size() / 16;
      case Kind::kBytes:
        return v.bytes_value().size() / 16;
      case Kind::kList:
        return v.list_value().size();
      default:
        return 0;
    }
  }
  static Value BudgetError() {
    return Value::Error(absl::StrFormat("evaluation exceeded its budget of %d steps", kEvalBudget));
  }
};

}  // namespace

int FunctionId(std::string_view name) {
  static const std::pair<const char*, int> kFns[] = {{"_+_", kAdd},
                                                     {"_-_", kSub},
                                                     {"_*_", kMul},
                                                     {"_/_", kDiv},
                                                     {"_%_", kMod},
                                                     {"-_", kNeg},
                                                     {"!_", kNot},
                                                     {"_&&_", kAnd},
                                                     {"_||_", kOr},
                                                     {"_?_:_", kCond},
                                                     {"_==_", kEq},
                                                     {"_!=_", kNe},
                                                     {"_<_", kLt},
                                                     {"_<=_", kLe},
                                                     {"_>_", kGt},
                                                     {"_>=_", kGe},
                                                     {"_[_]", kIndex},
                                                     {"@in", kIn},
                                                     {"size", kSize},
                                                     {"contains", kContains},
                                                     {"startsWith", kStartsWith},
                                                     {"endsWith", kEndsWith},
                                                     {"matches", kMatches},
                                                     {"int", kToInt},
                                                     {"uint", kToUint},
                                                     {"double", kToDouble},
                                                     {"string", kToString},
                                                     {"bytes", kToBytes},
                                                     {"bool", kToBool},
                                                     {"timestamp", kToTimestamp},
                                                     {"duration", kToDuration},
                                                     {"type", kType},
                                                     {"dyn", kDyn},
                                                     {"getFullYear", kGetFullYear},
                                                     {"getMonth", kGetMonth},
                                                     {"getDayOfYear", kGetDayOfYear},
                                                     {"getDayOfMonth", kGetDayOfMonth},
                                                     {"getDate", kGetDate},
                                                     {"getDayOfWeek", kGetDayOfWeek},
                                                     {"getHours", kGetHours},
                                                     {"getMinutes", kGetMinutes},
                                                     {"getSeconds", kGetSeconds},
                                                     {"getMilliseconds", kGetMilliseconds},
                                                     {"avg", kAvg},
                                                     {"sum", kSum},
                                                     {"trend", kTrend},
                                                     {"pct_change", kPctChange},
                                                     {"days_since", kDaysSince},
                                                     {"days_until", kDaysUntil}};
  for (const auto& [n, id] : kFns) {
    if (name == n) return id;
  }
  return kUnknownFn;
}

bool DaysBetween(absl::Time from, absl::Time to, int64_t& days) {
  // Whole days, rounded down, so a timestamp earlier today is 0 days since and a due date
  // later today 0 days until. `now` comes from the caller and may be infinite.
  double q = std::floor(absl::FDivDuration(to - from, absl::Hours(24)));
  if (!(q > -1e15 && q < 1e15)) return false;
  days = static_cast<int64_t>(q);
  return true;
}

Value ApplyStrict(const Node& n, const Value* args, size_t argc, const EvalContext& ctx) {
  return ApplyStrictImpl(n, args, argc, ctx);
}

Value Evaluate(const Node& root, const Variables& vars, const EvalContext& ctx) {
  Evaluator e(vars, ctx);
  return e.Eval(root);
}

}  // namespace cscore::cel::internal
