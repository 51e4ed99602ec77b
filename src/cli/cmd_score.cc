// `cscore score`: scores the accounts of one CSV snapshot with a scorecard set and prints a
// readable table (score, health label, trend against the previous snapshot, top drivers),
// or writes the scores as CSV or JSON.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "cscore/base/strings.h"
#include "cscore/engine/persist.h"
#include "cscore/frame/csv.h"
#include "cscore/frame/history.h"
#include "cscore/health/scorecard.h"
#include "cscore/health/scorecard_yaml.h"
#include "nlohmann/json.hpp"

namespace cscore::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ScoreArgs {
  std::string config;
  std::string scorecards;
  std::string data;
  std::string date;
  std::string history;
  std::string out;
  std::string id_column = "account_id";
  std::string sort = "score";
  std::string color = "auto";
  std::string show;
  std::string only;
  bool json = false;
  int top = 0;
  int drivers = 3;
  int threads = 1;
};

template <typename T>
T ValueOrExit(absl::StatusOr<T> v) {
  CheckOrExit(v.status());
  return *std::move(v);
}

// "accounts-2026-06-01.csv" -> 2026-06-01.
std::optional<absl::CivilDay> DayOfFileName(const std::filesystem::path& p) {
  std::string stem = p.stem().string();
  constexpr std::string_view kPrefix = "accounts-";
  if (p.extension() != ".csv" || stem.size() != kPrefix.size() + 10 ||
      stem.compare(0, kPrefix.size(), kPrefix) != 0) {
    return std::nullopt;
  }
  absl::StatusOr<absl::CivilDay> d = ParseDay(stem.substr(kPrefix.size()));
  if (!d.ok()) return std::nullopt;
  return *d;
}

// A frame's metric values as float64 per row; NaN when missing. Other types are refused
// with the file and column, since a window over them means nothing.
absl::StatusOr<std::vector<double>> MetricValues(const Column& c, std::string_view file) {
  std::vector<double> out(c.size(), kNaN);
  switch (c.type) {
    case ColumnType::kFloat64:
      out.assign(c.f64.begin(), c.f64.end());
      return out;
    case ColumnType::kInt64:
      for (size_t r = 0; r < c.size(); ++r) {
        if (!c.IsMissing(r)) out[r] = static_cast<double>(c.i64[r]);
      }
      return out;
    case ColumnType::kBool:
      for (size_t r = 0; r < c.size(); ++r) {
        if (!c.IsMissing(r)) out[r] = c.b[r] ? 1.0 : 0.0;
      }
      return out;
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: column '%s' is %s; a windowed measure needs a numeric metric", file,
                          c.name, ColumnTypeName(c.type)));
  }
}

// Non-finite metric values would score as a clipped extreme: refuse them by account and column.
absl::Status CheckFinite(const AccountFrame& frame, std::string_view file) {
  for (const Column& c : frame.columns()) {
    // The CSV reader keeps a column with "inf" or "1e999" among its numbers as text, and it
    // would silently stop being a metric: name the value instead.
    if (c.type == ColumnType::kCategorical && !c.dictionary.empty()) {
      bool numbers = true;
      for (const std::string& v : c.dictionary) {
        char* end = nullptr;
        std::strtod(v.c_str(), &end);
        numbers = numbers && !v.empty() && end == v.c_str() + v.size();
      }
      for (size_t r = 0; numbers && r < c.codes.size(); ++r) {
        if (c.codes[r] < 0) continue;
        const std::string v(c.CategoryAt(r));
        if (!std::isfinite(std::strtod(v.c_str(), nullptr))) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: account '%s', column '%s': non-finite value '%s'", file,
                              frame.ids()[r], c.name, v));
        }
      }
    }
    if (c.type != ColumnType::kFloat64) continue;
    for (size_t r = 0; r < c.f64.size(); ++r) {
      if (std::isinf(c.f64[r])) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: account '%s', column '%s': infinite value", file, frame.ids()[r], c.name));
      }
    }
  }
  return absl::OkStatus();
}

