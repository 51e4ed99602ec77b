// Frame evaluation: the column-at-a-time path against the row-at-a-time path (randomized
// differential test over generated expressions and frames), threads, missing values, and
// the fallback for expressions that do not vectorize.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "cscore/expr/cel.h"
#include "expr/program_impl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore::cel {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = 86400;
const absl::Time kNow = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(250);  // 2026-01-01

// Same kind and value, NaN equal to NaN, -0.0 apart from 0.0, errors by message.
bool SameValue(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kDouble: {
      double x = a.double_value(), y = b.double_value();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    case Kind::kError:
      return a.error_message() == b.error_message();
    case Kind::kList: {
      if (a.list_value().size() != b.list_value().size()) return false;
      for (size_t i = 0; i < a.list_value().size(); ++i) {
        if (!SameValue(a.list_value()[i], b.list_value()[i])) return false;
      }
      return true;
    }
    default:
      return Equal(a, b);
  }
}

bool SameDouble(double x, double y) {
  uint64_t a, b;
  std::memcpy(&a, &x, 8);
  std::memcpy(&b, &y, 8);
  return a == b || (std::isnan(x) && std::isnan(y));
}

// Describes the first difference between two result columns, or "" when identical.
std::string Diff(const ResultColumn& a, const ResultColumn& b) {
  if (a.kind != b.kind) return "kind";
  if (a.size() != b.size()) return "size";
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.status[i] != b.status[i]) {
      return absl::StrFormat("row %d: status %d vs %d (%s vs %s)", i, int(a.status[i]),
                             int(b.status[i]), a.ValueAt(i).DebugString(),
                             b.ValueAt(i).DebugString());
    }
    bool same = true;
    if (!a.b.empty()) same = a.b[i] == b.b[i];
    if (!a.i64.empty()) same = a.i64[i] == b.i64[i];
    if (!a.f64.empty()) same = SameDouble(a.f64[i], b.f64[i]);
    if (!a.values.empty()) same = SameValue(a.values[i], b.values[i]);
    if (!same) {
      return absl::StrFormat("row %d: %s vs %s", i, a.ValueAt(i).DebugString(),
                             b.ValueAt(i).DebugString());
    }
  }
  if (a.b.size() != b.b.size() || a.i64.size() != b.i64.size() || a.f64.size() != b.f64.size() ||
      a.values.size() != b.values.size()) {
    return "vector sizes";
  }
  if (a.num_errors != b.num_errors) return "num_errors";
  if (a.first_error != b.first_error)
    return "first_error: " + a.first_error + " vs " + b.first_error;
  return "";
}

struct Data {
  AccountFrame frame;
  MetricHistory history{0, 0};
};

