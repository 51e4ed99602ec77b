#include "cscore/engine/engine.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cscore/base/strings.h"
#include "cscore/escalation/timers.h"
#include "cscore/frame/csv.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/rules/apply.h"
#include "engine/cta_log.h"
#include "engine/status_macros.h"
#include "engine/utf8.h"
#include "nlohmann/json.hpp"

namespace cscore {
namespace {

using engine_internal::CtaLog;
using Json = nlohmann::json;

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
      // Every value is a dictionary entry: check each entry once, then find a row using a
      // bad one to name it.
      std::vector<uint8_t> bad(c.dictionary.size(), 0);
      bool any_bad = false;
      for (size_t k = 0; k < c.dictionary.size(); ++k) {
        bad[k] = internal::FirstInvalidUtf8(c.dictionary[k]) != std::string_view::npos;
        any_bad = any_bad || bad[k];
      }
      for (size_t r = 0; any_bad && r < c.codes.size(); ++r) {
        if (c.codes[r] >= 0 && bad[static_cast<size_t>(c.codes[r])]) {
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

absl::StatusOr<Json> ParseSummary(std::string_view step, const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrFormat("journal summary of step '%s' is not JSON", step));
  }
  return j;
}

int64_t Get(const Json& j, const char* key) { return j.value(key, int64_t{0}); }

// What the rules' set_measure and tag actions leave behind, carried from day to day by the
// rules step in its own series (by registry slot, NaN = none): override/<measure> (the
// value), override_until/<measure> (the expiry, seconds since the epoch, exclusive),
// override_rule/<measure> (the setting rule, an index into the step summary's
// "override_rules" list of names) and tag/<tag> (1 = tagged). The rules step of a day writes
// the whole state (nothing for a measure without active overrides or a tag nobody holds), so
// the state after a day is the one stored on that day.
constexpr std::string_view kOverridePrefix = "override/";
constexpr std::string_view kOverrideUntilPrefix = "override_until/";
constexpr std::string_view kOverrideRulePrefix = "override_rule/";
constexpr std::string_view kTagPrefix = "tag/";

struct MeasureOverrides {
  std::vector<double> value, until, rule;
};

struct RuleMarks {
  std::map<std::string, MeasureOverrides, std::less<>> overrides;  // by measure
  std::map<std::string, std::vector<double>, std::less<>> tags;    // by tag
  std::vector<std::string> rules;                                  // what `rule` indexes
};

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// The series without its trailing NaNs: a shorter series reads back as NaN, and most
// accounts carry no override or tag.
DailySeries Trimmed(std::string name, std::vector<double> values) {
  size_t n = values.size();
  while (n > 0 && std::isnan(values[n - 1])) --n;
  values.resize(n);
  return {std::move(name), std::move(values)};
}

// The state stored on `day` (empty without a day or without a rules step that day), each
// series `slots` long at least.
absl::StatusOr<RuleMarks> LoadRuleMarks(const Store& store, std::optional<absl::CivilDay> day,
                                        size_t slots) {
  RuleMarks marks;
  if (!day) return marks;
  CSCORE_ASSIGN_OR_RETURN(std::optional<std::string> summary, store.LoadStepSummary(*day, "rules"));
  if (!summary) return marks;
  CSCORE_ASSIGN_OR_RETURN(Json sum, ParseSummary("rules", *summary));
  if (auto it = sum.find("override_rules"); it != sum.end()) {
    if (!it->is_array()) {
      return absl::DataLossError(absl::StrFormat(
          "journal summary of step 'rules' of %s: override_rules is not a list", FormatDay(*day)));
    }
    for (const Json& name : *it) {
      if (!name.is_string()) {
        return absl::DataLossError(absl::StrFormat(
            "journal summary of step 'rules' of %s: override_rules holds a non-string",
            FormatDay(*day)));
      }
      marks.rules.push_back(name.get<std::string>());
    }
  }
  auto load = [&](std::string_view name) -> absl::StatusOr<std::vector<double>> {
    CSCORE_ASSIGN_OR_RETURN(std::vector<double> v, store.LoadSeries(name, *day));
    if (v.size() < slots) v.resize(slots, kNaN);
    return v;
  };
  CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> names, store.SeriesNames(*day));
  for (const std::string& name : names) {
    if (HasPrefix(name, kOverridePrefix)) {
      const std::string measure = name.substr(kOverridePrefix.size());
      MeasureOverrides m;
      CSCORE_ASSIGN_OR_RETURN(m.value, load(name));
      absl::StatusOr<std::vector<double>> until = load(StrCat(kOverrideUntilPrefix, measure));
      absl::StatusOr<std::vector<double>> rule = load(StrCat(kOverrideRulePrefix, measure));
      if (absl::IsNotFound(until.status()) || absl::IsNotFound(rule.status())) {
        return absl::DataLossError(absl::StrFormat(
            "series '%s' of %s lacks its expiry or rule series", name, FormatDay(*day)));
      }
      if (!until.ok()) return until.status();
      if (!rule.ok()) return rule.status();
      m.until = *std::move(until);
      m.rule = *std::move(rule);
      const size_t n = std::max({m.value.size(), m.until.size(), m.rule.size()});
      m.value.resize(n, kNaN);
      m.until.resize(n, kNaN);
      m.rule.resize(n, kNaN);
      for (size_t s = 0; s < n; ++s) {
        if (std::isnan(m.value[s])) continue;
        const double r = m.rule[s];
        if (std::isnan(m.until[s]) || !(r >= 0) || r >= static_cast<double>(marks.rules.size())) {
          return absl::DataLossError(absl::StrFormat(
              "series '%s' of %s: slot %d has no valid expiry or rule", name, FormatDay(*day), s));
        }
      }
      marks.overrides.emplace(measure, std::move(m));
    } else if (HasPrefix(name, kTagPrefix)) {
      CSCORE_ASSIGN_OR_RETURN(std::vector<double> v, load(name));
      marks.tags.emplace(name.substr(kTagPrefix.size()), std::move(v));
    }
  }
  return marks;
}

// The series that store `marks` (overrides whose expiry is after `keep_after` only), the rule
// names compacted and sorted into marks.rules.
std::vector<DailySeries> RuleMarkSeries(RuleMarks& marks, int64_t keep_after, int64_t* overrides,
                                        int64_t* tags) {
  std::set<std::string> used;
  for (auto& [measure, m] : marks.overrides) {
    for (size_t s = 0; s < m.value.size(); ++s) {
      if (std::isnan(m.value[s])) continue;
      if (!(m.until[s] > static_cast<double>(keep_after))) {
        m.value[s] = m.until[s] = m.rule[s] = kNaN;
        continue;
      }
      used.insert(marks.rules[static_cast<size_t>(m.rule[s])]);
    }
  }
  std::vector<std::string> names(used.begin(), used.end());
  std::vector<double> remap(marks.rules.size(), kNaN);
  for (size_t i = 0; i < marks.rules.size(); ++i) {
    auto it = std::lower_bound(names.begin(), names.end(), marks.rules[i]);
    if (it != names.end() && *it == marks.rules[i])
      remap[i] = static_cast<double>(it - names.begin());
  }
  std::vector<DailySeries> out;
  *overrides = *tags = 0;
  for (auto& [measure, m] : marks.overrides) {
    int64_t active = 0;
    for (size_t s = 0; s < m.value.size(); ++s) {
      if (std::isnan(m.value[s])) continue;
      m.rule[s] = remap[static_cast<size_t>(m.rule[s])];
      ++active;
    }
    if (active == 0) continue;
    *overrides += active;
    out.push_back(Trimmed(StrCat(kOverridePrefix, measure), m.value));
    out.push_back(Trimmed(StrCat(kOverrideUntilPrefix, measure), m.until));
    out.push_back(Trimmed(StrCat(kOverrideRulePrefix, measure), m.rule));
  }
  for (auto& [tag, v] : marks.tags) {
    int64_t held = 0;
    for (double x : v) held += !std::isnan(x);
    if (held == 0) continue;
    *tags += held;
    out.push_back(Trimmed(StrCat(kTagPrefix, tag), v));
  }
  marks.rules = std::move(names);
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

// The metrics (and how many days of them) the day's definitions read from the history.
struct HistoryNeeds {
  std::set<std::string> metrics;
  int days = 0;
  void Add(const std::string& metric, int window) {
    metrics.insert(metric);
    days = std::max(days, window + 1);  // pct_change over N days reads N + 1 snapshots
  }
};

// Metric functions of a CEL expression: avg/sum/trend/pct_change('metric', days). A window
// that is not a literal reads `fallback_days`.
void AddExpressionNeeds(std::string_view expr, const std::set<std::string>& metric_names,
                        int fallback_days, HistoryNeeds& needs) {
  static const std::regex kCall(
      R"re(\b(?:avg|sum|trend|pct_change)\s*\(\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_]*))\s*,\s*([0-9]+\s*\))?)re");
  const std::string text(expr);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kCall);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    std::string metric = m[1].matched ? m[1].str() : m[2].matched ? m[2].str() : m[3].str();
    if (!metric_names.count(metric)) continue;  // the checker reports it
    const int days = m[4].matched ? std::atoi(m[4].str().c_str()) : fallback_days;
    needs.Add(metric, std::clamp(days, 1, 100000));
  }
}

