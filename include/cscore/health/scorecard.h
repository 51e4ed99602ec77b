// Health-score scorecards: measures scored 0-100 (or in points), nested groups, schemes,
// missing-data policy, overrides, trend and per-account explanations.
//
// Every vendor style compiles to the same evaluation path: a tree of groups whose
// aggregation is a weighted mean (Gainsight: sum(w m) / sum(w)), worst-of (Totango's
// Good/Average/Poor) or points (base + sum of points, clipped: ChurnZero/HubSpot tiers
// with base 0, Planhat's neutral start with base 50). Scoring reads the caller's
// AccountFrame columns in place, in blocks of accounts that stay in cache, folding up to
// four measures per vectorized pass with NaN masks instead of branches; ScoreOptions.threads
// splits the blocks across threads with bit-identical results.
//
//   absl::StatusOr<cscore::Scorecard> card = cscore::Scorecard::Compile(def);
//   absl::StatusOr<cscore::ScoreBatch> batch = card->Score(frame, nullptr, {.as_of = t});
//   double s = batch->score[0];  // NaN = N/A (below minimum coverage)
#ifndef CSCORE_HEALTH_SCORECARD_H_
#define CSCORE_HEALTH_SCORECARD_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"

namespace cscore {

enum class MeasureKind : uint8_t {
  kBands,         // threshold bands: the first band whose upper bound is >= value
  kRamp,          // lo -> score_min, hi -> score_max, linear between, clipped
  kInvertedRamp,  // lo -> score_max, hi -> score_min (more tickets is worse)
  kPercentile,    // mid-rank percentile 0-100 in the population or within a segment
  kBoolean,       // if_true / if_false
  kCategory,      // label -> score
};

std::string_view MeasureKindName(MeasureKind kind);

// A threshold band: values <= upper (and above the previous band's upper) score `score`.
struct Band {
  double upper = std::numeric_limits<double>::infinity();
  double score = 0;
};

// Raw value from the metric history instead of the frame: an aggregate over the last
// `days` snapshots (sum/mean/last/min/max), its trend (slope per day) or percent change.
struct WindowSource {
  WindowOp op = WindowOp::kMean;
  int days = 30;
};

struct MeasureDef {
  std::string name;
  std::string metric;  // frame column, or history metric when `window` is set
  std::optional<WindowSource> window;
  MeasureKind kind = MeasureKind::kRamp;
  double weight = 1;
  double lo = 0, hi = 100;                // ramps
  double score_min = 0, score_max = 100;  // ramps
  std::vector<Band> bands;                // ascending upper bounds
  std::string within;                     // percentile: categorical column, empty = all
  double if_true = 100, if_false = 0;     // boolean
  std::vector<std::pair<std::string, double>> categories;
  std::optional<double> other_category;  // score of unlisted labels; unset = missing
  std::string location;                  // "file:line:column" prefix for errors, if any
};

enum class Aggregation : uint8_t {
  kWeightedMean,  // sum(w s) / sum(w) over present members
  kWorstOf,       // min over present members
  kPoints,        // base + sum(w s) over present members, clipped to the scheme's range
};

std::string_view AggregationName(Aggregation aggregation);

// A group's members are names of measures or of other groups, nested to any depth.
struct GroupDef {
  std::string name;
  double weight = 1;
  Aggregation aggregation = Aggregation::kWeightedMean;
  double base = 0;  // kPoints only
  std::vector<std::string> members;
  std::string location;
};

enum class MissingPolicy : uint8_t {
  kRenormalize,  // a missing measure drops out; the others' weights are rescaled
  kSubstitute,   // a missing measure scores `substitute` with its full weight
};

enum class SchemeKind : uint8_t { kNumeric, kColor, kGrade };

// One range of a scheme. Boundary rule: a range includes its upper bound and excludes its
// lower bound, except the first, which includes both (0-50, 50-75: 50 is in the first).
struct RangeDef {
  double from = 0, to = 0;
  std::string label;
  std::string color;  // red / yellow / green ... (empty for numeric and grade schemes)
  std::string location;
};

struct SchemeDef {
  SchemeKind kind = SchemeKind::kColor;
  std::vector<RangeDef> ranges;  // 2 to 12, contiguous, ascending
  std::string location;