// A frame with every column type, missing values, NaN, infinities, extreme integers and
// categorical dictionaries, plus two metrics of history.
Data MakeData(uint32_t seed, size_t rows) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  std::vector<std::string> ids;
  for (size_t i = 0; i < rows; ++i) ids.push_back(absl::StrFormat("acct-%d", i));
  FrameBuilder b(ids);
  const double kDoubles[] = {0.0, -0.0, 1.0,   -1.0,   0.5,
                             2.5, 10.0, 1e308, -1e308, std::numeric_limits<double>::infinity(),
                             3.0, 7.25, 100.0};
  for (const char* name : {"d1", "d2", "d3"}) {
    std::vector<double> v(rows);
    for (auto& x : v) {
      int r = pick(10);
      x = r == 0 ? std::nan("") : r < 4 ? kDoubles[pick(13)] : (pick(2000) - 1000) / 8.0;
    }
    b.AddFloat64(name, std::move(v));
  }
  const int64_t kInts[] = {0,
                           1,
                           -1,
                           2,
                           3,
                           7,
                           -7,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min(),
                           1 << 30,
                           100,
                           -100};
  for (const char* name : {"i1", "i2"}) {
    std::vector<int64_t> v(rows);
    std::vector<uint8_t> valid(rows, 1);
    for (size_t i = 0; i < rows; ++i) {
      int r = pick(10);
      v[i] = r < 3 ? kInts[pick(12)] : pick(41) - 20;
      if (pick(12) == 0) valid[i] = 0;
    }
    b.AddInt64(name, std::move(v), std::move(valid));
  }
  {
    std::vector<int64_t> v(rows);
    for (auto& x : v) x = pick(200) - 100;
    b.AddInt64("i3", std::move(v));  // no missing values
  }
  {
    std::vector<uint8_t> v(rows), valid(rows, 1);
    for (size_t i = 0; i < rows; ++i) {
      v[i] = pick(2);
      if (pick(10) == 0) valid[i] = 0;
    }
    b.AddBool("b1", std::move(v), std::move(valid));
  }
  const std::vector<std::string> kSeg = {"SMB", "MM", "ENT", "tech-touch", "Ünïcode", ""};
  for (const char* name : {"s1", "s2"}) {
    std::vector<std::string> v(rows);
    std::vector<uint8_t> missing(rows, 0);
    for (size_t i = 0; i < rows; ++i) {
      v[i] = kSeg[pick(static_cast<int>(kSeg.size()))];
      if (pick(9) == 0) missing[i] = 1;
    }
    b.AddCategorical(name, v, std::move(missing));
  }
  {
    std::vector<int64_t> v(rows);
    std::vector<uint8_t> valid(rows, 1);
    int64_t now = absl::ToUnixSeconds(kNow);
    for (size_t i = 0; i < rows; ++i) {
      v[i] = now + (pick(2001) - 1000) * kDay / 4 + pick(3) - 1;
      if (pick(10) == 0) valid[i] = 0;
    }
    b.AddTimestamp("t1", std::move(v), std::move(valid));
  }
  Data d{*std::move(b).Build(), MetricHistory(rows, 12)};
  for (const char* m : {"m1", "m2"}) {
    Eigen::MatrixXd h(rows, 12);
    for (size_t i = 0; i < rows; ++i) {
      for (int day = 0; day < 12; ++day) {
        h(i, day) = pick(8) == 0 ? std::nan("") : (pick(100) - 20) / 4.0;
      }
    }
    EXPECT_TRUE(d.history.AddMetric(m, h).ok());
  }
  return d;
}