// The person holding an owner role for an account, from the role's column.
class OwnerResolver {
 public:
  OwnerResolver(const AccountFrame& frame,
                const std::vector<std::pair<std::string, std::string>>& columns) {
    for (const auto& [role, column] : columns) {
      const Column* c = frame.Find(column);
      if (c != nullptr && c->type == ColumnType::kCategorical) by_role_[role] = c;
    }
  }
  // Empty when the role has no column or the account no value.
  std::string_view Owner(std::string_view role, size_t row) const {
    auto it = by_role_.find(role);
    if (it == by_role_.end()) return {};
    return it->second->CategoryAt(row);
  }

 private:
  StringMap<const Column*> by_role_;
};

}  // namespace

int RiskStatusOf(double packed, int domain) {
  if (std::isnan(packed) || domain < 0 || domain >= 8) return -1;
  return (static_cast<int>(packed) >> (2 * domain)) & 3;
}

absl::StatusOr<AccountRuleState> LoadAccountRuleState(const Store& store, absl::CivilDay day,
                                                      std::string_view account_id) {
  CSCORE_ASSIGN_OR_RETURN(std::vector<std::string> registry, store.Accounts());
  auto it = std::find(registry.begin(), registry.end(), account_id);
  if (it == registry.end()) {
    return absl::NotFoundError(absl::StrFormat("account '%s' is not registered", account_id));
  }
  const size_t slot = static_cast<size_t>(it - registry.begin());
  CSCORE_ASSIGN_OR_RETURN(RuleMarks marks, LoadRuleMarks(store, day, registry.size()));
  AccountRuleState out;
  for (const auto& [measure, m] : marks.overrides) {
    if (slot >= m.value.size() || std::isnan(m.value[slot])) continue;
    const absl::Time until = absl::FromUnixSeconds(static_cast<int64_t>(m.until[slot]));
    out.overrides.push_back({measure, m.value[slot], absl::ToCivilDay(until, absl::UTCTimeZone()),
                             marks.rules[static_cast<size_t>(m.rule[slot])]});
  }
  for (const auto& [tag, v] : marks.tags) {
    if (slot < v.size() && !std::isnan(v[slot])) out.tags.push_back(tag);
  }
  return out;
}

std::vector<std::string> MetricColumns(const AccountFrame& frame) {
  std::vector<std::string> out;
  for (const Column& c : frame.columns()) {
    if (IsMetric(c.type)) out.push_back(c.name);
  }
  return out;
}

namespace {

absl::StatusOr<std::filesystem::path> SnapshotPath(const std::string& data_dir,
                                                   absl::CivilDay date) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return absl::NotFoundError(absl::StrFormat("%s: not a data directory", data_dir));
  }
  std::filesystem::path dated =
      std::filesystem::path(data_dir) / StrCat("accounts-", FormatDay(date), ".csv");
  return std::filesystem::exists(dated, ec) ? dated
                                            : std::filesystem::path(data_dir) / "accounts.csv";
}

// The names of a CSV header line (quotes stripped); empty when the file cannot be read.
std::set<std::string> HeaderNames(const std::filesystem::path& path) {
  std::set<std::string> names;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line, '\n') || line.size() > (1u << 20)) return names;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(',', start);
    if (end == std::string::npos) end = line.size();
    std::string name = line.substr(start, end - start);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    names.insert(std::move(name));
    start = end + 1;
  }
  return names;
}

}  // namespace

absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date) {
  CSCORE_ASSIGN_OR_RETURN(std::filesystem::path path, SnapshotPath(data_dir, date));
  CsvOptions options;
  options.id_column = "account_id";
  return ReadCsv(path.string(), options);
}

absl::StatusOr<AccountFrame> ReadSnapshot(const std::string& data_dir, absl::CivilDay date,
                                          const EngineOptions& engine) {
  CSCORE_ASSIGN_OR_RETURN(std::filesystem::path path, SnapshotPath(data_dir, date));
  // The columns the definitions read with a known type: a day on which one is empty (or
  // happens to look like numbers) must not change its type.
  std::map<std::string, ColumnType, std::less<>> wanted;
  for (const MilestoneDef& m : engine.timed.milestones)
    wanted[m.start_column] = ColumnType::kTimestamp;
  for (const QbrDef& q : engine.timed.qbrs) wanted[q.start_column] = ColumnType::kTimestamp;
  for (const auto& [role, column] : engine.owner_columns) wanted[column] = ColumnType::kCategorical;
  if (engine.rules) {
    for (const RuleDef& r : *engine.rules) {
      for (const RuleAction& a : r.actions) {
        if (const auto* open = std::get_if<OpenCtaAction>(&a)) {
          wanted.emplace(open->owner_role, ColumnType::kCategorical);
        }
      }
    }
  }
  wanted[engine.columns.tier] = ColumnType::kCategorical;
  wanted[engine.columns.sale_sponsor] = ColumnType::kCategorical;
  wanted[engine.columns.renewal_at_risk] = ColumnType::kBool;
  wanted[engine.columns.edm_left] = ColumnType::kBool;
  CsvOptions options;
  options.id_column = "account_id";
  const std::set<std::string> header = HeaderNames(path);
  for (const auto& [name, type] : wanted) {
    if (!name.empty() && name != options.id_column && header.count(name)) {
      options.types[name] = type;
    }
  }
  return ReadCsv(path.string(), options);
}

// One day's run: the compiled definitions, the restored state, and the steps.
class DayRun {
 public:
  DayRun(Store& store, const EngineOptions& o, const AccountFrame& snapshot, absl::CivilDay as_of,
         std::optional<absl::CivilDay> previous_day)
      : store_(store),
        o_(o),
        snapshot_(snapshot),
        as_of_(as_of),
        t0_(absl::FromCivil(as_of, absl::UTCTimeZone())),
        previous_day_(previous_day) {
    report_.date = as_of;
  }

  absl::Status Prepare();
  absl::Status Restore();
  absl::Status Ingest();
  absl::Status Health();
  absl::Status Risk();
  absl::Status Rules();
  absl::Status Timed();
  absl::Status Escalation();
  absl::StatusOr<RunReport> Finish();

