#include "cscore/engine/engine.h"

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "cscore/base/strings.h"
#include "cscore/frame/csv.h"
#include "cscore/health/scorecard_yaml.h"
#include "engine/status_macros.h"
#include "engine/utf8.h"
#include "nlohmann/json.hpp"

namespace cscore {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string SeriesName(std::string_view metric) { return StrCat("metric/", metric); }

// The value of row `r` of a metric column as float64; NaN when missing.
double ValueAt(const Column& c, size_t r) {
  switch (c.type) {
    case ColumnType::kFloat64:
      return c.f64[r];
    case ColumnType::kInt64:
      return c.IsMissing(r) ? kNaN : static_cast<double>(c.i64[r]);
    case ColumnType::kBool:
      return c.IsMissing(r) ? kNaN : static_cast<double>(c.b[r]);
    default:
      return kNaN;
  }
}

bool IsMetric(ColumnType t) {
  return t == ColumnType::kFloat64 || t == ColumnType::kInt64 || t == ColumnType::kBool;
}

// The number `text` spells, when it is all of a finite number.
std::optional<double> ParseFinite(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// True when every value of a text column is a number but some are not finite: the CSV
// reader keeps "inf" or "1e999" as text, and the column would silently stop being a metric.
std::optional<size_t> FirstNonFiniteNumber(const Column& c) {
  bool all_numbers = !c.dictionary.empty();
  for (const std::string& v : c.dictionary) {
    std::string s(v);
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) all_numbers = false;
  }
  if (!all_numbers) return std::nullopt;
  for (size_t r = 0; r < c.codes.size(); ++r) {
    if (c.codes[r] >= 0 && !ParseFinite(c.CategoryAt(r))) return r;
  }
  return std::nullopt;
}

// Everything a bad snapshot can get wrong that the frame itself does not refuse.
absl::Status ValidateSnapshot(const AccountFrame& snapshot) {
  if (snapshot.num_rows() == 0) {
    return absl::InvalidArgumentError("snapshot has no accounts; refusing to run an empty day");
  }
  std::span<const std::string> ids = snapshot.ids();
  for (size_t r = 0; r < ids.size(); ++r) {
    if (internal::FirstInvalidUtf8(ids[r]) != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("account id of row %d is not valid UTF-8", r + 1));
    }
  }
  for (const Column& c : snapshot.columns()) {
    if (internal::FirstInvalidUtf8(c.name) != std::string_view::npos) {
      return absl::InvalidArgumentError("a column name is not valid UTF-8");
    }
    if (c.type == ColumnType::kCategorical) {
      if (std::optional<size_t> r = FirstNonFiniteNumber(c)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "account '%s', column '%s': non-finite value '%s'", ids[*r], c.name, c.CategoryAt(*r)));
      }
      for (size_t r = 0; r < c.codes.size(); ++r) {
        if (c.codes[r] >= 0 &&
            internal::FirstInvalidUtf8(c.CategoryAt(r)) != std::string_view::npos) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "account '%s', column '%s': value is not valid UTF-8", ids[r], c.name));
        }
      }
    }
    if (c.type != ColumnType::kFloat64) continue;
    for (size_t r = 0; r < c.f64.size(); ++r) {
      if (std::isinf(c.f64[r])) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "account '%s', column '%s': infinite value %f", snapshot.ids()[r], c.name, c.f64[r]));
      }
    }
  }
  return absl::OkStatus();
}

// What the ingest step found, persisted as its journal summary.
struct IngestSummary {
  int64_t accounts = 0;
  int64_t new_accounts = 0;
  int64_t metrics = 0;
};

}  // namespace

std::vector<std::string> MetricColumns(const AccountFrame& frame) {
  std::vector<std::string> out;
  for (const Column& c : frame.columns()) {
    if (IsMetric(c.type)) out.push_back(c.name);
  }
  return out;
}

absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return absl::NotFoundError(absl::StrFormat("%s: not a data directory", data_dir));
  }
  std::filesystem::path dated =
      std::filesystem::path(data_dir) / StrCat("accounts-", FormatDay(date), ".csv");
  std::filesystem::path path =
      std::filesystem::exists(dated, ec) ? dated : std::filesystem::path(data_dir) / "accounts.csv";
  CsvOptions options;
  options.id_column = "account_id";
  return ReadCsv(path.string(), options);
}

Engine::Engine(Store& store, EngineOptions options)
    : store_(&store), options_(std::move(options)) {}

