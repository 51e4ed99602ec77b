// Row evaluation semantics and the type checker: operators, errors, macros, strings and
// RE2, conversions, timestamps and durations, and the customer-success functions.
#include <cmath>
#include <limits>
#include <string>

#include "cscore/expr/cel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore::cel {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

Environment Env() {
  Environment env;
  env.Declare("logins_30d", Kind::kDouble)
      .Declare("seats", Kind::kInt)
      .Declare("segment", Kind::kString)
      .Declare("churned", Kind::kBool)
      .Declare("renewal", Kind::kTimestamp)
      .DeclareMetric("logins");
  return env;
}

Value Eval(std::string_view src, const Activation& act = {},
           const EvalContext& ctx = {.now = kNow}) {
  auto p = Compile(src, Env());
  if (!p.ok()) return Value::Error("compile: " + std::string(p.status().message()));
  return p->Evaluate(act, ctx);
}

// The expression must evaluate to true.
void ExpectTrue(std::string_view src, const Activation& act = {}) {
  Value v = Eval(src, act);
  ASSERT_EQ(v.kind(), Kind::kBool) << src << " gave " << v.DebugString();
  EXPECT_TRUE(v.bool_value()) << src;
}

// The expression must compile and evaluate to an error mentioning `what`.
void ExpectError(std::string_view src, std::string_view what, const Activation& act = {}) {
  auto p = Compile(src, Env());
  ASSERT_TRUE(p.ok()) << src << ": " << p.status();
  Value v = p->Evaluate(act, {.now = kNow});
  ASSERT_TRUE(v.is_error()) << src << " gave " << v.DebugString();
  EXPECT_THAT(v.error_message(), HasSubstr(what)) << src;
}

std::string CompileError(std::string_view src, const Environment& env = Env()) {
  auto p = Compile(src, env);
  if (p.ok()) return "<compiled>";
  return std::string(p.status().message());
}

TEST(Ints, CheckedOverflowIsAnError) {
  ExpectError("9223372036854775807 + 1", "integer overflow");
  ExpectError("-9223372036854775808 - 1", "integer overflow");
  ExpectError("4611686018427387904 * 2", "integer overflow");
  ExpectError("-(-9223372036854775808)", "integer overflow");
  ExpectError("-9223372036854775808 / -1", "integer overflow");
  ExpectError("0u - 1u", "integer overflow");
  ExpectError("18446744073709551615u + 1u", "integer overflow");
  ExpectTrue("9223372036854775807 - 1 == 9223372036854775806");
}

TEST(Ints, DivisionAndModulus) {
  ExpectError("1 / 0", "divide by zero");
  ExpectError("1 % 0", "modulus by zero");
  ExpectError("1u / 0u", "divide by zero");
  ExpectTrue("-7 / 2 == -3 && -7 % 3 == -1 && 7 % -3 == 1");
  ExpectTrue("-9223372036854775808 % -1 == 0");
  ExpectTrue("7u / 2u == 3u && 7u % 4u == 3u");
}

TEST(Numbers, MixedKindsCompareByValueButDoNotMix) {
  ExpectTrue("1 == 1.0 && 1u == 1 && 2 > 1.5 && 1u < 2 && -1 < 1u");
  ExpectTrue("9223372036854775807 < 18446744073709551615u");
  EXPECT_THAT(CompileError("1 + 1u"),
              HasSubstr("no matching overload for '_+_' applied to (int, uint)"));
  EXPECT_THAT(CompileError("1 + 1.0"), HasSubstr("(int, double)"));
}

TEST(Doubles, IeeeSemantics) {
  ExpectTrue("1.0 / 0.0 > 1e308 && -1.0 / 0.0 < -1e308");
  ExpectTrue("0.0 / 0.0 != 0.0 / 0.0");
  ExpectTrue("!(0.0 / 0.0 < 1.0) && !(0.0 / 0.0 >= 1.0)");
  ExpectTrue("0.1 + 0.2 != 0.3 && 2.5 * 2.0 == 5.0");
  EXPECT_THAT(CompileError("5.0 % 2.0"), HasSubstr("'_%_' applied to (double, double)"));
}