  bool has_ctas() const { return has_cta_step_; }

 private:
  void Progress(std::string_view step, double f) const {
    if (o_.progress) o_.progress(step, f);
  }
  // The summary of `step` when it is already journaled for the day.
  absl::StatusOr<std::optional<Json>> Done(std::string_view step) const;
  absl::Status Commit(StepWrite& w);
  absl::Status EnsureHistory();
  // A per-account series of the day, NaN for the registered accounts not in the snapshot.
  DailySeries Series(std::string name, const std::vector<double>& by_row) const;
  absl::StatusOr<std::vector<double>> SeriesAtRows(std::string_view name,
                                                   std::optional<absl::CivilDay> day) const;
  std::vector<ReentryRow> ReentryDelta();
  absl::Status ComputeSlots(bool register_new, std::vector<std::string>* added);
  void ResolveTimedOwners(std::vector<TimedIntent>& intents) const;
  int64_t DayStart() const { return absl::ToUnixSeconds(t0_); }

  Store& store_;
  const EngineOptions& o_;
  const AccountFrame& snapshot_;
  const absl::CivilDay as_of_;
  const absl::Time t0_;
  const std::optional<absl::CivilDay> previous_day_;
  RunReport report_;

  // Compiled against the snapshot.
  std::vector<std::pair<std::string, std::string>> owner_columns_;
  std::optional<RiskScorecard> risk_;
  std::optional<RuleSet> rules_;
  std::optional<TimedCtas> timed_;
  HistoryNeeds needs_;
  bool has_cta_step_ = false;

  // Restored state.
  std::vector<std::string> registry_;
  std::vector<size_t> slot_;  // registry index of each snapshot row
  std::unique_ptr<CtaLog> ctas_;
  RuleState rule_state_;
  std::vector<ReentryRow> reentry_;  // as loaded, sorted by (rule, account)
  std::vector<EscalationRow> escalations_;
  std::vector<SponsorRow> sponsors_;

  std::optional<MetricHistory> history_;
  bool history_loaded_ = false;
  std::vector<double> risk_packed_;  // per snapshot row, once the risk step ran or loaded
};

absl::StatusOr<std::optional<Json>> DayRun::Done(std::string_view step) const {
  CSCORE_ASSIGN_OR_RETURN(std::optional<std::string> done, store_.LoadStepSummary(as_of_, step));
  if (!done) return std::optional<Json>();
  CSCORE_ASSIGN_OR_RETURN(Json j, ParseSummary(step, *done));
  return std::optional<Json>(std::move(j));
}

absl::Status DayRun::Commit(StepWrite& w) {
  w.date = as_of_;
  absl::Status s = store_.Commit(w);
  if (!s.ok()) {
    return absl::Status(s.code(), StrCat("step '", w.step, "': ", ToStd(s.message())));
  }
  return s;
}

absl::Status DayRun::Prepare() {
  const std::vector<ColumnSpec> schema = snapshot_.schema();
  std::set<std::string> metric_names;
  std::vector<std::string> metric_list = MetricColumns(snapshot_);
  metric_names.insert(metric_list.begin(), metric_list.end());

  // Columns the engine reads must have the type it reads them as.
  auto expect = [&](const std::string& name, std::initializer_list<ColumnType> types,
                    std::string_view what) -> absl::Status {
    const Column* c = snapshot_.Find(name);
    if (c == nullptr) return absl::OkStatus();
    for (ColumnType t : types) {
      if (c->type == t) return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrFormat("column '%s' (%s) is %s; expected %s", name,
                                                      what, ColumnTypeName(c->type),
                                                      ColumnTypeName(*types.begin())));
  };
  CSCORE_RETURN_IF_ERROR(expect(o_.columns.arr, {ColumnType::kFloat64, ColumnType::kInt64}, "ARR"));
  CSCORE_RETURN_IF_ERROR(expect(o_.columns.tier, {ColumnType::kCategorical}, "tier"));
  CSCORE_RETURN_IF_ERROR(
      expect(o_.columns.renewal_at_risk, {ColumnType::kBool}, "renewal at risk"));
  CSCORE_RETURN_IF_ERROR(expect(o_.columns.edm_left, {ColumnType::kBool}, "decision maker left"));
  CSCORE_RETURN_IF_ERROR(
      expect(o_.columns.sale_sponsor, {ColumnType::kCategorical}, "sale sponsor"));

  // Owner roles: the configured columns, else a column named after the role.
  owner_columns_ = o_.owner_columns;
  std::set<std::string> roles;
  if (o_.rules) {
    for (const RuleDef& r : *o_.rules) {
      for (const RuleAction& a : r.actions) {
        if (const auto* open = std::get_if<OpenCtaAction>(&a)) roles.insert(open->owner_role);
      }
    }
  }
  for (const MilestoneDef& m : o_.timed.milestones) roles.insert(m.cta.owner_role);
  for (const QbrDef& q : o_.timed.qbrs) roles.insert(q.cta.owner_role);
  for (const std::string& role : roles) {
    if (role.empty()) continue;
    const bool configured = std::any_of(owner_columns_.begin(), owner_columns_.end(),
                                        [&](const auto& p) { return p.first == role; });
    const Column* c = snapshot_.Find(role);
    if (!configured && c != nullptr && c->type == ColumnType::kCategorical) {
      owner_columns_.emplace_back(role, role);
    }
  }
  for (const auto& [role, column] : owner_columns_) {
    const Column* c = snapshot_.Find(column);
    if (c == nullptr || c->type != ColumnType::kCategorical) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "engine.yaml owner_columns: role '%s' reads column '%s', which the snapshot %s", role,
          column,
          c == nullptr ? "does not have" : "holds as " + std::string(ColumnTypeName(c->type))));
    }
  }

  // What the definitions read from the history.
  if (o_.scorecards) {
    for (size_t c = 0; c < o_.scorecards->size(); ++c) {
      for (const MeasureDef& m : o_.scorecards->card(c).def().measures) {
        if (m.window) needs_.Add(m.metric, m.window->days);
      }
    }
  }
  auto threshold_need = [&](const std::optional<ThresholdDef>& t) {
    if (t && !t->metric.empty()) needs_.Add(t->metric, t->days);
  };
  if (o_.risk) {
    for (const RiskDomainDef& d : o_.risk->domains) {
      for (const RiskSignalDef& s : d.signals) {
        threshold_need(s.threshold);
        if (!s.condition.empty()) {
          AddExpressionNeeds(s.condition, metric_names, o_.history_days, needs_);
        }
      }
    }
  }
  if (o_.rules) {
    for (const RuleDef& r : *o_.rules) {
      threshold_need(r.threshold);
      if (!r.when.empty()) AddExpressionNeeds(r.when, metric_names, o_.history_days, needs_);
    }
  }
  // The CEL environment declares every metric column as a history metric, so that an
  // expression naming one compiles whether or not its window is loaded.
  cel::Environment env = cel::Environment::ForFrame(snapshot_, nullptr);
  for (const std::string& m : metric_list) env.DeclareMetric(m);
  PredicateCompiler compile = CelPredicateCompiler(env);

  if (o_.risk) {
    CSCORE_ASSIGN_OR_RETURN(RiskScorecard card,
                            RiskScorecard::Compile(*o_.risk, compile, schema, metric_list));
    risk_ = std::move(card);
  }
  if (o_.rules) {
    RuleContext ctx;
    ctx.schema = schema;
    ctx.history_metrics = metric_list;
    if (o_.scorecards) {
      for (size_t c = 0; c < o_.scorecards->size(); ++c) {
        for (const std::string& m : o_.scorecards->card(c).measure_names()) {
          if (std::find(ctx.measures.begin(), ctx.measures.end(), m) == ctx.measures.end()) {
            ctx.measures.push_back(m);
          }
        }
      }
    }
    for (const PlaybookDef& p : o_.playbooks) ctx.playbooks.push_back(p.name);
    const std::vector<Lifecycle> defaults = {Lifecycle::Default()};
    for (const Lifecycle& lc : o_.lifecycles.empty() ? defaults : o_.lifecycles) {
      for (int s = 0; s < lc.status_count(); ++s) {
        if (IsClosed(lc.category(s))) ctx.close_statuses.push_back(lc.status_name(s));
      }
    }
    ctx.owner_columns = owner_columns_;
    CSCORE_ASSIGN_OR_RETURN(RuleSet rules, RuleSet::Compile(*o_.rules, compile, ctx));
    rules_ = std::move(rules);
  }
  const TimedCtaDefs& td = o_.timed;
  if (!td.milestones.empty() || !td.qbrs.empty() || td.check_ins) {
    CSCORE_ASSIGN_OR_RETURN(TimedCtas timed, TimedCtas::Compile(td, schema));
    timed_ = std::move(timed);
  }
  has_cta_step_ = rules_.has_value() || timed_.has_value() || o_.sponsors.has_value();

  // Score no accounts over the day's schema: a scorecard that cannot read this snapshot (an
  // unknown or mistyped metric) fails here, before the first step writes to the store.
  if (o_.scorecards) {
    const AccountFrame none = snapshot_.Take({});
    const int days = std::max(needs_.days, 1);
    MetricHistory no_history(0, static_cast<size_t>(days));
    for (const std::string& m : needs_.metrics) {
      CSCORE_RETURN_IF_ERROR(no_history.AddMetric(m, Eigen::MatrixXd(0, days)));
    }
    ScoreOptions so;
    so.detail = ScoreDetail::kScores;
    absl::StatusOr<SetBatch> dry =
        o_.scorecards->Score(none, needs_.metrics.empty() ? nullptr : &no_history, so, nullptr);
    if (!dry.ok()) {
      return absl::Status(dry.status().code(), StrCat("scoring: ", ToStd(dry.status().message())));
    }
  }
  return absl::OkStatus();
}