// Generates well-typed expressions of a requested kind over MakeData's columns.
class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  std::string Bool(int depth) {
    int r = Pick(depth <= 0 ? 8 : 24);
    switch (r) {
      case 0:
        return Cmp() + "";
      case 1:
        return "b1";
      case 2:
        return absl::StrFormat("s%d == '%s'", Pick(2) + 1, Seg());
      case 3:
        return absl::StrFormat("s%d in ['%s', '%s']", Pick(2) + 1, Seg(), Seg());
      case 4:
        return Pick(2) ? "true" : "false";
      case 5:
        return absl::StrFormat("t1 %s now", CmpOp());
      case 6:
        return absl::StrFormat("%s %s %s", Int(0), CmpOp(), Double(0));
      case 7:
        return absl::StrFormat("s1 %s s2", Pick(2) ? "==" : "!=");
      case 8:
      case 9:
      case 10:
        return absl::StrFormat("(%s && %s)", Bool(depth - 1), Bool(depth - 1));
      case 11:
      case 12:
      case 13:
        return absl::StrFormat("(%s || %s)", Bool(depth - 1), Bool(depth - 1));
      case 14:
        return "!(" + Bool(depth - 1) + ")";
      case 15:
        return absl::StrFormat("(%s ? %s : %s)", Bool(depth - 1), Bool(depth - 1), Bool(depth - 1));
      case 16:
        return absl::StrFormat("%s %s %s", Int(depth - 1), CmpOp(), Int(depth - 1));
      case 17:
        return absl::StrFormat("%s %s %s", Double(depth - 1), CmpOp(), Double(depth - 1));
      case 18:
        return absl::StrFormat("s1.%s('%s')",
                               Pick(3) == 0   ? "startsWith"
                               : Pick(2) == 0 ? "endsWith"
                                              : "contains",
                               Prefix());
      case 19:
        return absl::StrFormat("string(%s) == '%d'", Int(depth - 1), Pick(5) - 2);
      case 20:
        return absl::StrFormat("[1, 2, 3, -7].exists(x, x == %s)", Int(depth - 1));
      case 21:
        return absl::StrFormat("(b1 == (%s))", Bool(depth - 1));
      case 22:
        return absl::StrFormat("%s.matches('^[A-Z]')", Pick(2) ? "s1" : "(s1 + s2)");
      default:
        return absl::StrFormat("(s1 == 'SMB' ? %s : %s)", Bool(depth - 1), Bool(depth - 1));
    }
  }

  std::string Int(int depth) {
    int r = Pick(depth <= 0 ? 6 : 16);
    switch (r) {
      case 0:
        return absl::StrFormat("i%d", Pick(3) + 1);
      case 1:
        return absl::StrFormat("%d", Pick(21) - 10);
      case 2:
        return Pick(2) ? "9223372036854775807" : "-9223372036854775808";
      case 3:
        return absl::StrFormat("days_%s(t1)", Pick(2) ? "since" : "until");
      case 4:
        return "size(s1)";
      case 5:
        return absl::StrFormat("i%d", Pick(3) + 1);
      case 6:
      case 7:
      case 8:
      case 9:
        return absl::StrFormat("(%s %s %s)", Int(depth - 1), "+-*/%"[Pick(5)] + std::string(),
                               Int(depth - 1));
      case 10:
        return "-" + Int(depth - 1);
      case 11:
        return absl::StrFormat("int(%s)", Double(depth - 1));
      case 12:
        return absl::StrFormat("(%s ? %s : %s)", Bool(depth - 1), Int(depth - 1), Int(depth - 1));
      case 13:
        return absl::StrFormat("int(string(%s))", Int(depth - 1));
      case 14:
        return absl::StrFormat("(%s).getHours()", Pick(2) ? "t1" : "now");
      default:
        return absl::StrFormat("[10, 20, 30][%s %% 3]", Int(depth - 1));
    }
  }

  std::string Double(int depth) {
    int r = Pick(depth <= 0 ? 6 : 15);
    switch (r) {
      case 0:
      case 1:
        return absl::StrFormat("d%d", Pick(3) + 1);
      case 2: {
        const char* k[] = {"0.0", "-0.0", "1.0", "0.5", "1e308", "2.5", "-3.0", "10.0"};
        return k[Pick(8)];
      }
      case 3:
        return absl::StrFormat("%s(m%d, %d)",
                               Pick(4) == 0   ? "trend"
                               : Pick(3) == 0 ? "pct_change"
                               : Pick(2) == 0 ? "sum"
                                              : "avg",
                               Pick(2) + 1, Pick(5) + 2);
      case 4:
        return absl::StrFormat("double(i%d)", Pick(3) + 1);
      case 5:
        return absl::StrFormat("d%d", Pick(3) + 1);
      case 6:
      case 7:
      case 8:
      case 9:
        return absl::StrFormat("(%s %s %s)", Double(depth - 1), "+-*/"[Pick(4)] + std::string(),
                               Double(depth - 1));
      case 10:
        return "-" + Double(depth - 1);
      case 11:
        return absl::StrFormat("double(%s)", Int(depth - 1));
      case 12:
        return absl::StrFormat("(%s ? %s : %s)", Bool(depth - 1), Double(depth - 1),
                               Double(depth - 1));
      case 13:
        return absl::StrFormat("(s1 == '%s' ? 1.5 : %s)", Seg(), Double(depth - 1));
      default:
        return absl::StrFormat("double(string(%s))", Double(depth - 1));
    }
  }

  // Results kept as values: strings, durations, uints, lists.
  std::string Dyn(int depth) {
    switch (Pick(7)) {
      case 0:
        return absl::StrFormat("s1 + '%s'", Seg());
      case 1:
        return absl::StrFormat("(t1 - now)");
      case 2:
        return absl::StrFormat("uint(%s)", Int(depth));
      case 3:
        return absl::StrFormat("[%s, %s]", Int(depth), Int(depth));
      case 4:
        return absl::StrFormat("(%s ? s1 : s2)", Bool(depth));
      case 5:
        return absl::StrFormat("string(%s)", Double(depth));
      default:
        return absl::StrFormat("(t1 - now) > duration('-72h') ? 'soon' : string(%s)", Int(depth));
    }
  }

  std::string Any(int depth) {
    switch (Pick(4)) {
      case 0:
        return Int(depth);
      case 1:
        return Double(depth);
      case 2:
        return Dyn(depth);
      default:
        return Bool(depth);
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % n); }
  std::string Cmp() { return absl::StrFormat("d%d %s %s", Pick(3) + 1, CmpOp(), Double(0)); }
  std::string CmpOp() {
    const char* ops[] = {"<", "<=", ">", ">=", "==", "!="};
    return ops[Pick(6)];
  }
  std::string Prefix() {
    std::string s = Seg();
    if (s.empty()) return s;
    return static_cast<unsigned char>(s[0]) < 0x80 ? s.substr(0, 1) : "Ü";
  }
  std::string Seg() {
    const char* s[] = {"SMB", "MM", "ENT", "tech-touch", "Ünïcode", "", "none"};
    return s[Pick(7)];
  }
  std::mt19937_64 rng_;
};