TEST(Logic, AndOrAreCommutativeOverErrors) {
  ExpectTrue("!(false && 1 / 0 == 1)");
  ExpectTrue("!(1 / 0 == 1 && false)");
  ExpectTrue("true || 1 / 0 == 1");
  ExpectTrue("1 / 0 == 1 || true");
  ExpectError("1 / 0 == 1 && true", "divide by zero");
  ExpectError("false || 1 / 0 == 1", "divide by zero");
  ExpectError("!(1 / 0 == 1)", "divide by zero");
  ExpectError("(1 / 0 == 1) ? 1 : 2", "divide by zero");
  ExpectTrue("(true ? 1 : 1 / 0) == 1 && (false ? 1 / 0 : 2) == 2");
}

TEST(Logic, NonBoolOperandsAreCompileErrors) {
  EXPECT_THAT(CompileError("1 && true"), HasSubstr("'_&&_' expects bool here, found int"));
  EXPECT_THAT(CompileError("seats ? 1 : 2"), StartsWith("1:1: '_?_:_' expects bool here"));
  EXPECT_THAT(CompileError("!segment"), HasSubstr("'!_' expects bool here, found string"));
}

TEST(Strings, FunctionsAndRe2) {
  ExpectTrue("size('héllo') == 5 && size(b'h\\xc3\\xa9') == 3 && 'héllo'.size() == 5");
  ExpectTrue(
      "'customer'.contains('tom') && 'customer'.startsWith('cus') && "
      "'customer'.endsWith('mer') && !'customer'.contains('x')");
  ExpectTrue(
      "'abc123'.matches('^[a-z]+[0-9]+$') && 'ABC'.matches('(?i)abc') && "
      "matches('xay', 'a')");
  ExpectTrue("'a' < 'b' && 'ab' + 'cd' == 'abcd' && 'Ä' > 'Z'");
  Activation act{{"segment", Value::String("(")}};
  auto p = Compile("'x'.matches(segment)", Env());
  ASSERT_TRUE(p.ok());
  Value v = p->Evaluate(act);
  ASSERT_TRUE(v.is_error());
  EXPECT_THAT(v.error_message(), HasSubstr("invalid regular expression"));
}

TEST(Strings, RegexThatRe2RejectsIsACompileErrorAtThePattern) {
  std::string msg = CompileError("segment.matches('(a)\\\\1')");
  EXPECT_THAT(msg, StartsWith("1:17: invalid regular expression: invalid escape sequence"));
  EXPECT_THAT(msg, HasSubstr("\n |                 ^"));
  EXPECT_THAT(CompileError("segment.matches('[a-')"), HasSubstr("invalid regular expression"));
  EXPECT_THAT(CompileError("segment.matches('(?<=a)b')"), HasSubstr("invalid regular expression"));
}

TEST(Collections, ListsMapsIndexingAndHas) {
  ExpectTrue("[1, 2, 3][1] == 2 && 2 in [1, 2] && !(4 in [1, 2])");
  ExpectError("[1, 2][2]", "out of range");
  ExpectError("[1, 2][-1]", "out of range");
  ExpectTrue("'k' in {'k': 1} && {'a': {'b': 1}}.a.b == 1 && {1: 'a'}[1u] == 'a'");
  ExpectTrue("has({'a': 1}.a) && !has({'a': 1}.b)");
  ExpectError("{'a': 1}.b", "no such key");
  ExpectError("{'a': 1}['b']", "no such key");
  ExpectTrue("[1, 2] + [3] == [1, 2, 3] && {'a': 1, 'b': 2} == {'b': 2, 'a': 1}");
  ExpectTrue("size([1, 2]) == 2 && size({'a': 1}) == 1 && [] == []");
  ExpectError("{'a': 1, 'a': 2}", "duplicate map key");
  ExpectError("{[1]: 2}", "unsupported map key type");
  EXPECT_THAT(CompileError("seats[0]"), HasSubstr("cannot index a value of type int"));
  EXPECT_THAT(CompileError("logins_30d in 3"), HasSubstr("'in' needs a list or map"));
  EXPECT_THAT(CompileError("seats.f"),
              HasSubstr("cannot select field 'f' from a value of type int"));
}