  static SchemeDef RedYellowGreen();  // 0-50 red, 50-75 yellow, 75-100 green
};

struct ScorecardDef {
  std::string name;
  Aggregation aggregation = Aggregation::kWeightedMean;
  double base = 0;                   // kPoints only
  std::vector<std::string> members;  // top level: measures and groups
  std::vector<MeasureDef> measures;
  std::vector<GroupDef> groups;
  MissingPolicy missing = MissingPolicy::kRenormalize;
  double substitute = 50;
  // Share (0-1) of the measures' effective weight that must be present; below it the
  // score is N/A (NaN).
  double min_coverage = 0;
  SchemeDef scheme = SchemeDef::RedYellowGreen();
  double trend_threshold = 1;  // |score - previous| below this is "same"
  std::string location;
};

// A hand-set value: of a measure (`measure` names it) or of the overall score (empty).
// Active while as_of < expires (seconds since the epoch).
struct OverrideDef {
  std::string account_id;
  std::string measure;
  double value = 0;
  std::string reason;
  std::string author;
  int64_t expires = std::numeric_limits<int64_t>::max();
  std::string location;
};

enum class ScoreDetail : uint8_t {
  kScores,     // overall score, range, trend only (the fastest path)
  kSubScores,  // plus the accounts x measures sub-score matrix
  kFull,       // plus the raw values (for explanations)
};

struct ScoreOptions {
  int64_t as_of = 0;
  // Threads scoring disjoint row blocks (and percentile measures); results are
  // bit-identical for any count.
  int threads = 1;
  // Previous overall score per row of the frame (NaN = none), for the trend; empty = none.
  std::span<const double> previous;
  std::span<const OverrideDef> overrides;
  ScoreDetail detail = ScoreDetail::kSubScores;
};

// Columnar result, one row per account of the scored frame.
struct ScoreBatch {
  AccountFrame frame;         // the scored accounts (shares the caller's storage)
  std::vector<double> score;  // NaN = N/A
  std::vector<int8_t> range;  // index into the scheme's ranges, -1 = N/A
  std::vector<double> delta;  // score - previous, NaN when either is missing
  std::vector<int8_t> trend;  // +1 up, -1 down, 0 same or unknown
  // Overrides applied: (row, measure index), measure -1 = the overall score.
  std::vector<std::pair<size_t, int>> applied_overrides;
  Eigen::MatrixXd sub;  // accounts x measures (kSubScores, kFull); NaN = missing
  Eigen::MatrixXd raw;  // accounts x measures (kFull)

  size_t size() const { return score.size(); }
};

// One measure's part in an account's score.
struct MeasureExplanation {
  std::string measure;
  std::string path;         // "usage/logins"
  double raw = 0;           // NaN = missing
  double sub_score = 0;     // NaN = missing
  double weight = 0;        // as defined
  double contribution = 0;  // % of the overall score's weight carried by this measure
  double points = 0;        // points this measure adds to the overall score
  double previous_points = std::numeric_limits<double>::quiet_NaN();
  double delta_points = std::numeric_limits<double>::quiet_NaN();
  bool overridden = false;
};

struct Explanation {
  std::string account_id;
  double score = 0;
  double previous = std::numeric_limits<double>::quiet_NaN();
  std::string label;
  std::string color;
  std::vector<MeasureExplanation> measures;  // in definition order
  std::vector<size_t> top_movers;   // indices into `measures`, by |delta_points|, largest first
  std::vector<size_t> top_drivers;  // indices into `measures`, lowest sub-score first
};

class Scorecard {
 public:
  static absl::StatusOr<Scorecard> Compile(const ScorecardDef& def);

  const std::string& name() const;
  const ScorecardDef& def() const;
  size_t num_measures() const;
  const std::vector<std::string>& measure_names() const;
  // Index of the scheme range holding `score` (boundary rule above); -1 for NaN.
  int RangeOf(double score) const;