absl::Status DayRun::Restore() {
  CSCORE_ASSIGN_OR_RETURN(registry_, store_.Accounts());

  CSCORE_ASSIGN_OR_RETURN(std::vector<AuditRow> audit, store_.LoadAudit(0));
  CSCORE_ASSIGN_OR_RETURN(ctas_, CtaLog::Restore(o_.CtaOptions(), std::move(audit)));
  has_cta_step_ = has_cta_step_ || ctas_->store().size() > 0;

  CSCORE_ASSIGN_OR_RETURN(reentry_, store_.LoadReentry());
  std::sort(reentry_.begin(), reentry_.end(), [](const ReentryRow& a, const ReentryRow& b) {
    return std::tie(a.rule_id, a.account_id) < std::tie(b.rule_id, b.account_id);
  });
  constexpr absl::CivilDay kEpoch(1970, 1, 1);
  for (const ReentryRow& r : reentry_) {
    const int64_t days =
        r.last_fired >= 0 ? r.last_fired / 86400 : -((-r.last_fired + 86399) / 86400);
    rule_state_.RecordFired(r.rule_id, r.account_id, kEpoch + days);
  }
  // Cooldowns count from every close, whoever made it: the audit log has them all.
  const CtaStore& s = ctas_->store();
  for (const engine_internal::CtaClose& c : ctas_->closes()) {
    rule_state_.RecordClose(s.account(c.cta), s.type_name(c.cta), s.reason(c.cta), c.day);
  }
  CSCORE_ASSIGN_OR_RETURN(escalations_, store_.LoadEscalations());
  CSCORE_ASSIGN_OR_RETURN(sponsors_, store_.LoadSponsors());
  return absl::OkStatus();
}

absl::Status DayRun::ComputeSlots(bool register_new, std::vector<std::string>* added) {
  std::span<const std::string> ids = snapshot_.ids();
  const size_t n = ids.size(), known = registry_.size();
  slot_.resize(n);
  // The usual export lists the registered accounts in registration order, new ones last:
  // then no hash table is needed.
  size_t r = 0;
  while (r < n && r < known && ids[r] == registry_[r]) {
    slot_[r] = r;
    ++r;
  }
  if (r == n) return absl::OkStatus();
  if (r == known && register_new) {
    // Rows 0..known-1 are every registered account and ids are unique: the rest are new.
    for (; r < n; ++r) {
      slot_[r] = registry_.size();
      registry_.push_back(ids[r]);
      added->push_back(ids[r]);
    }
    return absl::OkStatus();
  }
  // Any other order: an index of views into the registry, which does not reallocate.
  registry_.reserve(known + n);
  absl::flat_hash_map<std::string_view, size_t, StringHash, StringEq> index;
  index.reserve(known + n);
  for (size_t i = 0; i < known; ++i) index.emplace(registry_[i], i);
  for (; r < n; ++r) {
    auto it = index.find(std::string_view(ids[r]));
    if (it != index.end()) {
      slot_[r] = it->second;
    } else if (register_new) {
      slot_[r] = registry_.size();
      registry_.push_back(ids[r]);
      index.emplace(registry_.back(), slot_[r]);
      added->push_back(ids[r]);
    } else {
      return absl::DataLossError(absl::StrFormat(
          "account '%s' is not registered although the day's ingest is journaled; the "
          "snapshot differs from the one the interrupted run read",
          ids[r]));
    }
  }
  return absl::OkStatus();
}

absl::Status DayRun::Ingest() {
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("ingest"));
  std::span<const std::string> ids = snapshot_.ids();
  if (done) {
    CSCORE_RETURN_IF_ERROR(ComputeSlots(/*register_new=*/false, nullptr));
    report_.accounts = Get(*done, "accounts");
    report_.new_accounts = Get(*done, "new_accounts");
    report_.metrics = Get(*done, "metrics");
  } else {
    Progress("ingest", 0.0);
    StepWrite w{.step = "ingest"};
    CSCORE_RETURN_IF_ERROR(ComputeSlots(/*register_new=*/true, &w.new_accounts));
    for (const Column& c : snapshot_.columns()) {
      if (!IsMetric(c.type)) continue;
      DailySeries s{SeriesName(c.name), std::vector<double>(registry_.size(), kNaN)};
      for (size_t r = 0; r < slot_.size(); ++r) s.values[slot_[r]] = ValueAt(c, r);
      w.series.push_back(std::move(s));
    }
    report_.accounts = static_cast<int64_t>(ids.size());
    report_.new_accounts = static_cast<int64_t>(w.new_accounts.size());
    report_.metrics = static_cast<int64_t>(w.series.size());
    w.summary_json = Json{{"accounts", report_.accounts},
                          {"new_accounts", report_.new_accounts},
                          {"metrics", report_.metrics}}
                         .dump();
    Progress("ingest", 0.1);
    CSCORE_RETURN_IF_ERROR(Commit(w));
  }
  report_.steps.push_back("ingest");
  if (!o_.scorecards) report_.health.unscored = report_.accounts;
  return absl::OkStatus();
}

DailySeries DayRun::Series(std::string name, const std::vector<double>& by_row) const {
  DailySeries s{std::move(name), std::vector<double>(registry_.size(), kNaN)};
  for (size_t r = 0; r < slot_.size(); ++r) s.values[slot_[r]] = by_row[r];
  return s;
}