TEST(Macros, AllExistsExistsOneMapFilter) {
  ExpectTrue("[1, 2, 3].all(x, x > 0) && ![1, 2, 3].all(x, x > 1)");
  ExpectTrue("[1, 2, 3].exists(x, x == 2) && ![1, 2, 3].exists(x, x == 5)");
  ExpectTrue("[1, 2, 3].exists_one(x, x > 2) && ![1, 2, 3].exists_one(x, x > 1)");
  ExpectTrue("[1, 2, 3].map(x, x * 2) == [2, 4, 6]");
  ExpectTrue("[1, 2, 3, 4].map(x, x % 2 == 0, x * 10) == [20, 40]");
  ExpectTrue("[1, 2, 3, 4].filter(x, x % 2 == 1) == [1, 3]");
  ExpectTrue("{'a': 1, 'b': 2}.all(k, k in ['a', 'b']) && {'a': 1}.exists(k, k == 'a')");
  ExpectTrue("[[1], [2, 3]].all(l, l.all(x, x > 0))");
  // Errors are absorbed by a deciding element, as && and || absorb them.
  ExpectTrue("[0, 1].exists(x, 1 / x == 1)");
  ExpectError("[0, 1].all(x, 1 / x > 0)", "divide by zero");
  ExpectTrue("![0, 1].all(x, 1 / x < 0)");
  ExpectError("[0, 1].exists_one(x, 1 / x == 1)", "divide by zero");
  EXPECT_THAT(CompileError("seats.all(x, x > 0)"), HasSubstr("macro needs a list or map, not int"));
  EXPECT_THAT(CompileError("[1].all(x, 1 + 2)"), HasSubstr("predicate must be bool, not int"));
}

TEST(Macros, NestedMacrosHaveABoundedCost) {
  std::string r = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]";
  // 20^6 = 64M iterations: stopped by the budget instead of running for minutes.
  std::string src = r + ".all(a, " + r + ".all(b, " + r + ".all(c, " + r + ".all(d, " + r +
                    ".all(e, " + r + ".all(f, true))))))";
  ExpectError(src, "exceeded its budget");
  // Growth through concatenation inside macros is bounded as well.
  std::string grow =
      r + ".map(a, " + r + ".map(b, " + r + ".map(c, " + r + " + " + r + " + " + r + ")))";
  ExpectError(grow, "exceeded its budget");
  ExpectTrue(r + ".all(a, " + r + ".exists(b, a == b))");  // small nests are fine
}