TEST(FrameDifferential, VectorEqualsRowOnGeneratedExpressions) {
  int compiled = 0, vectorized = 0, total = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    Data d = MakeData(seed, 700 + seed * 37);
    Environment env = Environment::ForFrame(d.frame, &d.history);
    Gen gen(seed * 7919);
    for (int k = 0; k < 25; ++k) {
      std::string expr = gen.Any(1 + k % 4);
      ++total;
      auto prog = Compile(expr, env);
      if (!prog.ok()) {
        ADD_FAILURE() << expr << ": " << prog.status().message();
        continue;
      }
      ++compiled;
      vectorized += prog->vectorized();
      EvalContext ctx{.now = kNow};
      FrameOptions opt{.threads = 1, .batch_size = 64u << (k % 6)};
      auto row = prog->EvaluateFrameRowwise(d.frame, &d.history, ctx, opt);
      ASSERT_TRUE(row.ok()) << expr << ": " << row.status();
      auto vec = prog->EvaluateFrame(d.frame, &d.history, ctx, opt);
      ASSERT_TRUE(vec.ok()) << expr << ": " << vec.status();
      EXPECT_EQ(Diff(*vec, *row), "") << "seed " << seed << ": " << expr;
      internal::SetForceSelection(true);
      auto sel = prog->EvaluateFrame(d.frame, &d.history, ctx, {.threads = 2, .batch_size = 100});
      internal::SetForceSelection(false);
      ASSERT_TRUE(sel.ok()) << expr;
      EXPECT_EQ(Diff(*sel, *row), "") << "selection, seed " << seed << ": " << expr;
    }
  }
  EXPECT_EQ(compiled, total);
  // Most generated expressions must take the vector path, or the test proves little.
  EXPECT_GT(vectorized, total * 3 / 4) << vectorized << " of " << total;
}

TEST(FrameDifferential, RowEvaluatorAgreesWithActivations) {
  // The frame row path itself against Program::Evaluate with an activation per row.
  Data d = MakeData(99, 300);
  Environment env = Environment::ForFrame(d.frame);
  Gen gen(4242);
  for (int k = 0; k < 40; ++k) {
    std::string expr = k % 2 ? gen.Bool(3) : gen.Int(3);
    if (expr.find("m1") != std::string::npos || expr.find("m2") != std::string::npos) continue;
    auto prog = Compile(expr, env);
    ASSERT_TRUE(prog.ok()) << expr << ": " << prog.status();
    auto col = prog->EvaluateFrame(d.frame, nullptr, {.now = kNow});
    ASSERT_TRUE(col.ok());
    for (size_t row = 0; row < d.frame.num_rows(); ++row) {
      Activation act;
      for (const Column& c : d.frame.columns()) {
        act[c.name] = internal::CellValue(c, row, d.frame.ids());
      }
      Value want = prog->Evaluate(act, {.now = kNow});
      Value got = col->ValueAt(row);
      ASSERT_EQ(want.is_error(), got.is_error()) << expr << " row " << row;
      if (!want.is_error()) {
        ASSERT_TRUE(SameValue(want, got))
            << expr << " row " << row << ": " << want.DebugString() << " vs " << got.DebugString();
      }
    }
  }
}

Data Simple(size_t rows) {
  std::vector<std::string> ids;
  std::vector<double> logins(rows), a(rows), bb(rows), c(rows), dd(rows);
  std::vector<std::string> seg(rows);
  for (size_t i = 0; i < rows; ++i) {
    ids.push_back(absl::StrFormat("a%d", i));
    logins[i] = static_cast<double>(i % 23);
    seg[i] = i % 3 == 0 ? "SMB" : i % 3 == 1 ? "MM" : "ENT";
    a[i] = i % 7;
    bb[i] = i % 11;
    c[i] = i % 5;
    dd[i] = i % 13;
  }
  logins[5] = std::nan("");
  FrameBuilder b(ids);
  b.AddFloat64("logins_30d", logins).AddCategorical("segment", seg);
  b.AddFloat64("a", a).AddFloat64("b", bb).AddFloat64("c", c).AddFloat64("d", dd);
  return Data{*std::move(b).Build(), MetricHistory(rows, 1)};
}