absl::StatusOr<std::vector<double>> DayRun::SeriesAtRows(std::string_view name,
                                                         std::optional<absl::CivilDay> day) const {
  std::vector<double> out(slot_.size(), kNaN);
  if (!day) return out;
  absl::StatusOr<std::vector<double>> v = store_.LoadSeries(name, *day);
  if (absl::IsNotFound(v.status())) return out;
  if (!v.ok()) return v.status();
  for (size_t r = 0; r < slot_.size(); ++r) {
    if (slot_[r] < v->size()) out[r] = (*v)[slot_[r]];
  }
  return out;
}

absl::Status DayRun::EnsureHistory() {
  if (history_loaded_) return absl::OkStatus();
  history_loaded_ = true;
  if (needs_.metrics.empty()) return absl::OkStatus();
  const size_t n = snapshot_.num_rows();
  const int days = std::max(needs_.days, 1);
  MetricHistory history(n, static_cast<size_t>(days));
  const absl::CivilDay first = as_of_ - (days - 1);
  for (const std::string& m : needs_.metrics) {
    Eigen::MatrixXd values = Eigen::MatrixXd::Constant(n, days, kNaN);
    CSCORE_ASSIGN_OR_RETURN(std::vector<absl::CivilDay> stored,
                            store_.SeriesDays(SeriesName(m), first, as_of_));
    for (absl::CivilDay day : stored) {
      CSCORE_ASSIGN_OR_RETURN(std::vector<double> v, store_.LoadSeries(SeriesName(m), day));
      double* col = values.col(static_cast<Eigen::Index>(day - first)).data();
      for (size_t r = 0; r < n; ++r) {
        if (slot_[r] < v.size()) col[r] = v[slot_[r]];
      }
    }
    CSCORE_RETURN_IF_ERROR(history.AddMetric(m, std::move(values)));
  }
  history_ = std::move(history);
  return absl::OkStatus();
}

absl::Status DayRun::Health() {
  if (!o_.scorecards) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("health"));
  RunReport::Health& health = report_.health;
  if (done) {
    health = {Get(*done, "green"), Get(*done, "yellow"), Get(*done, "red"), Get(*done, "unscored")};
    report_.new_red_accounts = done->value("new_red", std::vector<std::string>{});
  } else {
    Progress("health", 0.15);
    CSCORE_RETURN_IF_ERROR(EnsureHistory());
    const ScorecardSet& set = *o_.scorecards;
    CSCORE_ASSIGN_OR_RETURN(std::vector<double> previous,
                            SeriesAtRows("score/overall", previous_day_));
    CSCORE_ASSIGN_OR_RETURN(std::vector<double> previous_color,
                            SeriesAtRows("score/color", previous_day_));
    ScoreOptions so;
    so.as_of = DayStart();
    so.previous = previous;
    so.detail = ScoreDetail::kScores;
    const MetricHistory* history = history_ ? &*history_ : nullptr;
    auto score = [&]() -> absl::StatusOr<SetBatch> {
      absl::StatusOr<SetBatch> b = set.Score(snapshot_, history, so, nullptr);
      if (!b.ok()) {
        return absl::Status(b.status().code(), StrCat("scoring: ", ToStd(b.status().message())));
      }
      return b;
    };

    // The overrides the rules set up to the previous run, still in force today. A scorecard
    // refuses an override of a measure it lacks, so one whose account's scorecard has no such
    // measure is skipped (and counted); finding the accounts' scorecards then takes a first
    // scoring without them. Overrides of scorecards.yaml come after these and win.
    CSCORE_ASSIGN_OR_RETURN(RuleMarks marks,
                            LoadRuleMarks(store_, previous_day_, registry_.size()));
    std::vector<OverrideDef> overrides;
    std::vector<size_t> override_row;
    bool some_card_lacks = false;
    for (const auto& [measure, m] : marks.overrides) {
      size_t cards_with = 0;
      for (size_t c = 0; c < set.size(); ++c) {
        const std::vector<std::string>& names = set.card(c).measure_names();
        cards_with += std::find(names.begin(), names.end(), measure) != names.end();
      }
      bool any = false;
      for (size_t r = 0; r < slot_.size(); ++r) {
        const size_t s = slot_[r];
        if (s >= m.value.size() || std::isnan(m.value[s])) continue;
        if (!(m.until[s] > static_cast<double>(DayStart()))) continue;  // expired
        const std::string& rule = marks.rules[static_cast<size_t>(m.rule[s])];
        OverrideDef& o = overrides.emplace_back();
        o.account_id = snapshot_.ids()[r];
        o.measure = measure;
        o.value = m.value[s];
        o.reason = StrCat("rule ", rule);
        o.author = rule;
        o.expires = static_cast<int64_t>(m.until[s]);
        override_row.push_back(r);
        any = true;
      }
      some_card_lacks = some_card_lacks || (any && cards_with < set.size());
    }
    std::optional<SetBatch> unforced;
    int64_t skipped = 0;
    if (some_card_lacks) {
      CSCORE_ASSIGN_OR_RETURN(unforced, score());
      size_t kept = 0;
      for (size_t i = 0; i < overrides.size(); ++i) {
        const size_t card = static_cast<size_t>(unforced->card[override_row[i]]);
        const std::vector<std::string>& names = set.card(card).measure_names();
        if (std::find(names.begin(), names.end(), overrides[i].measure) == names.end()) {
          ++skipped;
          continue;
        }
        if (kept != i) overrides[kept] = std::move(overrides[i]);
        ++kept;
      }
      overrides.resize(kept);
    }
    so.overrides = overrides;
    absl::StatusOr<SetBatch> batch = unforced && overrides.empty() ? *std::move(unforced) : score();
    if (!batch.ok()) return batch.status();
    const size_t n = slot_.size();
    std::vector<double> color(n, kNaN), card(n, kNaN), trend(n, kNaN);
    health = {};
    for (size_t r = 0; r < n; ++r) {
      const double s = batch->score[r];
      double code = kNaN;
      if (!std::isnan(s) && batch->range[r] >= 0) {
        const SchemeDef& scheme = set.card(static_cast<size_t>(batch->card[r])).def().scheme;
        code = ColorCode(scheme.ranges[static_cast<size_t>(batch->range[r])].color);
      }
      color[r] = code;
      card[r] = batch->card[r];
      trend[r] = std::isnan(s) ? kNaN : batch->trend[r];
      if (code == kGreen) {
        ++health.green;
      } else if (code == kYellow) {
        ++health.yellow;
      } else if (code == kRed) {
        ++health.red;
      } else {
        ++health.unscored;
      }
      if (code == kRed && previous_color[r] != kRed) {
        report_.new_red_accounts.push_back(snapshot_.ids()[r]);
      }
    }
    StepWrite w{.step = "health"};
    w.series.push_back(Series("score/overall", batch->score));
    w.series.push_back(Series("score/color", color));
    w.series.push_back(Series("score/card", card));
    w.series.push_back(Series("score/trend", trend));
    w.summary_json = Json{
        {"green", health.green},
        {"yellow", health.yellow},
        {"red", health.red},
        {"unscored", health.unscored},
        {"new_red", report_.new_red_accounts},
        {"rule_overrides", static_cast<int64_t>(overrides.size())},
        {"rule_overrides_skipped",
         skipped}}.dump();
    CSCORE_RETURN_IF_ERROR(Commit(w));
  }
  report_.steps.push_back("health");
  return absl::OkStatus();
}