TEST(Conversions, AllOfThem) {
  ExpectTrue("int('42') == 42 && int(3.9) == 3 && int(-3.9) == -3 && int(7u) == 7");
  ExpectError("int('4x')", "cannot convert");
  ExpectError("int(1e19)", "out of range");
  ExpectError("int(18446744073709551615u)", "out of range");
  ExpectTrue("uint(3.5) == 3u && uint('7') == 7u && uint(3) == 3u");
  ExpectError("uint(-1)", "out of range");
  ExpectTrue("double('1.5') == 1.5 && double(3) == 3.0 && double(2u) == 2.0");
  ExpectTrue(
      "string(1.5) == '1.5' && string(-3) == '-3' && string(3u) == '3' && "
      "string(true) == 'true' && string(b'abc') == 'abc'");
  ExpectError("string(b'\\xff')", "invalid UTF-8");
  ExpectTrue("bytes('é') == b'\\xc3\\xa9' && bool('true') && !bool('f')");
  ExpectError("bool('yes')", "cannot convert");
  ExpectTrue(
      "timestamp('2024-01-02T03:04:05Z') == timestamp(1704164645) && "
      "int(timestamp('1970-01-01T00:00:10Z')) == 10");
  ExpectError("timestamp('2024-13-01T00:00:00Z')", "cannot parse");
  ExpectTrue("duration('1h30m') == duration('5400s') && string(duration('1.5s')) == '1.5s'");
  ExpectError("duration('forever')", "cannot parse");
  ExpectTrue(
      "type(1) == int && type('a') == string && type(int) == type && "
      "type(1.0) == double && type([]) == list && type(null) == null_type");
  ExpectTrue("dyn(1) == 1 && dyn('a') == 'a'");
  ExpectTrue("string(timestamp('2024-01-02T03:04:05.5Z')) == '2024-01-02T03:04:05.5Z'");
  EXPECT_THAT(CompileError("int([1])"),
              HasSubstr("no matching overload for 'int' applied to list"));
  EXPECT_THAT(CompileError("duration(5)"), HasSubstr("'duration' applied to int"));
  EXPECT_THAT(CompileError("size('a', 'b')"), HasSubstr("'size' with 2 arguments"));
}

TEST(Time, ArithmeticAndRange) {
  ExpectTrue(
      "timestamp('2024-01-01T00:00:00Z') + duration('36h') == "
      "timestamp('2024-01-02T12:00:00Z')");
  ExpectTrue(
      "timestamp('2024-03-01T00:00:00Z') - timestamp('2024-02-01T00:00:00Z') == "
      "duration('696h')");  // 2024 is a leap year: 29 days
  ExpectTrue(
      "timestamp('2024-01-01T00:00:00Z') - duration('1s') == "
      "timestamp('2023-12-31T23:59:59Z')");
  ExpectTrue(
      "duration('1h') + duration('30m') == duration('90m') && -duration('1s') < "
      "duration('0s')");
  ExpectTrue("timestamp('2024-01-01T00:00:00Z') < timestamp('2024-01-01T00:00:01Z')");
  ExpectError("timestamp('9999-12-31T23:59:59Z') + duration('1s')", "timestamp out of range");
  ExpectError("timestamp('0001-01-01T00:00:00Z') - duration('1s')", "timestamp out of range");
  EXPECT_THAT(CompileError("renewal + renewal"), HasSubstr("no matching overload for '_+_'"));
  EXPECT_THAT(CompileError("renewal < 3"), HasSubstr("no matching overload for '_<_'"));
}

TEST(Time, Accessors) {
  // 2024-03-10 is a Sunday; it is day 69 of the year (0-based).
  std::string t = "timestamp('2024-03-10T17:45:30.250Z')";
  ExpectTrue(t + ".getFullYear() == 2024 && " + t + ".getMonth() == 2 && " + t +
             ".getDayOfMonth() == 9 && " + t + ".getDate() == 10 && " + t +
             ".getDayOfWeek() == 0 && " + t + ".getDayOfYear() == 69");
  ExpectTrue(t + ".getHours() == 17 && " + t + ".getMinutes() == 45 && " + t +
             ".getSeconds() == 30 && " + t + ".getMilliseconds() == 250");
  ExpectTrue(t + ".getHours('+05:30') == 23 && " + t + ".getMinutes('+05:30') == 15");
  ExpectTrue(t + ".getHours('America/New_York') == 13");  // EDT from that morning
  ExpectTrue(t + ".getDate('-18:00') == 9");
  ExpectError(t + ".getHours('Mars/Olympus')", "unknown time zone");
  std::string d = "duration('3723.5s')";
  ExpectTrue(d + ".getHours() == 1 && " + d + ".getMinutes() == 62 && " + d +
             ".getSeconds() == 3723 && " + d + ".getMilliseconds() == 500");
  EXPECT_THAT(CompileError("seats.getHours()"), HasSubstr("'getHours' applied to int"));
  EXPECT_THAT(CompileError("duration('1s').getFullYear()"), HasSubstr("'getFullYear'"));
}

