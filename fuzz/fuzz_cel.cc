// libFuzzer target: the CEL parser and checker, then evaluation. The first input byte picks
// checked or unchecked compilation; the rest is the expression. A program that compiles is
// evaluated on an activation and over a small frame, where the column-at-a-time and the
// row-at-a-time paths must agree exactly (any difference aborts, like a crash).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cscore/expr/cel.h"

namespace {

namespace cel = cscore::cel;

const absl::Time kNow = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(5);

struct Fixture {
  cscore::AccountFrame frame;
  cscore::MetricHistory history{24, 6};
  cel::Environment env, unchecked;
  cel::Activation act;

  Fixture() {
    const size_t n = 24;
    std::vector<std::string> ids;
    std::vector<double> x(n), y(n);
    std::vector<int64_t> k(n), t(n);
    std::vector<uint8_t> b(n), valid(n, 1);
    std::vector<std::string> s(n);
    std::vector<uint8_t> s_missing(n, 0);
    const char* seg[] = {"SMB", "MM", "ENT", "", "Ünï"};
    for (size_t i = 0; i < n; ++i) {
      ids.push_back("a" + std::to_string(i));
      x[i] = i % 7 == 3 ? std::nan("") : static_cast<double>(i) - 8.5;
      y[i] = i % 5 == 0 ? 0.0 : i % 5 == 1 ? -0.0 : 1e308 * (i % 3);
      k[i] = i % 4 == 0 ? INT64_MAX - static_cast<int64_t>(i) : static_cast<int64_t>(i) - 12;
      t[i] = 1767225600 + (static_cast<int64_t>(i) - 12) * 43200;
      b[i] = i % 2;
      valid[i] = i % 6 != 5;
      s[i] = seg[i % 5];
      s_missing[i] = i % 9 == 8;
    }
    cscore::FrameBuilder fb(ids);
    fb.AddFloat64("x", x).AddFloat64("y", y).AddInt64("k", k, valid).AddBool("b", b, valid);
    fb.AddCategorical("s", s, s_missing).AddTimestamp("t", t, valid);
    frame = *std::move(fb).Build();
    Eigen::MatrixXd m(n, 6);
    for (size_t i = 0; i < n; ++i) {
      for (int d = 0; d < 6; ++d) m(i, d) = (i + d) % 5 == 0 ? std::nan("") : double(i * d % 7);
    }
    (void)history.AddMetric("m", m);
    env = cel::Environment::ForFrame(frame, &history);
    unchecked = cel::Environment::ForFrame(frame, &history);
    unchecked.DisableCheck();
    act = {{"x", cel::Value::Double(1.5)},
           {"y", cel::Value::Double(-0.0)},
           {"k", cel::Value::Int(7)},
           {"b", cel::Value::Bool(true)},
           {"s", cel::Value::String("SMB")},
           {"t", cel::Value::Timestamp(kNow)},
           {"l", cel::Value::List({cel::Value::Int(1), cel::Value::Uint(2)})}};
  }
};

bool SameValue(const cel::Value& a, const cel::Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.kind() == cel::Kind::kDouble) {
    double p = a.double_value(), q = b.double_value();
    return (std::isnan(p) && std::isnan(q)) || std::memcmp(&p, &q, sizeof p) == 0;
  }
  if (a.kind() == cel::Kind::kError) return a.error_message() == b.error_message();
  if (a.kind() == cel::Kind::kList) {
    if (a.list_value().size() != b.list_value().size()) return false;
    for (size_t i = 0; i < a.list_value().size(); ++i) {
      if (!SameValue(a.list_value()[i], b.list_value()[i])) return false;
    }
    return true;
  }
  return cel::Equal(a, b) || (a.DebugString() == b.DebugString());
}

[[noreturn]] void Mismatch(std::string_view src, size_t row, const cel::ResultColumn& v,
                           const cel::ResultColumn& r) {
  std::fprintf(stderr, "vector and row paths differ on row %zu of `%.*s`: %s vs %s\n", row,
               static_cast<int>(src.size()), src.data(), v.ValueAt(row).DebugString().c_str(),
               r.ValueAt(row).DebugString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Long inputs are covered by unit tests (1 MB, deep nesting); short ones fuzz faster.
  if (size == 0 || size > 4096) return 0;
  static Fixture* f = new Fixture();
  const uint8_t mode = data[0];
  std::string_view src(reinterpret_cast<const char*>(data + 1), size - 1);
  auto prog = cel::Compile(src, (mode & 1) ? f->unchecked : f->env);
  if (!prog.ok()) {
    // Every compile error names its place: "line:column: message".
    std::string msg(prog.status().message());
    if (msg.find(':') == std::string::npos) std::abort();
    return 0;
  }
  cel::EvalContext ctx{.now = kNow, .history = &f->history, .account = 3};
  (void)prog->Evaluate(f->act, ctx).DebugString();
  cel::FrameOptions opt{.threads = 1, .batch_size = 64};
  auto vec = prog->EvaluateFrame(f->frame, &f->history, {.now = kNow}, opt);
  auto row = prog->EvaluateFrameRowwise(f->frame, &f->history, {.now = kNow}, opt);
  if (vec.ok() != row.ok()) std::abort();
  if (!vec.ok()) return 0;
  if (vec->kind != row->kind || vec->num_errors != row->num_errors ||
      vec->first_error != row->first_error) {
    Mismatch(src, 0, *vec, *row);
  }
  for (size_t i = 0; i < vec->size(); ++i) {
    if (vec->status[i] != row->status[i] || !SameValue(vec->ValueAt(i), row->ValueAt(i))) {
      Mismatch(src, i, *vec, *row);
    }
  }
  return 0;
}