absl::Status DayRun::Risk() {
  if (!risk_) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("risk"));
  if (done) {
    const std::vector<int64_t> red = done->value("red", std::vector<int64_t>(8, 0));
    for (size_t d = 0; d < 8 && d < red.size(); ++d) report_.risk_red[d] = red[d];
    report_.risk_red_accounts = Get(*done, "red_accounts");
    CSCORE_ASSIGN_OR_RETURN(risk_packed_, SeriesAtRows("risk/domains", as_of_));
  } else {
    Progress("risk", 0.35);
    CSCORE_RETURN_IF_ERROR(EnsureHistory());
    int64_t skipped = 0;
    std::vector<RiskCtaRef> refs = OpenRiskCtas(ctas_->store(), snapshot_, &skipped);
    CSCORE_ASSIGN_OR_RETURN(
        RiskBatch batch,
        risk_->Evaluate({snapshot_, history_ ? &*history_ : nullptr, as_of_}, refs));
    const size_t n = slot_.size();
    risk_packed_.assign(n, 0);
    std::array<int64_t, 8> red = {}, yellow = {};
    for (int d = 0; d < kNumRiskDomains; ++d) {
      std::span<const uint8_t> st = batch.domain(kAllRiskDomains[d]);
      for (size_t r = 0; r < n; ++r) {
        risk_packed_[r] += static_cast<double>(st[r] << (2 * d));
        red[d] += st[r] == static_cast<uint8_t>(RiskStatus::kRed);
        yellow[d] += st[r] == static_cast<uint8_t>(RiskStatus::kYellow);
      }
    }
    int64_t red_accounts = 0;
    for (size_t r = 0; r < n; ++r) {
      red_accounts += batch.overall()[r] == static_cast<uint8_t>(RiskStatus::kRed);
    }
    std::copy(red.begin(), red.end(), report_.risk_red.begin());
    report_.risk_red_accounts = red_accounts;
    StepWrite w{.step = "risk"};
    w.series.push_back(Series("risk/domains", risk_packed_));
    w.summary_json = Json{
        {"red", red},
        {"yellow", yellow},
        {"red_accounts", red_accounts},
        {"open_ctas", static_cast<int64_t>(refs.size())},
        {"ctas_of_absent_accounts",
         skipped}}.dump();
    CSCORE_RETURN_IF_ERROR(Commit(w));
  }
  report_.steps.push_back("risk");
  return absl::OkStatus();
}

std::vector<ReentryRow> DayRun::ReentryDelta() {
  auto key_less = [](const ReentryRow& a, const ReentryRow& b) {
    return std::tie(a.rule_id, a.account_id) < std::tie(b.rule_id, b.account_id);
  };
  // A rule without once_every_days reads its last firing only to stay silent on a rerun of
  // the same day, which the journal already prevents: only rules with a re-entry limit and
  // timed CTAs (keyed "<definition>|<reason>") need their firings kept.
  StringSet unlimited;
  if (rules_) {
    for (size_t i = 0; i < rules_->size(); ++i) {
      if (rules_->rule(i).once_every_days == 0) unlimited.insert(rules_->rule(i).name);
    }
  }
  std::vector<ReentryRow> fired;
  const int64_t today = DayStart();
  rule_state_.ForEachFired(
      [&](std::string_view rule, std::string_view account, absl::CivilDay day) {
        if (day != as_of_ || unlimited.contains(rule)) return;
        fired.push_back({std::string(rule), std::string(account), today, 1, 0});
      });
  std::sort(fired.begin(), fired.end(), key_less);
  // One merge pass over the two sorted lists: the rows to write, and the new known state.
  std::vector<ReentryRow> out, merged;
  merged.reserve(reentry_.size() + fired.size());
  size_t i = 0;
  for (ReentryRow& r : fired) {
    while (i < reentry_.size() && key_less(reentry_[i], r))
      merged.push_back(std::move(reentry_[i++]));
    if (i < reentry_.size() && !key_less(r, reentry_[i])) {
      ReentryRow& known = reentry_[i++];
      // Written today already (an earlier step of the day, or the run before a crash).
      if (known.last_fired != today) {
        r.times_fired = known.times_fired + 1;
        r.last_closed = known.last_closed;
        known = r;
        out.push_back(known);
      }
      merged.push_back(std::move(known));
    } else {
      out.push_back(r);
      merged.push_back(std::move(r));
    }
  }
  while (i < reentry_.size()) merged.push_back(std::move(reentry_[i++]));
  reentry_ = std::move(merged);
  return out;
}

absl::Status DayRun::Rules() {
  if (!rules_) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("rules"));
  Json sum;
  if (done) {
    sum = *std::move(done);
  } else {
    Progress("rules", 0.45);
    CSCORE_RETURN_IF_ERROR(EnsureHistory());
    CtaStore& store = ctas_->store();
    CSCORE_ASSIGN_OR_RETURN(RuleRun run,
                            rules_->Evaluate({snapshot_, history_ ? &*history_ : nullptr, as_of_},
                                             CtaStoreLookup(store), rule_state_));
    Progress("rules", 0.6);
    ApplyReport applied = ApplyIntents(*rules_, run, as_of_, store, rule_state_);
    StepWrite w{.step = "rules"};
    w.audit = ctas_->TakeNewRows();
    w.reentry = ReentryDelta();

    // Overrides and tags: the state of the previous run, today's intents on top (in intent
    // order, so the last rule to set a measure wins), written whole with the CTA changes.
    const size_t slots = registry_.size();
    CSCORE_ASSIGN_OR_RETURN(RuleMarks marks, LoadRuleMarks(store_, previous_day_, slots));
    StringMap<size_t> rule_index;
    for (size_t i = 0; i < marks.rules.size(); ++i) rule_index.emplace(marks.rules[i], i);
    std::map<std::string, std::vector<uint8_t>, std::less<>> set_today;
    int64_t measures_set = 0, tagged = 0;
    for (size_t i : applied.passed_on) {
      const Intent& in = run.intents[i];
      const size_t s = slot_[in.row];
      const RuleAction& action = rules_->action(in);
      if (const auto* set = std::get_if<SetMeasureAction>(&action)) {
        MeasureOverrides& m = marks.overrides[set->measure];
        m.value.resize(slots, kNaN);
        m.until.resize(slots, kNaN);
        m.rule.resize(slots, kNaN);
        const std::string& rule = rules_->rule(in.rule).name;
        auto [it, added] = rule_index.emplace(rule, marks.rules.size());
        if (added) marks.rules.push_back(rule);
        m.value[s] = set->value;
        m.until[s] = static_cast<double>(cscore::DayStart(in.due));
        m.rule[s] = static_cast<double>(it->second);
        std::vector<uint8_t>& today = set_today[set->measure];
        today.resize(slots, 0);
        measures_set += !today[s];
        today[s] = 1;
      } else if (const auto* tag = std::get_if<TagAction>(&action)) {
        std::vector<double>& v = marks.tags[tag->tag];
        v.resize(slots, kNaN);
        tagged += std::isnan(v[s]);
        v[s] = 1;
      }
    }
    // Kept: what is still in force on the next day, the first one that can read it.
    int64_t overrides_active = 0, tags_held = 0;
    std::vector<DailySeries> marks_series =
        RuleMarkSeries(marks, cscore::DayStart(as_of_ + 1), &overrides_active, &tags_held);
    for (DailySeries& s : marks_series) w.series.push_back(std::move(s));

    std::vector<std::string> rejections;
    for (size_t i = 0; i < applied.rejected.size() && i < 5; ++i) {
      rejections.emplace_back(applied.rejected[i].second.message());
    }
    sum = Json{{"rules_run", run.rules_run},
               {"matched", run.rows_matched},
               {"intents", static_cast<int64_t>(run.intents.size())},
               {"suppressed_snoozed", run.suppressed_snoozed},
               {"suppressed_reentry", run.suppressed_reentry},
               {"opened", applied.opened},
               {"updated", applied.updated},
               {"unchanged", applied.unchanged},
               {"closed", applied.closed},
               {"passed_on", static_cast<int64_t>(applied.passed_on.size())},
               {"rejected", static_cast<int64_t>(applied.rejected.size())},
               {"first_rejections", rejections},
               {"measures_set", measures_set},
               {"tagged", tagged},
               {"overrides_active", overrides_active},
               {"tags_held", tags_held},
               {"override_rules", marks.rules}};
    w.summary_json = sum.dump();
    CSCORE_RETURN_IF_ERROR(Commit(w));
  }
  report_.rules = {Get(sum, "rules_run"),
                   Get(sum, "matched"),
                   Get(sum, "intents"),
                   Get(sum, "suppressed_snoozed"),
                   Get(sum, "suppressed_reentry"),
                   Get(sum, "measures_set"),
                   Get(sum, "tagged")};
  report_.ctas.opened += Get(sum, "opened");
  report_.ctas.updated += Get(sum, "updated");
  report_.ctas.closed += Get(sum, "closed");
  report_.ctas.rejected += Get(sum, "rejected");
  report_.steps.push_back("rules");
  return absl::OkStatus();
}