TEST(Checker, UnknownIdentifierAtItsPosition) {
  EXPECT_EQ(CompileError("logins_30d < 10.0 && lgins > 2.0"),
            "1:22: undeclared reference to 'lgins'\n"
            " | logins_30d < 10.0 && lgins > 2.0\n"
            " |                      ^");
  EXPECT_THAT(CompileError("foo(1)"), StartsWith("1:1: undeclared function 'foo'"));
  EXPECT_THAT(CompileError("logins > 3.0"),
              HasSubstr("metric 'logins' can only be used inside avg/sum/trend/pct_change"));
}

TEST(Checker, TypeMismatchAtItsPosition) {
  EXPECT_EQ(CompileError("seats > 2 && logins_30d + 'x' > 1.0"),
            "1:25: no matching overload for '_+_' applied to (double, string)\n"
            " | seats > 2 && logins_30d + 'x' > 1.0\n"
            " |                         ^");
  EXPECT_THAT(CompileError("segment > 3"), StartsWith("1:9: no matching overload for '_>_'"));
  EXPECT_THAT(CompileError("segment == 1"), StartsWith("1:9: no matching overload for '_==_'"));
  EXPECT_THAT(CompileError("'a'.contains(1)"),
              HasSubstr("'contains' expects string here, found int"));
  EXPECT_THAT(CompileError("size(1)"), HasSubstr("'size' applied to int"));
  EXPECT_THAT(CompileError("days_since(3)"), HasSubstr("'days_since' applied to int"));
  EXPECT_THAT(CompileError("churned + 1"), HasSubstr("(bool, int)"));
  // null compares with anything; dyn defers the check to run time.
  EXPECT_EQ(CompileError("segment != null && dyn(seats) == 'x'"), "<compiled>");
}

TEST(Checker, ResultKinds) {
  auto kind = [](std::string_view src) {
    auto p = Compile(src, Env());
    EXPECT_TRUE(p.ok()) << src;
    return p.ok() ? p->result_kind() : Kind::kError;
  };
  EXPECT_EQ(kind("logins_30d < 10.0"), Kind::kBool);
  EXPECT_EQ(kind("seats * 2"), Kind::kInt);
  EXPECT_EQ(kind("logins_30d / 2.0"), Kind::kDouble);
  EXPECT_EQ(kind("renewal + duration('1h')"), Kind::kTimestamp);
  EXPECT_EQ(kind("segment + '!'"), Kind::kDyn);  // kept as values
  EXPECT_EQ(kind("avg(logins, 7)"), Kind::kDouble);
  EXPECT_EQ(kind("days_until(renewal)"), Kind::kInt);
}

TEST(Checker, DisableCheckRunsUnchecked) {
  Environment env;
  env.DisableCheck();
  auto p = Compile("x + 1", env);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Evaluate({{"x", Value::Int(1)}}).int_value(), 2);
  Value bad = p->Evaluate({{"x", Value::String("a")}});
  ASSERT_TRUE(bad.is_error());
  EXPECT_THAT(bad.error_message(), HasSubstr("no matching overload"));
  EXPECT_THAT(p->Evaluate({}).error_message(), HasSubstr("no value bound for variable 'x'"));
  auto q = Compile("nosuch(1)", env);
  ASSERT_TRUE(q.ok());
  EXPECT_THAT(q->Evaluate({}).error_message(), HasSubstr("unbound function 'nosuch'"));
  // Syntax errors are still compile errors.
  EXPECT_FALSE(Compile("x +", env).ok());
}