TEST(FrameEval, BenchmarkShapesVectorizeAndAreCorrect) {
  Data d = Simple(10000);
  Environment env = Environment::ForFrame(d.frame);
  auto pred = Compile("logins_30d < 10.0 && segment == 'SMB'", env);
  ASSERT_TRUE(pred.ok()) << pred.status();
  EXPECT_TRUE(pred->vectorized());
  EXPECT_EQ(pred->result_kind(), Kind::kBool);
  auto col = pred->EvaluateFrame(d.frame, nullptr, {});
  ASSERT_TRUE(col.ok());
  for (size_t i = 0; i < 10000; ++i) {
    if (i == 5) {
      // Missing logins, and 5 is not SMB: false && error is false.
      EXPECT_TRUE(col->ok(i));
      EXPECT_FALSE(col->IsTrue(i));
      continue;
    }
    EXPECT_EQ(col->IsTrue(i), (i % 23) < 10 && i % 3 == 0) << i;
  }
  auto score = Compile("0.4 * a + 0.3 * b / (c + 1.0) - 0.3 * d", env);
  ASSERT_TRUE(score.ok());
  EXPECT_TRUE(score->vectorized());
  auto sc = score->EvaluateFrame(d.frame, nullptr, {});
  ASSERT_TRUE(sc.ok());
  for (size_t i = 0; i < 10000; i += 97) {
    double want = 0.4 * (i % 7) + 0.3 * (i % 11) / ((i % 5) + 1.0) - 0.3 * (i % 13);
    EXPECT_EQ(sc->f64[i], want);
  }
}

TEST(FrameEval, MissingValuesAreErrorsThatAndOrCanAbsorb) {
  Data d = Simple(9);  // row 5 has NaN logins and segment ENT
  Environment env = Environment::ForFrame(d.frame);
  auto check = [&](const std::string& expr, RowStatus want_status, bool want_true) {
    auto p = Compile(expr, env);
    ASSERT_TRUE(p.ok()) << expr;
    auto c = p->EvaluateFrame(d.frame, nullptr, {});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->status[5], want_status) << expr;
    EXPECT_EQ(c->IsTrue(5), want_true) << expr;
  };
  check("logins_30d > 1.0", RowStatus::kError, false);
  check("logins_30d > 1.0 && segment == 'SMB'", RowStatus::kOk, false);
  check("segment == 'SMB' && logins_30d > 1.0", RowStatus::kOk, false);
  check("logins_30d > 1.0 || segment == 'ENT'", RowStatus::kOk, true);
  check("logins_30d > 1.0 || segment == 'SMB'", RowStatus::kError, false);
  check("!(logins_30d > 1.0)", RowStatus::kError, false);
  auto p = Compile("logins_30d > 1.0", env);
  auto c = p->EvaluateFrame(d.frame, nullptr, {});
  EXPECT_EQ(c->num_errors, 1u);
  EXPECT_EQ(c->first_error, "account 'a5': missing value for 'logins_30d' at account 'a5'");
}

TEST(FrameEval, MacrosFallBackToRowsInsideTheSameApi) {
  Data d = Simple(50);
  Environment env = Environment::ForFrame(d.frame);
  auto p = Compile("[1.0, 2.0, 3.0].exists(x, x == logins_30d + a)", env);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->vectorized());
  auto c = p->EvaluateFrame(d.frame, nullptr, {});
  ASSERT_TRUE(c.ok());
  auto r = p->EvaluateFrameRowwise(d.frame, nullptr, {});
  EXPECT_EQ(Diff(*c, *r), "");
  // The macro inside a vectorized expression runs per row; the rest column-at-a-time.
  auto q = Compile("logins_30d < 5.0 && [1.0, 2.0].exists(x, x == a)", env);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->vectorized());
  auto qc = q->EvaluateFrame(d.frame, nullptr, {});
  auto qr = q->EvaluateFrameRowwise(d.frame, nullptr, {});
  EXPECT_EQ(Diff(*qc, *qr), "");
  EXPECT_TRUE(qc->IsTrue(1));   // logins 1, a 1
  EXPECT_FALSE(qc->IsTrue(3));  // a 3
}