void Engine::progress_(std::string_view step, double fraction) const {
  if (options_.progress) options_.progress(step, fraction);
}

absl::StatusOr<RunReport> Engine::Run(const AccountFrame& snapshot, absl::CivilDay as_of) const {
  // A completed day is answered from the store: same inputs, same report, nothing written.
  CSCORE_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->LoadReport(as_of));
  if (stored) {
    CSCORE_ASSIGN_OR_RETURN(RunReport r, RunReport::FromJson(*stored));
    r.from_store = true;
    return r;
  }
  CSCORE_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> last_done, store_->LastCompletedDay());
  if (last_done && *last_done > as_of) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is before the last completed run (%s); days run in date order",
                        FormatDay(as_of), FormatDay(*last_done)));
  }
  CSCORE_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> last_started, store_->LastStartedDay());
  if (last_started && *last_started != as_of && (!last_done || *last_done < *last_started)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the run of %s did not finish; run %s again before %s",
                        FormatDay(*last_started), FormatDay(*last_started), FormatDay(as_of)));
  }
  CSCORE_RETURN_IF_ERROR(ValidateSnapshot(snapshot));
  // A metric that turns to text (a stray "n/a" or "12abc" in an export) would silently fall
  // out of the history; refuse it while the previous day says what the column was.
  if (last_done) {
    for (const Column& c : snapshot.columns()) {
      if (IsMetric(c.type)) continue;
      CSCORE_ASSIGN_OR_RETURN(std::vector<absl::CivilDay> had,
                              store_->SeriesDays(SeriesName(c.name), *last_done, *last_done));
      if (had.empty()) continue;
      std::string example;
      for (size_t r = 0; r < c.size() && example.empty(); ++r) {
        if (c.type == ColumnType::kCategorical && c.codes[r] >= 0 &&
            !ParseFinite(c.CategoryAt(r))) {
          example = absl::StrFormat(" (account '%s' has '%s')", snapshot.ids()[r],
                                    absl::CHexEscape(ToAbsl(c.CategoryAt(r))));
        }
      }
      return absl::InvalidArgumentError(
          absl::StrFormat("column '%s' was a numeric metric on %s but is %s now%s", c.name,
                          FormatDay(*last_done), ColumnTypeName(c.type), example));
    }
  }
  auto progress = [&](std::string_view step, double f) { progress_(step, f); };

  RunReport report;
  report.date = as_of;

  // Step "ingest": register new accounts and keep every metric column as the day's history.
  {
    IngestSummary sum;
    CSCORE_ASSIGN_OR_RETURN(std::optional<std::string> done,
                            store_->LoadStepSummary(as_of, "ingest"));
    if (done) {
      nlohmann::json j = nlohmann::json::parse(*done, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return absl::DataLossError("journal summary of step 'ingest' is not JSON");
      }
      sum.accounts = j.value("accounts", int64_t{0});
      sum.new_accounts = j.value("new_accounts", int64_t{0});
      sum.metrics = j.value("metrics", int64_t{0});
    } else {
      progress("ingest", 0.0);
      CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> registry, store_->Accounts());
      StringMap<size_t> index;
      index.reserve(registry.size() + snapshot.num_rows());
      for (size_t i = 0; i < registry.size(); ++i) index.emplace(registry[i], i);
      StepWrite w{.date = as_of, .step = "ingest"};
      std::vector<size_t> slot(snapshot.num_rows());
      std::span<const std::string> ids = snapshot.ids();
      for (size_t r = 0; r < ids.size(); ++r) {
        auto [it, inserted] = index.emplace(ids[r], registry.size() + w.new_accounts.size());
        if (inserted) w.new_accounts.push_back(ids[r]);
        slot[r] = it->second;
      }
      const size_t width = registry.size() + w.new_accounts.size();
      for (const Column& c : snapshot.columns()) {
        if (!IsMetric(c.type)) continue;
        DailySeries s{SeriesName(c.name), std::vector<double>(width, kNaN)};
        for (size_t r = 0; r < slot.size(); ++r) s.values[slot[r]] = ValueAt(c, r);
        w.series.push_back(std::move(s));
      }
      sum = {static_cast<int64_t>(snapshot.num_rows()), static_cast<int64_t>(w.new_accounts.size()),
             static_cast<int64_t>(w.series.size())};
      w.summary_json = nlohmann::json{
          {"accounts", sum.accounts},
          {"new_accounts", sum.new_accounts},
          {"metrics",
           sum.metrics}}.dump();
      progress("ingest", 0.5);
      CSCORE_RETURN_IF_ERROR(store_->Commit(w));
    }
    report.accounts = sum.accounts;
    report.new_accounts = sum.new_accounts;
    report.metrics = sum.metrics;
    report.steps.push_back("ingest");
    if (!options_.scorecards) report.health.unscored = sum.accounts;
  }

  if (options_.scorecards) {
    CSCORE_RETURN_IF_ERROR(HealthStep(snapshot, as_of, last_done, report));
  }

  // Step "report": the day is complete once its report is stored.
  report.steps.push_back("report");
  progress("report", 0.95);
  StepWrite w{.date = as_of, .step = "report"};
  w.report_json = report.ToJson();
  CSCORE_RETURN_IF_ERROR(store_->Commit(w));
  progress("report", 1.0);
  return report;
}