  // Scores every account of `frame`. `history` is needed by windowed measures only.
  absl::StatusOr<ScoreBatch> Score(const AccountFrame& frame, const MetricHistory* history,
                                   const ScoreOptions& options) const;
  // Score() into an existing batch, reusing its buffers when their sizes fit: a service
  // that scores snapshot after snapshot then writes into memory it already has instead of
  // faulting in fresh pages for every result (a quarter of the time of a 1M-account
  // weighted sum). On error `result` is left unchanged.
  absl::Status ScoreInto(const AccountFrame& frame, const MetricHistory* history,
                         const ScoreOptions& options, ScoreBatch* result) const;

  // Row-at-a-time evaluation of one account through a generic tree walk over cells: the
  // reference the vectorized path is tested and benchmarked against. No overrides; fails
  // with FailedPrecondition for percentile measures (they need the whole population).
  absl::StatusOr<double> ScoreRow(const AccountFrame& frame, const MetricHistory* history,
                                  size_t row) const;

  // Explains row `row` of `batch` (scored with ScoreDetail::kFull). `previous` is an
  // earlier batch of this scorecard (kSubScores or kFull); its row for the account is
  // found by id.
  absl::StatusOr<Explanation> Explain(const ScoreBatch& batch, size_t row,
                                      const ScoreBatch* previous = nullptr) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// Builds a ScorecardDef step by step; Build() validates it.
class ScorecardBuilder {
 public:
  explicit ScorecardBuilder(std::string name);
  ScorecardBuilder& Aggregate(Aggregation aggregation, double base = 0);
  ScorecardBuilder& AddMeasure(MeasureDef measure, bool top_level = true);
  ScorecardBuilder& AddGroup(GroupDef group, bool top_level = true);
  ScorecardBuilder& Missing(MissingPolicy policy, double substitute = 50);
  ScorecardBuilder& MinCoverage(double share);
  ScorecardBuilder& Scheme(SchemeDef scheme);
  const ScorecardDef& def() const { return def_; }
  absl::StatusOr<Scorecard> Build() const;

 private:
  ScorecardDef def_;
};

// Several scorecards, one chosen per account by criteria, with a default.
struct ScorecardChoice {
  ScorecardDef def;
  // column -> accepted values; an account matches when every listed column matches.
  std::vector<std::pair<std::string, std::vector<std::string>>> when;
  bool is_default = false;
};

struct ScorecardSetDef {
  std::vector<ScorecardChoice> scorecards;
  std::vector<OverrideDef> overrides;
};

// Each scorecard scores the whole frame (so history rows and percentile populations stay
// aligned); an account reads its own scorecard's row.
struct SetBatch {
  std::vector<int> card;      // scorecard index per account
  std::vector<double> score;  // overall score per account, NaN = N/A
  std::vector<int8_t> range;  // range of the account's scorecard scheme, -1 = N/A
  std::vector<double> delta;
  std::vector<int8_t> trend;
  std::vector<ScoreBatch> batches;  // one per scorecard, over all accounts

  const ScoreBatch& batch_of(size_t row) const { return batches[static_cast<size_t>(card[row])]; }
};

class ScorecardSet {
 public:
  static absl::StatusOr<ScorecardSet> Compile(const ScorecardSetDef& def);

  size_t size() const { return cards_.size(); }
  const Scorecard& card(size_t i) const { return cards_[i]; }
  std::span<const OverrideDef> overrides() const { return overrides_; }

  // Scores each account with its scorecard. `previous`, if given, is the set's batch of an
  // earlier snapshot; trends are matched by account id.
  absl::StatusOr<SetBatch> Score(const AccountFrame& frame, const MetricHistory* history,
                                 const ScoreOptions& options,
                                 const SetBatch* previous = nullptr) const;

 private:
  std::vector<Scorecard> cards_;
  std::vector<std::vector<std::pair<std::string, std::vector<std::string>>>> when_;
  int default_ = -1;
  std::vector<OverrideDef> overrides_;
};

}  // namespace cscore

#endif  // CSCORE_HEALTH_SCORECARD_H_
