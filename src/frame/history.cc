#include "cscore/frame/history.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cscore/base/strings.h"

namespace cscore {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

std::string_view WindowOpName(WindowOp op) {
  switch (op) {
    case WindowOp::kSum:
      return "sum";
    case WindowOp::kMean:
      return "mean";
    case WindowOp::kLast:
      return "last";
    case WindowOp::kMin:
      return "min";
    case WindowOp::kMax:
      return "max";
    case WindowOp::kTrend:
      return "trend";
    case WindowOp::kPctChange:
      return "pct_change";
  }
  return "unknown";
}

absl::StatusOr<WindowOp> ParseWindowOp(std::string_view name) {
  std::string n = absl::AsciiStrToLower(ToAbsl(name));
  for (WindowOp op : {WindowOp::kSum, WindowOp::kMean, WindowOp::kLast, WindowOp::kMin,
                      WindowOp::kMax, WindowOp::kTrend, WindowOp::kPctChange}) {
    if (n == WindowOpName(op)) return op;
  }
  if (n == "avg" || n == "average") return WindowOp::kMean;
  return absl::InvalidArgumentError(
      StrCat("unknown window aggregate '", name,
             "' (expected sum, mean, last, min, max, trend or pct_change)"));
}

MetricHistory::MetricHistory(size_t num_accounts, size_t num_days)
    : num_accounts_(num_accounts), num_days_(num_days) {}

std::vector<std::string> MetricHistory::metric_names() const {
  std::vector<std::string> names;
  for (const auto& m : metrics_) names.push_back(m->name);
  return names;
}

bool MetricHistory::Has(std::string_view metric) const { return Find(metric).ok(); }

absl::Status MetricHistory::AddMetric(std::string name, Eigen::MatrixXd values) {
  if (static_cast<size_t>(values.rows()) != num_accounts_ ||
      static_cast<size_t>(values.cols()) != num_days_) {
    return absl::InvalidArgumentError(StrCat("history of metric '", name, "' is ", values.rows(),
                                             " x ", values.cols(), ", expected ", num_accounts_,
                                             " accounts x ", num_days_, " days"));
  }
  if (Has(name)) {
    return absl::AlreadyExistsError(StrCat("metric '", name, "' is already in the history"));
  }
  auto m = std::make_unique<Metric>();
  m->name = std::move(name);
  m->owned.assign(values.data(), values.data() + values.size());
  m->data = m->owned.data();
  metrics_.push_back(std::move(m));
  return absl::OkStatus();
}

absl::Status MetricHistory::ViewMetric(std::string name, std::span<const double> column_major) {
  if (column_major.size() != num_accounts_ * num_days_) {
    return absl::InvalidArgumentError(StrCat("history of metric '", name, "' has ",
                                             column_major.size(), " values, expected ",
                                             num_accounts_, " accounts x ", num_days_, " days"));
  }
  if (Has(name)) {
    return absl::AlreadyExistsError(StrCat("metric '", name, "' is already in the history"));
  }
  auto m = std::make_unique<Metric>();
  m->name = std::move(name);
  m->data = column_major.data();
  metrics_.push_back(std::move(m));
  return absl::OkStatus();
}

absl::StatusOr<const MetricHistory::Metric*> MetricHistory::Find(std::string_view metric) const {
  for (const auto& m : metrics_) {
    if (m->name == metric) return m.get();
  }
  return absl::NotFoundError(StrCat("no history for metric '", metric, "'"));
}

absl::StatusOr<Eigen::Map<const Eigen::MatrixXd>> MetricHistory::Get(
    std::string_view metric) const {
  absl::StatusOr<const Metric*> m = Find(metric);
  if (!m.ok()) return m.status();
  return Eigen::Map<const Eigen::MatrixXd>((*m)->data, static_cast<Eigen::Index>(num_accounts_),
                                           static_cast<Eigen::Index>(num_days_));
}

absl::Status MetricHistory::CheckWindow(WindowOp op, int days) const {
  const int min_days = op == WindowOp::kTrend ? 2 : 1;
  if (days < min_days) {
    return absl::InvalidArgumentError(
        StrCat(WindowOpName(op), " over ", days, " days: the window needs at least ", min_days));
  }
  // pct_change compares with the value `days` before the latest, so it needs one more day.
  const size_t needed = static_cast<size_t>(days) + (op == WindowOp::kPctChange ? 1 : 0);
  if (needed > num_days_) {
    return absl::OutOfRangeError(StrCat(WindowOpName(op), " over ", days, " days needs ", needed,
                                        " days of history, only ", num_days_, " kept"));
  }
  return absl::OkStatus();
}

namespace {

// Column passes over the window for accounts [begin, end), written to out[0, end - begin):
// for each day one contiguous sweep, with NaN handled by selects rather than branches so
// the loops vectorize.
void WindowColumns(const double* data, size_t n, size_t num_days, WindowOp op, int days,
                   size_t begin, size_t end, double* out) {
  const size_t first = num_days - static_cast<size_t>(days);
  auto day = [&](size_t d) { return data + d * n; };
  switch (op) {
    case WindowOp::kSum:
    case WindowOp::kMean: {
      std::vector<double> count(end - begin, 0.0);
      for (size_t i = begin; i < end; ++i) out[i - begin] = 0.0;
      for (size_t d = first; d < num_days; ++d) {
        const double* col = day(d);
        for (size_t i = begin; i < end; ++i) {
          const double v = col[i];
          const bool present = !std::isnan(v);
          out[i - begin] += present ? v : 0.0;
          count[i - begin] += present ? 1.0 : 0.0;
        }
      }
      for (size_t i = begin; i < end; ++i) {
        const double c = count[i - begin];
        out[i - begin] =
            c == 0.0 ? kNaN : (op == WindowOp::kMean ? out[i - begin] / c : out[i - begin]);
      }
      return;
    }
    case WindowOp::kMin:
    case WindowOp::kMax: {
      const bool is_min = op == WindowOp::kMin;
      for (size_t i = begin; i < end; ++i) out[i - begin] = kNaN;
      for (size_t d = first; d < num_days; ++d) {
        const double* col = day(d);
        for (size_t i = begin; i < end; ++i) {
          const double v = col[i];
          const double cur = out[i - begin];
          const bool take = !std::isnan(v) && (std::isnan(cur) || (is_min ? v < cur : v > cur));
          out[i - begin] = take ? v : cur;
        }
      }
      return;
    }
    case WindowOp::kLast: {
      for (size_t i = begin; i < end; ++i) out[i - begin] = kNaN;
      for (size_t d = first; d < num_days; ++d) {
        const double* col = day(d);
        for (size_t i = begin; i < end; ++i)
          out[i - begin] = std::isnan(col[i]) ? out[i - begin] : col[i];
      }
      return;
    }
    case WindowOp::kTrend: {
      // Least squares over present points: slope = (n Sxy - Sx Sy) / (n Sxx - Sx^2), x in days.
      const size_t m = end - begin;
      std::vector<double> sn(m, 0.0), sx(m, 0.0), sy(m, 0.0), sxx(m, 0.0), sxy(m, 0.0);
      for (size_t d = first; d < num_days; ++d) {
        const double* col = day(d);
        const double x = static_cast<double>(d - first);
        for (size_t i = begin; i < end; ++i) {
          const double v = col[i];
          const double p = std::isnan(v) ? 0.0 : 1.0;
          const double y = std::isnan(v) ? 0.0 : v;
          const size_t k = i - begin;
          sn[k] += p;
          sx[k] += p * x;
          sy[k] += y;
          sxx[k] += p * x * x;
          sxy[k] += x * y;
        }
      }
      for (size_t k = 0; k < m; ++k) {
        const double den = sn[k] * sxx[k] - sx[k] * sx[k];
        out[k] = (sn[k] < 2.0 || den == 0.0) ? kNaN : (sn[k] * sxy[k] - sx[k] * sy[k]) / den;
      }
      return;
    }
    case WindowOp::kPctChange: {
      const double* now = day(num_days - 1);
      const double* base = day(num_days - 1 - static_cast<size_t>(days));
      for (size_t i = begin; i < end; ++i) {
        const double b = base[i];
        out[i - begin] = (b == 0.0 || std::isnan(b) || std::isnan(now[i]))
                             ? kNaN
                             : 100.0 * (now[i] - b) / std::abs(b);
      }
      return;
    }
  }
}

}  // namespace

absl::Status MetricHistory::Window(std::string_view metric, WindowOp op, int days,
                                   std::span<double> out) const {
  absl::StatusOr<const Metric*> m = Find(metric);
  if (!m.ok()) return m.status();
  if (absl::Status s = CheckWindow(op, days); !s.ok()) {
    return absl::Status(s.code(), StrCat("metric '", metric, "': ", s.message()));
  }
  if (out.size() != num_accounts_) {
    return absl::InvalidArgumentError(
        StrCat("output has ", out.size(), " slots for ", num_accounts_, " accounts"));
  }
  // Blocks keep the per-account accumulators in L1 while sweeping the window's days.
  constexpr size_t kBlock = 2048;
  for (size_t begin = 0; begin < num_accounts_; begin += kBlock) {
    const size_t end = std::min(num_accounts_, begin + kBlock);
    WindowColumns((*m)->data, num_accounts_, num_days_, op, days, begin, end, out.data() + begin);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> MetricHistory::Window(std::string_view metric, WindowOp op,
                                                          int days) const {
  std::vector<double> out(num_accounts_);
  if (absl::Status s = Window(metric, op, days, std::span<double>(out)); !s.ok()) return s;
  return out;
}

absl::StatusOr<double> MetricHistory::WindowAt(std::string_view metric, WindowOp op, int days,
                                               size_t account) const {
  absl::StatusOr<const Metric*> m = Find(metric);
  if (!m.ok()) return m.status();
  if (absl::Status s = CheckWindow(op, days); !s.ok()) {
    return absl::Status(s.code(), StrCat("metric '", metric, "': ", s.message()));
  }
  if (account >= num_accounts_) {
    return absl::OutOfRangeError(StrCat("account index ", account, " is outside the ",
                                        num_accounts_, " accounts of the history"));
  }
  // Same kernel as the batch path, over a one-account block, so both agree bit for bit.
  double value = 0.0;
  WindowColumns((*m)->data, num_accounts_, num_days_, op, days, account, account + 1, &value);
  return value;
}

}  // namespace cscore