namespace {

// Registry slot of every row of the snapshot (all registered by the ingest step).
absl::StatusOr<std::vector<size_t>> Slots(const Store& store, const AccountFrame& snapshot) {
  CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> registry, store.Accounts());
  StringMap<size_t> index;
  index.reserve(registry.size());
  for (size_t i = 0; i < registry.size(); ++i) index.emplace(registry[i], i);
  std::vector<size_t> slot(snapshot.num_rows());
  for (size_t r = 0; r < slot.size(); ++r) {
    auto it = index.find(snapshot.ids()[r]);
    if (it == index.end()) {
      return absl::InternalError(
          absl::StrFormat("account '%s' is not registered", snapshot.ids()[r]));
    }
    slot[r] = it->second;
  }
  return slot;
}

// A stored series of `day` read at the snapshot's rows; all NaN when there is none.
absl::StatusOr<std::vector<double>> SeriesAtRows(const Store& store, std::string_view name,
                                                 std::optional<absl::CivilDay> day,
                                                 std::span<const size_t> slot) {
  std::vector<double> out(slot.size(), kNaN);
  if (!day) return out;
  absl::StatusOr<std::vector<double>> v = store.LoadSeries(name, *day);
  if (absl::IsNotFound(v.status())) return out;
  if (!v.ok()) return v.status();
  for (size_t r = 0; r < slot.size(); ++r) {
    if (slot[r] < v->size()) out[r] = (*v)[slot[r]];
  }
  return out;
}

// Colors as stored in the "score/color" series.
constexpr double kGreen = 0, kYellow = 1, kRed = 2;

double ColorCode(std::string_view color) {
  std::string c(color);
  for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (c == "green") return kGreen;
  if (c == "yellow" || c == "amber") return kYellow;
  if (c == "red") return kRed;
  return kNaN;
}

}  // namespace