// The dated snapshots of a history directory, read on first use.
class Snapshots {
 public:
  Snapshots(std::string dir, std::string id_column)
      : dir_(std::move(dir)), id_column_(std::move(id_column)) {}

  absl::Status List() {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec)) {
      return absl::NotFoundError(absl::StrFormat("%s: not a history directory", dir_));
    }
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      if (std::optional<absl::CivilDay> d = DayOfFileName(e.path())) files_[*d] = e.path().string();
    }
    if (ec) return absl::UnavailableError(absl::StrFormat("%s: %s", dir_, ec.message()));
    return absl::OkStatus();
  }

  // The latest snapshot day strictly before `day`.
  std::optional<absl::CivilDay> Before(absl::CivilDay day) const {
    auto it = files_.lower_bound(day);
    if (it == files_.begin()) return std::nullopt;
    return std::prev(it)->first;
  }

  // The snapshot of `day`, or null when the directory has none.
  absl::StatusOr<const AccountFrame*> Get(absl::CivilDay day) {
    if (auto it = frames_.find(day); it != frames_.end()) return &it->second;
    auto f = files_.find(day);
    if (f == files_.end()) return nullptr;
    CsvOptions options;
    options.id_column = id_column_;
    absl::StatusOr<AccountFrame> frame = ReadCsv(f->second, options);
    if (!frame.ok()) return frame.status();
    if (absl::Status s = CheckFinite(*frame, f->second); !s.ok()) return s;
    return &frames_.emplace(day, *std::move(frame)).first->second;
  }

  const std::string& file(absl::CivilDay day) const { return files_.at(day); }

 private:
  std::string dir_;
  std::string id_column_;
  std::map<absl::CivilDay, std::string> files_;
  std::map<absl::CivilDay, AccountFrame> frames_;
};

// The metrics the set's windowed measures read, and how many days they need (a percent
// change over N days compares with the day N days back, so N + 1).
struct WindowNeeds {
  std::vector<std::string> metrics;
  int days = 0;
};

WindowNeeds NeedsOf(const ScorecardSet& set) {
  WindowNeeds w;
  for (size_t c = 0; c < set.size(); ++c) {
    for (const MeasureDef& m : set.card(c).def().measures) {
      if (!m.window) continue;
      if (std::find(w.metrics.begin(), w.metrics.end(), m.metric) == w.metrics.end()) {
        w.metrics.push_back(m.metric);
      }
      w.days = std::max(w.days, m.window->days + 1);
    }
  }
  return w;
}

// The history of `frame` (the snapshot of `end`) over `days` days ending at `end`, aligned to
// the frame's rows. Days without a snapshot are NaN; without `snapshots` only `end` is known.
absl::StatusOr<MetricHistory> BuildHistory(const AccountFrame& frame, std::string_view frame_file,
                                           absl::CivilDay end, const WindowNeeds& needs,
                                           Snapshots* snapshots) {
  const size_t n = frame.num_rows();
  const int days = std::max(needs.days, 1);
  std::vector<Eigen::MatrixXd> values(
      needs.metrics.size(), Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(n), days, kNaN));
  for (int k = 0; k < days; ++k) {
    const absl::CivilDay day = end - (days - 1 - k);
    const AccountFrame* f = &frame;
    std::string file(frame_file);
    if (day != end) {
      if (snapshots == nullptr) continue;
      absl::StatusOr<const AccountFrame*> got = snapshots->Get(day);
      if (!got.ok()) return got.status();
      if (*got == nullptr) continue;
      f = *got;
      file = snapshots->file(day);
    }
    std::vector<int64_t> row(n, -1);
    if (f == &frame) {
      for (size_t r = 0; r < n; ++r) row[r] = static_cast<int64_t>(r);
    } else {
      for (size_t r = 0; r < n; ++r) {
        if (std::optional<size_t> o = f->RowOf(frame.ids()[r])) row[r] = static_cast<int64_t>(*o);
      }
    }
    for (size_t m = 0; m < needs.metrics.size(); ++m) {
      const Column* c = f->Find(needs.metrics[m]);
      if (c == nullptr) continue;  // not exported that day: missing
      absl::StatusOr<std::vector<double>> v = MetricValues(*c, file);
      if (!v.ok()) return v.status();
      for (size_t r = 0; r < n; ++r) {
        if (row[r] >= 0)
          values[m](static_cast<Eigen::Index>(r), k) = (*v)[static_cast<size_t>(row[r])];
      }
    }
  }
  MetricHistory history(n, static_cast<size_t>(days));
  for (size_t m = 0; m < needs.metrics.size(); ++m) {
    if (absl::Status s = history.AddMetric(needs.metrics[m], std::move(values[m])); !s.ok()) {
      return s;
    }
  }
  return history;
}