TEST(FrameEval, ThreadsGiveIdenticalResults) {
  Data d = MakeData(7, 50000);
  Environment env = Environment::ForFrame(d.frame, &d.history);
  for (const char* expr :
       {"d1 * 2.0 + double(i1) > avg(m1, 5) && s1 != 'MM'", "(i1 + i2) * 3 - i3 / 2", "s1 + s2",
        "days_since(t1) > 30 ? d2 : d3 / 0.0", "string(i1) == '3' || b1"}) {
    auto p = Compile(expr, env);
    ASSERT_TRUE(p.ok()) << expr << ": " << p.status();
    auto one = p->EvaluateFrame(d.frame, &d.history, {.now = kNow}, {.threads = 1});
    ASSERT_TRUE(one.ok());
    for (int threads : {2, 3, 8}) {
      auto many = p->EvaluateFrame(d.frame, &d.history, {.now = kNow}, {.threads = threads});
      ASSERT_TRUE(many.ok());
      EXPECT_EQ(Diff(*many, *one), "") << expr << " threads " << threads;
      auto rows = p->EvaluateFrameRowwise(d.frame, &d.history, {.now = kNow}, {.threads = threads});
      EXPECT_EQ(Diff(*rows, *one), "") << expr << " rowwise threads " << threads;
    }
  }
}

TEST(FrameEval, OneProgramFromManyThreadsAtOnce) {
  Data d = MakeData(11, 20000);
  Environment env = Environment::ForFrame(d.frame, &d.history);
  auto p = Compile("trend(m2, 6) > 0.0 || (s2 == 'ENT' && d3 > 1.0)", env);
  ASSERT_TRUE(p.ok());
  auto want = p->EvaluateFrame(d.frame, &d.history, {.now = kNow});
  ASSERT_TRUE(want.ok());
  std::vector<std::string> diffs(4);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k) {
        auto got = p->EvaluateFrame(d.frame, &d.history, {.now = kNow}, {.threads = 2});
        if (!got.ok()) {
          diffs[t] = "status";
          return;
        }
        if (std::string s = Diff(*got, *want); !s.empty()) diffs[t] = s;
      }
    });
  }
  for (auto& th : pool) th.join();
  for (const auto& s : diffs) EXPECT_EQ(s, "");
}

TEST(FrameEval, HistoryMustMatchTheFrame) {
  Data d = MakeData(3, 100);
  MetricHistory other(99, 12);
  Environment env = Environment::ForFrame(d.frame, &d.history);
  auto p = Compile("avg(m1, 3) > 1.0", env);
  ASSERT_TRUE(p.ok());
  auto c = p->EvaluateFrame(d.frame, &other, {});
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("history has 99 accounts"));
  // Without any history the metric functions err on every row, with a clear message.
  auto none = p->EvaluateFrame(d.frame, nullptr, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->num_errors, 100u);
  EXPECT_THAT(none->first_error, HasSubstr("avg(): no metric history supplied"));
}

TEST(FrameEval, ColumnMissingFromTheFrameIsAStatus) {
  Data d = Simple(10);
  Environment env;
  env.Declare("logins_30d", Kind::kDouble).Declare("tier", Kind::kString);
  auto p = Compile("tier == 'gold' && logins_30d > 1.0", env);
  ASSERT_TRUE(p.ok());
  auto c = p->EvaluateFrame(d.frame, nullptr, {});
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("'tier'"));
}

TEST(FrameEval, ColumnOfAnotherTypeThanDeclaredTakesTheRowPath) {
  Data d = Simple(10);
  Environment env;
  env.Declare("segment", Kind::kInt).DisableCheck();
  auto p = Compile("segment + 1", env);
  ASSERT_TRUE(p.ok());
  auto c = p->EvaluateFrame(d.frame, nullptr, {});
  auto r = p->EvaluateFrameRowwise(d.frame, nullptr, {});
  ASSERT_TRUE(c.ok() && r.ok());
  EXPECT_EQ(Diff(*c, *r), "");
  EXPECT_EQ(c->num_errors, 10u);  // string + int: no such overload, per row
}