absl::Status Engine::HealthStep(const AccountFrame& snapshot, absl::CivilDay as_of,
                                std::optional<absl::CivilDay> previous_day,
                                RunReport& report) const {
  RunReport::Health health;
  std::vector<std::string> new_red;
  CSCORE_ASSIGN_OR_RETURN(std::optional<std::string> done,
                          store_->LoadStepSummary(as_of, "health"));
  if (done) {
    nlohmann::json j = nlohmann::json::parse(*done, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::DataLossError("journal summary of step 'health' is not JSON");
    }
    health = {j.value("green", int64_t{0}), j.value("yellow", int64_t{0}),
              j.value("red", int64_t{0}), j.value("unscored", int64_t{0})};
    new_red = j.value("new_red", std::vector<std::string>{});
  } else {
    progress_("health", 0.55);
    const ScorecardSet& set = *options_.scorecards;
    CSCORE_ASSIGN_OR_RETURN(std::vector<size_t> slot, Slots(*store_, snapshot));
    // Windowed measures read the stored history, today's snapshot included.
    std::vector<std::string> windowed;
    int days = 1;
    for (size_t c = 0; c < set.size(); ++c) {
      for (const MeasureDef& m : set.card(c).def().measures) {
        if (!m.window) continue;
        if (std::find(windowed.begin(), windowed.end(), m.metric) == windowed.end()) {
          windowed.push_back(m.metric);
        }
        days = std::max(days, m.window->days + 1);
      }
    }
    std::optional<MetricHistory> history;
    if (!windowed.empty()) {
      CSCORE_ASSIGN_OR_RETURN(history, LoadHistory(snapshot, windowed, as_of, days));
    }
    CSCORE_ASSIGN_OR_RETURN(std::vector<double> previous,
                            SeriesAtRows(*store_, "score/overall", previous_day, slot));
    CSCORE_ASSIGN_OR_RETURN(std::vector<double> previous_color,
                            SeriesAtRows(*store_, "score/color", previous_day, slot));
    ScoreOptions so;
    so.as_of = DayStart(as_of);
    so.previous = previous;
    so.detail = ScoreDetail::kScores;
    absl::StatusOr<SetBatch> batch =
        set.Score(snapshot, history ? &*history : nullptr, so, nullptr);
    if (!batch.ok()) {
      return absl::Status(batch.status().code(),
                          StrCat("scoring: ", ToStd(batch.status().message())));
    }
    CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> registry, store_->Accounts());
    StepWrite w{.date = as_of, .step = "health"};
    DailySeries score{"score/overall", std::vector<double>(registry.size(), kNaN)};
    DailySeries color{"score/color", std::vector<double>(registry.size(), kNaN)};
    DailySeries card{"score/card", std::vector<double>(registry.size(), kNaN)};
    for (size_t r = 0; r < slot.size(); ++r) {
      const double s = batch->score[r];
      double code = kNaN;
      if (!std::isnan(s) && batch->range[r] >= 0) {
        const SchemeDef& scheme = set.card(static_cast<size_t>(batch->card[r])).def().scheme;
        code = ColorCode(scheme.ranges[static_cast<size_t>(batch->range[r])].color);
      }
      score.values[slot[r]] = s;
      color.values[slot[r]] = code;
      card.values[slot[r]] = batch->card[r];
      if (code == kGreen) ++health.green;
      else if (code == kYellow) ++health.yellow;
      else if (code == kRed) ++health.red;
      else ++health.unscored;
      if (code == kRed && previous_color[r] != kRed) new_red.push_back(snapshot.ids()[r]);
    }
    w.series = {std::move(score), std::move(color), std::move(card)};
    w.summary_json = nlohmann::json{{"green", health.green},
                                    {"yellow", health.yellow},
                                    {"red", health.red},
                                    {"unscored", health.unscored},
                                    {"new_red", new_red}}
                         .dump();
    CSCORE_RETURN_IF_ERROR(store_->Commit(w));
  }
  report.health = health;
  report.new_red_accounts = std::move(new_red);
  report.steps.push_back("health");
  return absl::OkStatus();
}

absl::StatusOr<EngineOptions> LoadEngineOptions(const std::string& config_dir) {
  EngineOptions options;
  std::filesystem::path scorecards = std::filesystem::path(config_dir) / "scorecards.yaml";
  std::error_code ec;
  if (std::filesystem::exists(scorecards, ec)) {
    CSCORE_ASSIGN_OR_RETURN(ScorecardSet set, LoadScorecardSet(scorecards.string()));
    options.scorecards = std::make_shared<const ScorecardSet>(std::move(set));
  }
  return options;
}

absl::StatusOr<MetricHistory> Engine::LoadHistory(const AccountFrame& snapshot,
                                                  const std::vector<std::string>& metrics,
                                                  absl::CivilDay as_of, int days) const {
  if (days < 1) return absl::InvalidArgumentError(absl::StrFormat("history of %d days", days));
  CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> registry, store_->Accounts());
  StringMap<size_t> index;
  for (size_t i = 0; i < registry.size(); ++i) index.emplace(registry[i], i);
  const size_t n = snapshot.num_rows();
  std::vector<int64_t> slot(n, -1);
  for (size_t r = 0; r < n; ++r) {
    auto it = index.find(snapshot.ids()[r]);
    if (it != index.end()) slot[r] = static_cast<int64_t>(it->second);
  }
  MetricHistory history(n, static_cast<size_t>(days));
  const absl::CivilDay first = as_of - (days - 1);
  for (const std::string& m : metrics) {
    Eigen::MatrixXd values = Eigen::MatrixXd::Constant(n, days, kNaN);
    CSCORE_ASSIGN_OR_RETURN(std::vector<absl::CivilDay> stored,
                            store_->SeriesDays(SeriesName(m), first, as_of));
    for (absl::CivilDay day : stored) {
      CSCORE_ASSIGN_OR_RETURN(std::vector<double> v, store_->LoadSeries(SeriesName(m), day));
      const auto col = static_cast<Eigen::Index>(day - first);
      for (size_t r = 0; r < n; ++r) {
        if (slot[r] >= 0 && static_cast<size_t>(slot[r]) < v.size()) values(r, col) = v[slot[r]];
      }
    }
    CSCORE_RETURN_IF_ERROR(history.AddMetric(m, std::move(values)));
  }
  return history;
}

}  // namespace cscore