// One scored account, as every output format shows it.
struct Row {
  size_t row = 0;
  std::string scorecard;
  double score = kNaN;
  std::string label;
  std::string color;
  double previous = kNaN;
  double delta = kNaN;
  int trend = 0;
  std::optional<Explanation> why;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Display width of UTF-8 text: one column per code point (enough for names and arrows).
size_t Width(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

std::string Fit(std::string_view s, size_t width, bool right = false) {
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0)
      len = 4;
    else if (c >= 0xE0)
      len = 3;
    else if (c >= 0xC0)
      len = 2;
    if (w + 1 > width || (w + 1 == width && i + len < s.size())) {
      if (w < width) out += "…", ++w;
      break;
    }
    out.append(s.substr(i, len));
    i += len;
    ++w;
  }
  std::string pad(width > w ? width - w : 0, ' ');
  return right ? pad + out : out + pad;
}

std::string Ansi(std::string_view color, bool bright = false) {
  std::string c = Lower(std::string(color));
  if (c == "red") return bright ? "\033[1;31m" : "\033[31m";
  if (c == "yellow" || c == "amber" || c == "orange") return "\033[33m";
  if (c == "green") return "\033[32m";
  return "";
}

std::string Num(double v, int digits = 1) {
  return std::isnan(v) ? std::string("n/a") : absl::StrFormat("%.*f", digits, v);
}

nlohmann::ordered_json JsonNum(double v) {
  return std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
}

std::string TrendName(int t, double delta) {
  if (std::isnan(delta)) return "";
  return t > 0 ? "up" : (t < 0 ? "down" : "same");
}

std::string Arrow(int t, double delta) {
  if (std::isnan(delta)) return "";
  const char* a = t > 0 ? "↑" : (t < 0 ? "↓" : "→");
  return absl::StrFormat("%s %+.1f", a, delta);
}

// The value a measure read, as a person would say it: yes/no for booleans, else a number.
std::string RawText(const MeasureDef& def, double raw) {
  if (std::isnan(raw)) return "";
  if (def.kind == MeasureKind::kBoolean) return raw != 0 ? "yes" : "no";
  if (std::abs(raw) >= 100 || raw == std::round(raw)) return absl::StrFormat("%.0f", raw);
  return absl::StrFormat("%.3g", raw);
}

// "nps 25 (-12), champion 10 (no)": each driver's sub-score, then the value it read.
std::string Drivers(const Scorecard& card, const Explanation& ex, int count) {
  std::string out;
  int shown = 0;
  for (size_t i : ex.top_drivers) {
    if (shown == count) break;
    const MeasureExplanation& m = ex.measures[i];
    const std::string raw = RawText(card.def().measures[i], m.raw);
    out += absl::StrFormat("%s%s %.0f%s", out.empty() ? "" : ", ", m.measure, m.sub_score,
                           raw.empty() ? std::string() : " (" + raw + ")");
    ++shown;
  }
  return out;
}