TEST(FrameEval, DaysSinceAndUntilAgreeAtDayBoundariesAndExtremes) {
  // The vector path computes these in integers; the row path floors a double quotient.
  std::vector<std::string> ids;
  std::vector<int64_t> ts;
  const int64_t base = 1767225600;
  for (int64_t d : {-3650, -1, 0, 1, 400}) {
    for (int64_t s : {-86401, -86400, -86399, -1, 0, 1, 43200, 86399, 86400, 86401}) {
      ts.push_back(base + d * kDay + s);
    }
  }
  for (int64_t x : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                    int64_t{253402300799}, int64_t{-62135596800}, int64_t{1} << 38,
                    -(int64_t{1} << 38), (int64_t{1} << 38) + 1}) {
    ts.push_back(x);
  }
  for (size_t i = 0; i < ts.size(); ++i) ids.push_back(absl::StrFormat("r%d", i));
  FrameBuilder b(ids);
  b.AddTimestamp("t", ts);
  auto f = std::move(b).Build();
  ASSERT_TRUE(f.ok());
  Environment env = Environment::ForFrame(*f);
  const absl::Time nows[] = {absl::FromUnixSeconds(base),
                             absl::FromUnixSeconds(base) + absl::Microseconds(500),
                             absl::FromUnixSeconds(base) + absl::Milliseconds(999),
                             absl::FromUnixSeconds(base) - absl::Nanoseconds(1),
                             absl::FromUnixSeconds(base) + absl::Milliseconds(1),
                             absl::FromUnixSeconds(int64_t{1} << 40),
                             absl::InfiniteFuture(),
                             absl::InfinitePast()};
  // The literal forms read `now` too, so they must not be folded when compiled.
  for (const char* expr : {"days_since(t)", "days_until(t)", "days_until(t) <= 1",
                           "days_since(timestamp('2025-12-01T00:00:00Z'))",
                           "days_until(timestamp('2026-02-01T00:00:00Z')) + days_since(t)"}) {
    auto p = Compile(expr, env);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->vectorized());
    for (absl::Time now : nows) {
      auto v = p->EvaluateFrame(*f, nullptr, {.now = now});
      auto r = p->EvaluateFrameRowwise(*f, nullptr, {.now = now});
      ASSERT_TRUE(v.ok() && r.ok());
      EXPECT_EQ(Diff(*v, *r), "") << expr << " at " << absl::FormatTime(now);
    }
  }
  auto p = Compile("days_since(t)", env);
  auto v = p->EvaluateFrame(*f, nullptr, {.now = absl::FromUnixSeconds(base)});
  EXPECT_EQ(v->i64[0], 3651);  // 3650 days and 86401 s ago: 3651 whole days
  EXPECT_EQ(v->i64[14], 1);    // exactly one day ago
  EXPECT_EQ(v->i64[15], 0);    // a day less one second ago
  auto literal = Compile("days_since(timestamp('2025-12-01T00:00:00Z'))", env);
  ASSERT_TRUE(literal.ok());
  auto l = literal->EvaluateFrame(*f, nullptr, {.now = absl::FromUnixSeconds(base)});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->i64[0], 31);  // 2025-12-01 to 2026-01-01, not days since the epoch
}

TEST(FrameEval, LargeDictionariesUseThePlanWithoutTables) {
  std::vector<std::string> ids, names;
  for (int i = 0; i < 20000; ++i) {
    ids.push_back(absl::StrFormat("x%d", i));
    names.push_back(absl::StrFormat("name-%d", i));
  }
  FrameBuilder b(ids);
  b.AddCategorical("name", names);
  auto f = std::move(b).Build();
  ASSERT_TRUE(f.ok());
  auto p = Compile("name.endsWith('7') || name == 'name-12'", Environment::ForFrame(*f));
  ASSERT_TRUE(p.ok());
  auto c = p->EvaluateFrame(*f, nullptr, {});
  auto r = p->EvaluateFrameRowwise(*f, nullptr, {});
  ASSERT_TRUE(c.ok() && r.ok());
  EXPECT_EQ(Diff(*c, *r), "");
  EXPECT_TRUE(c->IsTrue(12));
  EXPECT_TRUE(c->IsTrue(17));
  EXPECT_FALSE(c->IsTrue(18));
}

}  // namespace
}  // namespace cscore::cel