void DayRun::ResolveTimedOwners(std::vector<TimedIntent>& intents) const {
  OwnerResolver owners(snapshot_, owner_columns_);
  const std::string check_in = o_.timed.check_ins ? o_.timed.check_ins->name : "";
  for (TimedIntent& in : intents) {
    if (!check_in.empty() && in.source == check_in) continue;  // owned by the sponsor
    std::optional<size_t> row = snapshot_.RowOf(in.account);
    if (!row) continue;
    std::string_view person = owners.Owner(in.owner, *row);
    if (!person.empty()) in.owner = std::string(person);
  }
}

absl::Status DayRun::Timed() {
  if (!has_cta_step_) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("timed"));
  Json sum;
  if (done) {
    sum = *std::move(done);
  } else {
    Progress("timed", 0.7);
    CtaStore& store = ctas_->store();
    StepWrite w{.step = "timed"};
    const TimedResult timers = store.FireTimedEvents(t0_);

    // Executive sponsors: the day's plan keeps the current sponsors where it can.
    std::vector<SponsorCadence> cadences;
    int64_t assigned = 0, unassigned = 0, changed = 0;
    std::string unassigned_reason;
    if (o_.sponsors) {
      const Column* arr = snapshot_.Find(o_.columns.arr);
      const Column* tier = snapshot_.Find(o_.columns.tier);
      const Column* sale = snapshot_.Find(o_.columns.sale_sponsor);
      StringMap<const SponsorRow*> current;
      for (const SponsorRow& r : sponsors_) current.emplace(r.account_id, &r);
      std::set<std::string> pool;
      for (const SponsorDef& s : o_.sponsors->sponsors) pool.insert(s.id);
      std::vector<SponsorAccount> accounts;
      if (arr != nullptr && tier != nullptr) {
        for (size_t r = 0; r < snapshot_.num_rows(); ++r) {
          const double a = ValueAt(*arr, r);
          const std::string_view t = tier->CategoryAt(r);
          if (std::isnan(a) || a < o_.sponsors->min_arr) continue;
          if (t != "strategic" && t != "enterprise") continue;
          SponsorAccount acc;
          acc.account_id = snapshot_.ids()[r];
          acc.arr = a;
          acc.tier = std::string(t);
          if (auto it = current.find(acc.account_id);
              it != current.end() && pool.count(it->second->sponsor_id)) {
            acc.current_sponsor = it->second->sponsor_id;
          }
          if (sale != nullptr && pool.count(std::string(sale->CategoryAt(r)))) {
            acc.sale_sponsor = std::string(sale->CategoryAt(r));
          }
          accounts.push_back(std::move(acc));
        }
      }
      std::sort(accounts.begin(), accounts.end(),
                [](const SponsorAccount& a, const SponsorAccount& b) {
                  return a.account_id < b.account_id;
                });
      CSCORE_ASSIGN_OR_RETURN(SponsorPlan plan, AssignSponsors(*o_.sponsors, accounts));
      cadences = CheckInCadences(plan);
      assigned = static_cast<int64_t>(plan.assigned.size());
      unassigned = static_cast<int64_t>(plan.unassigned.size());
      unassigned_reason = plan.unassigned_reason;
      std::set<std::string> keep;
      for (const SponsorAssignment& a : plan.assigned) {
        keep.insert(a.account_id);
        auto it = current.find(a.account_id);
        const bool same = it != current.end() && it->second->sponsor_id == a.sponsor_id;
        SponsorRow row;
        row.account_id = a.account_id;
        row.sponsor_id = a.sponsor_id;
        row.cadence_days = 30 * a.cadence_months;
        row.since = same ? it->second->since : DayStart();
        const absl::CivilDay since =
            absl::ToCivilDay(absl::FromUnixSeconds(row.since), absl::UTCTimeZone());
        row.next_checkin = absl::ToUnixSeconds(
            absl::FromCivil(NextCheckin(since, a.cadence_months, as_of_), absl::UTCTimeZone()));
        if (!same) ++changed;
        if (it == current.end() || !(*it->second == row)) w.sponsors.push_back(std::move(row));
      }
      for (const SponsorRow& r : sponsors_) {
        if (!keep.count(r.account_id)) {
          w.sponsors_removed.push_back(r.account_id);
          ++changed;
        }
      }
    }

    // Milestones, QBRs and the sponsors' check-ins.
    int64_t opened = 0, check_ins = 0, rejected = 0;
    std::vector<std::string> rejections;
    if (timed_) {
      CSCORE_ASSIGN_OR_RETURN(
          std::vector<TimedIntent> intents,
          timed_->Evaluate(snapshot_, cadences, as_of_, CtaStoreLookup(store), rule_state_));
      ResolveTimedOwners(intents);
      std::vector<std::pair<size_t, absl::Status>> refused;
      opened = ApplyTimedIntents(intents, as_of_, store, rule_state_, &refused);
      if (o_.timed.check_ins) {
        for (const TimedIntent& in : intents) check_ins += in.source == o_.timed.check_ins->name;
        for (const auto& [i, st] : refused)
          check_ins -= intents[i].source == o_.timed.check_ins->name;
      }
      rejected = static_cast<int64_t>(refused.size());
      for (size_t i = 0; i < refused.size() && i < 5; ++i) {
        rejections.emplace_back(refused[i].second.message());
      }
    }
    w.audit = ctas_->TakeNewRows();
    w.reentry = ReentryDelta();
    sum = Json{{"woken", timers.woken},
               {"breached", timers.breached},
               {"opened", opened},
               {"check_ins", check_ins},
               {"rejected", rejected},
               {"first_rejections", rejections},
               {"sponsors_assigned", assigned},
               {"sponsors_unassigned", unassigned},
               {"sponsors_changed", changed},
               {"unassigned_reason", unassigned_reason}};
    w.summary_json = sum.dump();
    CSCORE_RETURN_IF_ERROR(Commit(w));
    sponsors_.clear();  // superseded; nothing later reads them
  }
  report_.ctas.woken += Get(sum, "woken");
  report_.ctas.breached += Get(sum, "breached");
  report_.ctas.opened += Get(sum, "opened");
  report_.ctas.rejected += Get(sum, "rejected");
  report_.timed = {Get(sum, "opened"), Get(sum, "check_ins")};
  report_.sponsors = {Get(sum, "sponsors_assigned"), Get(sum, "sponsors_unassigned"),
                      Get(sum, "sponsors_changed")};
  report_.steps.push_back("timed");
  return absl::OkStatus();
}