// The cell of column `c` at `row` as text (for --show columns and the CSV output).
std::string Cell(const Column& c, size_t row) {
  if (c.IsMissing(row)) return "";
  switch (c.type) {
    case ColumnType::kFloat64:
      return std::isnan(c.f64[row]) ? std::string() : absl::StrFormat("%g", c.f64[row]);
    case ColumnType::kInt64:
      return absl::StrFormat("%d", c.i64[row]);
    case ColumnType::kBool:
      return c.b[row] ? "true" : "false";
    case ColumnType::kTimestamp:
      return FormatDay(absl::ToCivilDay(absl::FromUnixSeconds(c.i64[row]), absl::UTCTimeZone()));
    case ColumnType::kCategorical:
      return std::string(c.CategoryAt(row));
  }
  return "";
}

// ARR-like columns read better with thousands separators.
std::string Money(const Column& c, size_t row) {
  std::string s = Cell(c, row);
  if (c.type != ColumnType::kFloat64 && c.type != ColumnType::kInt64) return s;
  double v = c.type == ColumnType::kFloat64 ? c.f64[row] : static_cast<double>(c.i64[row]);
  if (std::isnan(v) || std::abs(v) >= 1e15) return s;
  std::string digits = absl::StrFormat("%.0f", std::abs(v));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string CsvQuote(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void Score(const ScoreArgs& args) {
  if (args.config.empty() == args.scorecards.empty()) {
    CheckOrExit(absl::InvalidArgumentError("give exactly one of --config DIR or --scorecards FILE"),
                2);
  }
  if (args.top < 0) CheckOrExit(absl::InvalidArgumentError("--top must be >= 0"), 2);
  const std::string cards_path =
      args.scorecards.empty() ? (std::filesystem::path(args.config) / "scorecards.yaml").string()
                              : args.scorecards;
  std::error_code ec;
  if (!std::filesystem::exists(cards_path, ec)) {
    CheckOrExit(absl::NotFoundError(absl::StrFormat("%s: no such file", cards_path)));
  }
  ScorecardSet set = ValueOrExit(LoadScorecardSet(cards_path));

  absl::CivilDay day;
  if (!args.date.empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay(args.date);
    CheckOrExit(d.status(), 2);
    day = *d;
  } else if (std::optional<absl::CivilDay> d = DayOfFileName(args.data)) {
    day = *d;
  } else {
    day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  }

  CsvOptions csv;
  csv.id_column = args.id_column;
  AccountFrame frame = ValueOrExit(ReadCsv(args.data, csv));
  CheckOrExit(CheckFinite(frame, args.data));
  const size_t n = frame.num_rows();

  // Windowed measures read a history: the dated snapshots of --history, or else today's
  // snapshot alone (means and last values are today's; trends and changes are missing).
  WindowNeeds needs = NeedsOf(set);
  std::unique_ptr<Snapshots> snapshots;
  if (!args.history.empty()) {
    snapshots = std::make_unique<Snapshots>(args.history, args.id_column);
    CheckOrExit(snapshots->List());
  }
  std::optional<MetricHistory> history;
  if (!needs.metrics.empty()) {
    history = ValueOrExit(BuildHistory(frame, args.data, day, needs, snapshots.get()));
  }
  ScoreOptions options;
  options.as_of = DayStart(day);
  options.threads = std::max(1, args.threads);
  options.detail = ScoreDetail::kFull;

  // The previous snapshot of the history scores the trend and the movers.
  std::optional<SetBatch> previous;
  std::optional<absl::CivilDay> previous_day;
  if (snapshots) {
    previous_day = snapshots->Before(day);
    if (previous_day) {
      const AccountFrame* pf = ValueOrExit(snapshots->Get(*previous_day));
      std::optional<MetricHistory> ph;
      if (!needs.metrics.empty()) {
        ph = ValueOrExit(BuildHistory(*pf, snapshots->file(*previous_day), *previous_day, needs,
                                      snapshots.get()));
      }
      ScoreOptions po = options;
      po.as_of = DayStart(*previous_day);
      absl::StatusOr<SetBatch> pb = set.Score(*pf, ph ? &*ph : nullptr, po);
      if (!pb.ok()) {
        CheckOrExit(absl::Status(pb.status().code(),
                                 absl::StrFormat("%s (scoring %s)", pb.status().message(),
                                                 snapshots->file(*previous_day))));
      }
      previous = *std::move(pb);
    }
  }
  absl::StatusOr<SetBatch> scored =
      set.Score(frame, history ? &*history : nullptr, options, previous ? &*previous : nullptr);
  if (!scored.ok()) {
    CheckOrExit(
        absl::Status(scored.status().code(),
                     absl::StrFormat("%s (scoring %s)", scored.status().message(), args.data)));
  }
  const SetBatch& batch = *scored;

  std::vector<Row> rows(n);
  std::map<std::string, int64_t> by_color, by_card;
  int64_t unscored = 0;
  for (size_t r = 0; r < n; ++r) {
    Row& row = rows[r];
    row.row = r;
    const Scorecard& card = set.card(static_cast<size_t>(batch.card[r]));
    row.scorecard = card.name();
    row.score = batch.score[r];
    if (batch.range[r] >= 0) {
      const RangeDef& range = card.def().scheme.ranges[static_cast<size_t>(batch.range[r])];
      row.label = range.label;
      row.color = Lower(range.color);
    }
    row.delta = batch.delta[r];
    row.previous = std::isnan(row.delta) ? kNaN : row.score - row.delta;
    row.trend = batch.trend[r];
    ++by_card[row.scorecard];
    if (std::isnan(row.score)) {
      ++unscored;
    } else {
      ++by_color[row.color.empty() ? std::string("other") : row.color];
    }
  }

  // Order: lowest score first (the accounts that need attention), N/A last; ties by id.
  std::vector<size_t> order(n);
  for (size_t r = 0; r < n; ++r) order[r] = r;
  const Column* arr = frame.Find("arr");
  auto by_id = [&](size_t a, size_t b) { return frame.ids()[a] < frame.ids()[b]; };
  if (args.sort == "id") {
    std::sort(order.begin(), order.end(), by_id);
  } else if (args.sort == "score" || args.sort == "score-desc") {
    const bool desc = args.sort == "score-desc";
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      double x = rows[a].score, y = rows[b].score;
      if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
      if (!std::isnan(x) && x != y) return desc ? x > y : x < y;
      return by_id(a, b);
    });
  } else if (args.sort == "arr") {
    if (arr == nullptr || (arr->type != ColumnType::kFloat64 && arr->type != ColumnType::kInt64)) {
      CheckOrExit(absl::InvalidArgumentError(
          absl::StrFormat("%s: --sort arr needs a numeric 'arr' column", args.data)));
    }
    std::vector<double> v = ValueOrExit(MetricValues(*arr, args.data));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (std::isnan(v[a]) != std::isnan(v[b])) return std::isnan(v[b]);
      if (!std::isnan(v[a]) && v[a] != v[b]) return v[a] > v[b];
      return by_id(a, b);
    });
  } else {
    CheckOrExit(absl::InvalidArgumentError(absl::StrFormat(
                    "--sort '%s': expected score, score-desc, arr or id", args.sort)),
                2);
  }
  // --only red,yellow: the accounts of those colors (n/a for unscored ones).
  size_t listed = n;
  if (!args.only.empty()) {
    std::vector<std::string> colors;
    for (absl::string_view c : absl::StrSplit(ToAbsl(args.only), ',', absl::SkipEmpty())) {
      colors.push_back(Lower(std::string(c)));
    }
    std::erase_if(order, [&](size_t r) {
      const std::string c = std::isnan(rows[r].score) ? "n/a" : rows[r].color;
      return std::find(colors.begin(), colors.end(), c) == colors.end();
    });
    listed = order.size();
  }
  const size_t shown =
      args.top > 0 ? std::min<size_t>(listed, static_cast<size_t>(args.top)) : listed;
  order.resize(shown);
  for (size_t r : order) {
    const ScoreBatch& b = batch.batch_of(r);
    const ScoreBatch* pb =
        previous ? &previous->batches[static_cast<size_t>(batch.card[r])] : nullptr;
    absl::StatusOr<Explanation> ex = set.card(static_cast<size_t>(batch.card[r])).Explain(b, r, pb);
    CheckOrExit(ex.status());
    rows[r].why = *std::move(ex);
  }

  auto share = [&](int64_t k) { return n ? 100.0 * static_cast<double>(k) / n : 0.0; };

  if (!args.out.empty()) {
    std::ofstream out(args.out, std::ios::binary | std::ios::trunc);
    if (!out) CheckOrExit(absl::UnavailableError(absl::StrFormat("%s: cannot write", args.out)));
    out << "account_id,scorecard,score,label,color,previous,delta,trend";
    for (int d = 1; d <= args.drivers; ++d) out << ",driver_" << d << ",driver_" << d << "_score";
    out << "\n";
    for (size_t r : order) {
      const Row& row = rows[r];
      out << CsvQuote(frame.ids()[r]) << ',' << CsvQuote(row.scorecard) << ','
          << (std::isnan(row.score) ? "" : absl::StrFormat("%.4f", row.score)) << ','
          << CsvQuote(row.label) << ',' << row.color << ','
          << (std::isnan(row.previous) ? "" : absl::StrFormat("%.4f", row.previous)) << ','
          << (std::isnan(row.delta) ? "" : absl::StrFormat("%.4f", row.delta)) << ','
          << TrendName(row.trend, row.delta);
      for (int d = 0; d < args.drivers; ++d) {
        if (static_cast<size_t>(d) < row.why->top_drivers.size()) {
          const MeasureExplanation& m = row.why->measures[row.why->top_drivers[d]];
          out << ',' << CsvQuote(m.measure) << ',' << absl::StrFormat("%.2f", m.sub_score);
        } else {
          out << ",,";
        }
      }
      out << "\n";
    }
    out.close();
    if (!out) CheckOrExit(absl::UnavailableError(absl::StrFormat("%s: write failed", args.out)));
  }

  if (args.json) {
    nlohmann::ordered_json j;
    j["date"] = FormatDay(day);
    j["data"] = args.data;
    j["scorecards"] = cards_path;
    j["accounts"] = n;
    j["health"] = {{"green", by_color["green"]},
                   {"yellow", by_color["yellow"]},
                   {"red", by_color["red"]},
                   {"unscored", unscored}};
    if (previous_day) j["previous_date"] = FormatDay(*previous_day);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t r : order) {
      const Row& row = rows[r];
      nlohmann::ordered_json e;
      e["account"] = frame.ids()[r];
      e["scorecard"] = row.scorecard;
      e["score"] = JsonNum(row.score);
      e["label"] = row.label;
      e["color"] = row.color;
      e["previous"] = JsonNum(row.previous);
      e["delta"] = JsonNum(row.delta);
      e["trend"] = std::isnan(row.delta) ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(TrendName(row.trend, row.delta));
      const Scorecard& card = set.card(static_cast<size_t>(batch.card[r]));
      auto measure = [&](size_t i) {
        const MeasureExplanation& m = row.why->measures[i];
        nlohmann::ordered_json o = {{"measure", m.measure},
                                    {"path", m.path},
                                    {"raw", JsonNum(m.raw)},
                                    {"value", RawText(card.def().measures[i], m.raw)},
                                    {"sub_score", JsonNum(m.sub_score)},
                                    {"contribution", m.contribution},
                                    {"points", m.points}};
        if (!std::isnan(m.delta_points)) o["delta_points"] = m.delta_points;
        if (m.overridden) o["overridden"] = true;
        return o;
      };
      e["drivers"] = nlohmann::ordered_json::array();
      for (size_t k = 0; k < row.why->top_drivers.size() && k < static_cast<size_t>(args.drivers);
           ++k) {
        e["drivers"].push_back(measure(row.why->top_drivers[k]));
      }
      e["movers"] = nlohmann::ordered_json::array();
      for (size_t k = 0; k < row.why->top_movers.size() && k < static_cast<size_t>(args.drivers);
           ++k) {
        e["movers"].push_back(measure(row.why->top_movers[k]));
      }
      list.push_back(std::move(e));
    }
    j["scores"] = std::move(list);
    std::cout << j.dump(2) << "\n";
    return;
  }

  // Summary first when writing a file; the table otherwise.
  const bool tty = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  const bool color = args.color == "always" || (args.color == "auto" && tty);
  if (args.color != "always" && args.color != "never" && args.color != "auto") {
    CheckOrExit(absl::InvalidArgumentError("--color: expected auto, always or never"), 2);
  }
  auto paint = [&](const std::string& text, std::string_view c, bool bright = false) {
    std::string code = color ? Ansi(c, bright) : "";
    return code.empty() ? text : code + text + "\033[0m";
  };
  std::cout << absl::StrFormat("%d accounts scored on %s (%s)%s\n", n, FormatDay(day), args.data,
                               previous_day
                                   ? absl::StrFormat(", trend against %s", FormatDay(*previous_day))
                                   : std::string());
  if (args.out.empty()) {
    // Extra columns: --show, or the account's name and ARR when the data has them.
    std::vector<const Column*> extra;
    if (!args.show.empty()) {
      for (absl::string_view name : absl::StrSplit(ToAbsl(args.show), ',')) {
        extra.push_back(ValueOrExit(frame.Get(ToStd(name))));
      }
    } else {
      for (const char* name : {"name", "arr"}) {
        if (const Column* c = frame.Find(name)) extra.push_back(c);
      }
    }
    const bool trend = previous_day.has_value();
    size_t id_w = 7;
    for (size_t r : order) id_w = std::max(id_w, Width(frame.ids()[r]));
    id_w = std::min<size_t>(id_w, 24);
    std::vector<size_t> extra_w;
    for (const Column* c : extra) {
      size_t w = Width(c->name);
      for (size_t r : order) w = std::max(w, Width(c->name == "arr" ? Money(*c, r) : Cell(*c, r)));
      extra_w.push_back(std::min<size_t>(w, 24));
    }
    size_t card_w = 9, label_w = 6;
    for (size_t r : order) {
      card_w = std::max(card_w, Width(rows[r].scorecard));
      label_w = std::max(label_w, Width(rows[r].label));
    }
    card_w = std::min<size_t>(card_w, 16);
    label_w = std::min<size_t>(label_w, 18);
    std::string head = Fit("account", id_w) + "  ";
    for (size_t k = 0; k < extra.size(); ++k) {
      const bool num =
          extra[k]->type == ColumnType::kFloat64 || extra[k]->type == ColumnType::kInt64;
      head += Fit(extra[k]->name, extra_w[k], num) + "  ";
    }
    head += Fit("scorecard", card_w) + "  " + Fit("score", 5, true) + "  " +
            Fit("health", label_w) + "  ";
    if (trend) head += Fit("trend", 8) + "  ";
    head += "top drivers: sub-score (value)";
    std::cout << "\n" << head << "\n";
    for (size_t r : order) {
      const Row& row = rows[r];
      std::string line = Fit(frame.ids()[r], id_w) + "  ";
      for (size_t k = 0; k < extra.size(); ++k) {
        const bool num =
            extra[k]->type == ColumnType::kFloat64 || extra[k]->type == ColumnType::kInt64;
        line += Fit(extra[k]->name == "arr" ? Money(*extra[k], r) : Cell(*extra[k], r), extra_w[k],
                    num) +
                "  ";
      }
      line += Fit(row.scorecard, card_w) + "  ";
      line += paint(Fit(Num(row.score), 5, true), row.color) + "  ";
      line += paint(Fit(row.label.empty() ? "n/a" : row.label, label_w), row.color,
                    row.color == "red") +
              "  ";
      if (trend) {
        std::string t = Arrow(row.trend, row.delta);
        line += paint(Fit(t, 8), row.trend < 0 ? "red" : (row.trend > 0 ? "green" : "")) + "  ";
      }
      line += Drivers(set.card(static_cast<size_t>(batch.card[r])), *row.why, args.drivers);
      std::cout << line << "\n";
    }
    if (shown < n) {
      std::cout << absl::StrFormat("(%d of %d %saccounts shown, %s)\n", shown, listed,
                                   args.only.empty() ? "" : args.only + " ",
                                   args.sort == "score"        ? "lowest scores first"
                                   : args.sort == "score-desc" ? "highest scores first"
                                   : args.sort == "arr"        ? "largest ARR first"
                                                               : "by account id");
    }
    std::cout << "\n";
  } else {
    std::cout << absl::StrFormat("wrote %d rows to %s\n", shown, args.out);
  }
  std::string dist = "health: ";
  for (const char* c : {"green", "yellow", "red"}) {
    dist += paint(absl::StrFormat("%s %d (%.1f%%)", c, by_color[c], share(by_color[c])), c) + "  ";
  }
  if (by_color.count("other")) {
    dist += absl::StrFormat("other %d (%.1f%%)  ", by_color["other"], share(by_color["other"]));
  }
  dist += absl::StrFormat("n/a %d (%.1f%%)", unscored, share(unscored));
  std::cout << dist << "\n";
  std::string cards = "scorecards: ";
  bool first = true;
  for (size_t c = 0; c < set.size(); ++c) {
    cards += absl::StrFormat("%s%s %d", first ? "" : ", ", set.card(c).name(),
                             by_card[set.card(c).name()]);
    first = false;
  }
  std::cout << cards << "\n";
  if (!snapshots && !needs.metrics.empty()) {
    std::cout << "(no --history: windowed measures see this snapshot alone, trends are n/a)\n";
  }
}