TEST(CustomerSuccess, MetricWindows) {
  MetricHistory h(2, 5);
  Eigen::MatrixXd m(2, 5);
  m << 1, 2, 3, 4, 5,  //
      5, 4, 3, 2, std::nan("");
  ASSERT_TRUE(h.AddMetric("logins", m).ok());
  auto at = [&](std::string_view src, size_t account) {
    auto p = Compile(src, Env());
    EXPECT_TRUE(p.ok()) << src << ": " << p.status();
    return p->Evaluate({}, {.now = kNow, .history = &h, .account = account});
  };
  EXPECT_DOUBLE_EQ(at("avg(logins, 3)", 0).double_value(), 4.0);
  EXPECT_DOUBLE_EQ(at("sum(logins, 3)", 0).double_value(), 12.0);
  EXPECT_DOUBLE_EQ(at("trend(logins, 5)", 0).double_value(), 1.0);
  EXPECT_DOUBLE_EQ(at("trend('logins', 4)", 1).double_value(), -1.0);  // NaN day skipped
  EXPECT_DOUBLE_EQ(at("pct_change(logins, 2)", 0).double_value(), 100.0 * (5 - 3) / 3);
  EXPECT_DOUBLE_EQ(at("avg(logins, 2)", 1).double_value(), 2.0);
  Value missing = at("avg(logins, 1)", 1);
  ASSERT_TRUE(missing.is_error());
  EXPECT_THAT(missing.error_message(), HasSubstr("avg(logins, 1) is missing"));
  EXPECT_THAT(at("avg(logins, 9)", 0).error_message(), HasSubstr("logins"));
  EXPECT_THAT(at("avg(logins, 0)", 0).error_message(), HasSubstr("window of 0 days"));
  // Without a history: a clear error, not a crash.
  EXPECT_THAT(Eval("avg(logins, 3) > 1.0").error_message(),
              HasSubstr("avg(): no metric history supplied"));
  EXPECT_THAT(CompileError("avg(nosuch, 3)"), StartsWith("1:5: unknown metric 'nosuch'"));
  EXPECT_THAT(CompileError("avg(logins, 3.5)"), HasSubstr("'avg' expects int here, found double"));
  EXPECT_THAT(CompileError("avg(logins)"), HasSubstr("avg() takes (metric, days)"));
  EXPECT_THAT(CompileError("sum(1 + 2, 3)"), HasSubstr("the first argument must name a metric"));
}

TEST(CustomerSuccess, DaysSinceUntilAndNow) {
  Activation act{{"renewal", Value::Timestamp(kNow + absl::Hours(36))}};
  EXPECT_EQ(Eval("days_until(renewal)", act).int_value(), 1);
  EXPECT_EQ(Eval("days_since(renewal)", act).int_value(), -2);  // rounded down
  Activation past{{"renewal", Value::Timestamp(kNow - absl::Hours(47))}};
  EXPECT_EQ(Eval("days_since(renewal)", past).int_value(), 1);
  EXPECT_EQ(Eval("days_until(renewal)", past).int_value(), -2);
  ExpectTrue("now == timestamp('2026-01-01T00:00:00Z') && now.getFullYear() == 2026");
  ExpectTrue("days_since(timestamp('2025-12-01T00:00:00Z')) == 31");
  // A `now` far outside the representable range is an error, never undefined behaviour.
  auto p = Compile("days_since(renewal)", Env());
  ASSERT_TRUE(p.ok());
  Value v = p->Evaluate(act, {.now = absl::InfiniteFuture()});
  ASSERT_TRUE(v.is_error());
  EXPECT_THAT(v.error_message(), HasSubstr("outside the supported range"));
}

TEST(Values, DebugStrings) {
  EXPECT_EQ(Eval("[1, 'a', 2u, 1.5, b'x', null, true]").DebugString(),
            "[1, \"a\", 2u, 1.5, b\"x\", null, true]");
  EXPECT_EQ(Eval("{'k': [1]}").DebugString(), "{\"k\": [1]}");
}

}  // namespace
}  // namespace cscore::cel