absl::Status DayRun::Escalation() {
  if (!o_.escalator || !has_cta_step_) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(std::optional<Json> done, Done("escalation"));
  Json sum;
  if (done) {
    sum = *std::move(done);
  } else {
    Progress("escalation", 0.85);
    const Escalator& esc = *o_.escalator;
    CtaStore& store = ctas_->store();
    if (risk_ && risk_packed_.empty()) {
      CSCORE_ASSIGN_OR_RETURN(risk_packed_, SeriesAtRows("risk/domains", as_of_));
    }
    const Column* arr = snapshot_.Find(o_.columns.arr);
    const Column* tier = snapshot_.Find(o_.columns.tier);
    const Column* renewal = snapshot_.Find(o_.columns.renewal_at_risk);
    const Column* edm = snapshot_.Find(o_.columns.edm_left);
    auto flag = [](const Column* c, size_t r) {
      return c != nullptr && !c->IsMissing(r) && c->b[r] != 0;
    };
    std::map<int64_t, const EscalationRow*> rows;
    for (const EscalationRow& r : escalations_) rows.emplace(r.cta_id, &r);

    std::vector<CtaEscalationInput> inputs;
    std::vector<EscalationState> states;
    int64_t unroutable = 0;
    std::string first_unroutable;
    for (CtaId id : store.Flagged()) {
      CSCORE_ASSIGN_OR_RETURN(CtaEscalationInput in, EscalationInputOf(store, id));
      if (std::optional<size_t> r = snapshot_.RowOf(in.account_id)) {
        if (arr != nullptr) {
          const double a = ValueAt(*arr, *r);
          in.arr = std::isnan(a) ? 0 : a;
        }
        if (tier != nullptr) in.tier = std::string(tier->CategoryAt(*r));
        in.renewal_at_risk = flag(renewal, *r);
        in.edm_left = flag(edm, *r);
        if (*r < risk_packed_.size()) {
          in.adoption_red = RiskStatusOf(risk_packed_[*r], 0) == 2;
        }
      }
      const int64_t ack = ctas_->acknowledged_at(id);
      if (ack != kNoTime && absl::FromUnixMicros(ack) >= in.raised_at) {
        in.acknowledged_at = absl::FromUnixMicros(ack);
      }
      EscalationState state;
      auto it = rows.find(id);
      if (it != rows.end() && it->second->resolved_at == 0 &&
          it->second->raised_at == absl::ToUnixSeconds(in.raised_at)) {
        state = {it->second->policy_id, it->second->policy_version, it->second->next_step};
      }
      absl::StatusOr<EscalationChain> chain = esc.Chain(in, t0_, &state);
      if (!chain.ok()) {
        if (first_unroutable.empty()) first_unroutable = std::string(chain.status().message());
        ++unroutable;
        continue;
      }
      inputs.push_back(std::move(in));
      states.push_back(std::move(state));
    }
    CSCORE_ASSIGN_OR_RETURN(DueBatch due, esc.Due(inputs, states, t0_));
    const EscalationFireReport fired = FireEscalations(due, esc, store);
    StepWrite w{.step = "escalation"};
    w.audit = ctas_->TakeNewRows();
    std::vector<bool> refused(due.events.size(), false);
    for (const auto& [i, st] : fired.rejected) refused[i] = true;
    std::set<int64_t> escalated;
    std::vector<std::string> lines;
    for (size_t i = 0; i < due.events.size(); ++i) {
      if (refused[i]) continue;
      const EscalationEvent& e = due.events[i];
      escalated.insert(e.cta_id);
      lines.push_back(
          absl::StrFormat("cta %d -> level %d (%s)", e.cta_id, e.step.level, e.account_id));
    }
    std::set<int64_t> flagged;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const CtaEscalationInput& in = inputs[i];
      flagged.insert(in.id);
      EscalationRow row;
      row.cta_id = in.id;
      row.policy_id = due.states[i].policy_id;
      row.policy_version = due.states[i].policy_version;
      row.next_step = due.states[i].next_step;
      row.raised_at = absl::ToUnixSeconds(in.raised_at);
      if (in.acknowledged_at != absl::InfiniteFuture()) {
        row.acknowledged_at = absl::ToUnixSeconds(in.acknowledged_at);
      }
      row.arr = in.arr;
      row.tier = in.tier;
      row.flags = (in.renewal_at_risk ? 1 : 0) | (in.adoption_red ? 2 : 0) | (in.edm_left ? 4 : 0);
      CSCORE_ASSIGN_OR_RETURN(EscalationChain chain, esc.Chain(in, t0_, &due.states[i]));
      for (const EscalationStep& step : chain.steps) {
        if (step.fired) {
          row.level = step.level;
        } else if (row.next_due_at == 0) {
          row.next_due_at = absl::ToUnixSeconds(step.fire_at);
        }
      }
      auto it = rows.find(in.id);
      if (it == rows.end() || !(*it->second == row)) w.escalations.push_back(std::move(row));
    }
    // Episodes whose CTA is no longer flagged (unflagged or closed) are resolved.
    for (const EscalationRow& r : escalations_) {
      if (r.resolved_at != 0 || flagged.count(r.cta_id)) continue;
      EscalationRow done_row = r;
      const int64_t ended = ctas_->flag_ended_at(static_cast<CtaId>(r.cta_id));
      done_row.resolved_at = ended != kNoTime ? std::max<int64_t>(ended / 1000000, 1) : DayStart();
      done_row.next_due_at = 0;
      w.escalations.push_back(std::move(done_row));
    }
    std::vector<std::string> rejections;
    for (size_t i = 0; i < fired.rejected.size() && i < 5; ++i) {
      rejections.emplace_back(fired.rejected[i].second.message());
    }
    sum = Json{{"flagged", static_cast<int64_t>(inputs.size()) + unroutable},
               {"escalated", static_cast<int64_t>(escalated.size())},
               {"steps_fired", fired.fired},
               {"escalations", lines},
               {"rejected", static_cast<int64_t>(fired.rejected.size())},
               {"first_rejections", rejections},
               {"unroutable", unroutable},
               {"first_unroutable", first_unroutable}};
    w.summary_json = sum.dump();
    CSCORE_RETURN_IF_ERROR(Commit(w));
  }
  report_.ctas.escalated = Get(sum, "escalated");
  report_.escalations = sum.value("escalations", std::vector<std::string>{});
  report_.steps.push_back("escalation");
  return absl::OkStatus();
}

absl::StatusOr<RunReport> DayRun::Finish() {
  const CtaStore& store = ctas_->store();
  int64_t open = 0;
  for (CtaId id = 0; id < store.size(); ++id) open += store.IsOpen(id);
  report_.ctas.open = open;
  report_.steps.push_back("report");
  Progress("report", 0.95);
  StepWrite w{.step = "report"};
  w.report_json = report_.ToJson();
  CSCORE_RETURN_IF_ERROR(Commit(w));
  Progress("report", 1.0);
  return report_;
}

Engine::Engine(Store& store, EngineOptions options)
    : store_(&store), options_(std::move(options)) {}

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
  DayRun day(*store_, options_, snapshot, as_of, last_done);
  // Everything that can refuse the input does so before the first write.
  CSCORE_RETURN_IF_ERROR(day.Prepare());
  CSCORE_RETURN_IF_ERROR(day.Restore());
  CSCORE_RETURN_IF_ERROR(day.Ingest());
  CSCORE_RETURN_IF_ERROR(day.Health());
  CSCORE_RETURN_IF_ERROR(day.Risk());
  CSCORE_RETURN_IF_ERROR(day.Rules());
  CSCORE_RETURN_IF_ERROR(day.Timed());
  CSCORE_RETURN_IF_ERROR(day.Escalation());
  return day.Finish();
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