CommandRegistrar reg(
    "score",
    [](CLI::App& app) {
      auto args = std::make_shared<ScoreArgs>();
      CLI::App* cmd = app.add_subcommand(
          "score", "Score the accounts of a CSV snapshot: table, CSV (--out) or JSON (--json)");
      cmd->add_option("--config", args->config, "Configuration directory (its scorecards.yaml)");
      cmd->add_option("--scorecards", args->scorecards, "Scorecards YAML file");
      cmd->add_option("--data", args->data, "Accounts CSV (one row per account)")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->add_option(
          "--date", args->date,
          "Scoring day, YYYY-MM-DD (default: from accounts-YYYY-MM-DD.csv, else today)");
      cmd->add_option("--history", args->history,
                      "Directory of earlier snapshots accounts-YYYY-MM-DD.csv: windowed measures "
                      "and the trend against the previous snapshot");
      cmd->add_option("--out", args->out, "Write the scores as CSV to this file");
      cmd->add_flag("--json", args->json, "Print the scores as JSON");
      cmd->add_option("--top", args->top, "Show only the first N accounts of the order");
      cmd->add_option("--only", args->only,
                      "Only accounts of these colors, comma-separated (red, yellow, green, n/a)");
      cmd->add_option("--sort", args->sort, "score (lowest first, default), score-desc, arr, id");
      cmd->add_option("--show", args->show,
                      "Data columns to show in the table, comma-separated (default: name and "
                      "arr when present)");
      cmd->add_option("--drivers", args->drivers, "Drivers per account (default 3)")
          ->check(CLI::Range(0, 50));
      cmd->add_option("--id-column", args->id_column, "Account id column (default account_id)");
      cmd->add_option("--color", args->color, "auto (default: on a terminal), always, never");
      cmd->add_option("--threads", args->threads, "Scoring threads (default 1)")
          ->check(CLI::Range(1, 256));
      cmd->callback([args] { Score(*args); });
    },
    10);

}  // namespace
}  // namespace cscore::cli
