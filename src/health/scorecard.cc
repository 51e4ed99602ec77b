// Scorecard compilation and the blocked, column-at-a-time evaluation path.
#include "cscore/health/scorecard.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 1024 accounts: a group's accumulators and a measure's scores stay in L1/L2 while every
// measure of the block is folded in.
constexpr size_t kBlock = 1024;

absl::Status Invalid(std::string_view location, std::string_view message) {
  if (location.empty()) return absl::InvalidArgumentError(std::string(message));
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", location, message));
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

std::string_view MeasureKindName(MeasureKind kind) {
  switch (kind) {
    case MeasureKind::kBands: return "bands";
    case MeasureKind::kRamp: return "ramp";
    case MeasureKind::kInvertedRamp: return "inverted_ramp";
    case MeasureKind::kPercentile: return "percentile";
    case MeasureKind::kBoolean: return "boolean";
    case MeasureKind::kCategory: return "categories";
  }
  return "?";
}

std::string_view AggregationName(Aggregation aggregation) {
  switch (aggregation) {
    case Aggregation::kWeightedMean: return "weighted_mean";
    case Aggregation::kWorstOf: return "worst_of";
    case Aggregation::kPoints: return "points";
  }
  return "?";
}

SchemeDef SchemeDef::RedYellowGreen() {
  SchemeDef s;
  s.kind = SchemeKind::kColor;
  s.ranges = {{0, 50, "Poor", "red", ""},
              {50, 75, "Average", "yellow", ""},
              {75, 100, "Good", "green", ""}};
  return s;
}

// A tree node: a measure (index >= 0 into measures) or a group (index into groups).
struct Child {
  bool is_group = false;
  int index = 0;
  double weight = 1;
};

struct CMeasure {
  MeasureDef def;
  double lo = 0, k = 0, smin = 0, smax = 100;  // ramp: smin + (x - lo) * k, clipped
  std::vector<double> upper, band_score;
  StringMap<double> categories;
  std::string path;
};

struct CGroup {
  std::string name;
  Aggregation aggregation = Aggregation::kWeightedMean;
  double base = 0;
  std::vector<Child> children;
};

struct Scorecard::Impl {
  ScorecardDef def;
  std::vector<CMeasure> measures;
  std::vector<CGroup> groups;  // groups[0] is the scorecard itself
  std::vector<std::string> names;
  std::vector<double> static_share;  // per measure, its share of the total weight
  std::vector<double> range_upper;
  double lo = 0, hi = 100;

  int RangeOf(double s) const {
    if (std::isnan(s)) return -1;
    int i = 0;
    for (size_t r = 0; r + 1 < range_upper.size(); ++r) i += range_upper[r] < s ? 1 : 0;
    return i;
  }

  double Clip(double s) const { return s < lo ? lo : (s > hi ? hi : s); }

  double SubScore(const CMeasure& m, double x) const;
  // The generic walk over one account's sub-scores (NaN = missing). Fills each measure's
  // share (% of the weight) and points when `share`/`points` are given.
  double Walk(std::span<const double> subs, std::vector<double>* share,
              std::vector<double>* points) const;
  double WalkGroup(int g, std::span<const double> subs, double mult, double pct,
                   std::vector<double>* share, std::vector<double>* points) const;
};

double Scorecard::Impl::SubScore(const CMeasure& m, double x) const {
  if (std::isnan(x)) return kNaN;
  switch (m.def.kind) {
    case MeasureKind::kRamp:
    case MeasureKind::kInvertedRamp: {
      double t = m.smin + (x - m.lo) * m.k;
      double a = std::min(m.smin, m.smax), b = std::max(m.smin, m.smax);
      return t < a ? a : (t > b ? b : t);
    }
    case MeasureKind::kBands: {
      for (size_t i = 0; i < m.upper.size(); ++i) {
        if (x <= m.upper[i]) return m.band_score[i];
      }
      return m.band_score.back();
    }
    case MeasureKind::kBoolean:
      return x != 0 ? m.def.if_true : m.def.if_false;
    case MeasureKind::kPercentile:
    case MeasureKind::kCategory:
      return x;
  }
  return kNaN;
}

double Scorecard::Impl::WalkGroup(int g, std::span<const double> subs, double mult, double pct,
                                  std::vector<double>* share, std::vector<double>* points) const {
  const CGroup& grp = groups[static_cast<size_t>(g)];
  std::vector<double> vals(grp.children.size());
  double acc = 0, ws = 0, worst = std::numeric_limits<double>::infinity();
  int worst_i = -1, present = 0;
  for (size_t c = 0; c < grp.children.size(); ++c) {
    const Child& ch = grp.children[c];
    double v = ch.is_group ? WalkGroup(ch.index, subs, 0, 0, nullptr, nullptr)
                           : subs[static_cast<size_t>(ch.index)];
    if (!ch.is_group && std::isnan(v) && def.missing == MissingPolicy::kSubstitute) {
      v = def.substitute;
    }
    vals[c] = v;
    if (std::isnan(v)) continue;
    ++present;
    acc += ch.weight * v;
    ws += ch.weight;
    if (v < worst) worst = v, worst_i = static_cast<int>(c);
  }
  double result = kNaN;
  if (present > 0) {
    switch (grp.aggregation) {
      case Aggregation::kWeightedMean: result = ws > 0 ? acc / ws : kNaN; break;
      case Aggregation::kWorstOf: result = worst; break;
      case Aggregation::kPoints: result = grp.base + acc; break;
    }
  }
  if (share == nullptr) return result;
  // Second pass: hand each child its part of this group's weight and points.
  for (size_t c = 0; c < grp.children.size(); ++c) {
    const Child& ch = grp.children[c];
    double v = vals[c];
    double child_pct = 0, child_mult = 0;
    if (!std::isnan(v)) {
      switch (grp.aggregation) {
        case Aggregation::kWeightedMean:
          child_pct = ws > 0 ? pct * ch.weight / ws : 0;
          child_mult = ws > 0 ? mult * ch.weight / ws : 0;
          break;
        case Aggregation::kWorstOf:
          child_pct = static_cast<int>(c) == worst_i ? pct : 0;
          child_mult = static_cast<int>(c) == worst_i ? mult : 0;
          break;
        case Aggregation::kPoints:
          child_pct = ws > 0 ? pct * ch.weight / ws : 0;
          child_mult = mult * ch.weight;
          break;
      }
    }
    if (ch.is_group) {
      WalkGroup(ch.index, subs, child_mult, child_pct, share, points);
    } else {
      (*share)[static_cast<size_t>(ch.index)] = child_pct;
      (*points)[static_cast<size_t>(ch.index)] = std::isnan(v) ? 0 : child_mult * v;
    }
  }
  return result;
}

double Scorecard::Impl::Walk(std::span<const double> subs, std::vector<double>* share,
                             std::vector<double>* points) const {
  if (share != nullptr) {
    share->assign(measures.size(), 0);
    points->assign(measures.size(), 0);
  }
  double s = WalkGroup(0, subs, 1, 100, share, points);
  if (def.min_coverage > 0) {
    double cov = 0;
    for (size_t m = 0; m < measures.size(); ++m) {
      if (!std::isnan(subs[m]) || def.missing == MissingPolicy::kSubstitute) {
        cov += static_share[m];
      }
    }
    if (cov + 1e-12 < def.min_coverage) return kNaN;
  }
  return std::isnan(s) ? s : Clip(s);
}

// ---------------------------------------------------------------------------------------
// Compilation.

namespace {

absl::Status CheckMeasure(const MeasureDef& m, CMeasure& out) {
  std::string_view loc = m.location;
  if (m.name.empty()) return Invalid(loc, "measure without a name");
  std::string where = absl::StrFormat("measure '%s'", m.name);
  if (m.metric.empty()) return Invalid(loc, absl::StrFormat("%s: no metric", where));
  if (!(m.weight >= 0) || !Finite(m.weight)) {
    return Invalid(loc, absl::StrFormat("%s: weight must be a non-negative number, got %g",
                                        where, m.weight));
  }
  if (m.window.has_value()) {
    int min_days = m.window->op == WindowOp::kTrend ? 2 : 1;
    if (m.window->days < min_days) {
      return Invalid(loc, absl::StrFormat("%s: window of %d days (at least %d for %s)", where,
                                          m.window->days, min_days,
                                          WindowOpName(m.window->op)));
    }
  }
  out.def = m;
  switch (m.kind) {
    case MeasureKind::kRamp:
    case MeasureKind::kInvertedRamp: {
      if (!Finite(m.lo) || !Finite(m.hi) || !(m.lo < m.hi)) {
        return Invalid(loc, absl::StrFormat("%s: ramp needs finite from < to, got %g and %g",
                                            where, m.lo, m.hi));
      }
      if (!Finite(m.score_min) || !Finite(m.score_max)) {
        return Invalid(loc, absl::StrFormat("%s: ramp scores must be finite", where));
      }
      out.lo = m.lo;
      out.smin = m.kind == MeasureKind::kRamp ? m.score_min : m.score_max;
      out.smax = m.kind == MeasureKind::kRamp ? m.score_max : m.score_min;
      out.k = (out.smax - out.smin) / (m.hi - m.lo);
      break;
    }
    case MeasureKind::kBands: {
      if (m.bands.empty()) return Invalid(loc, absl::StrFormat("%s: no bands", where));
      for (size_t i = 0; i < m.bands.size(); ++i) {
        const Band& b = m.bands[i];
        if (std::isnan(b.upper) || !Finite(b.score)) {
          return Invalid(loc, absl::StrFormat("%s: band %d needs a bound and a finite score",
                                              where, static_cast<int>(i + 1)));
        }
        if (i > 0 && !(b.upper > m.bands[i - 1].upper)) {
          return Invalid(loc, absl::StrFormat("%s: band bounds must ascend (band %d: %g after %g)",
                                              where, static_cast<int>(i + 1), b.upper,
                                              m.bands[i - 1].upper));
        }
        out.upper.push_back(b.upper);
        out.band_score.push_back(b.score);
      }
      break;
    }
    case MeasureKind::kBoolean:
      if (!Finite(m.if_true) || !Finite(m.if_false)) {
        return Invalid(loc, absl::StrFormat("%s: boolean scores must be finite", where));
      }
      break;
    case MeasureKind::kCategory:
      if (m.categories.empty()) return Invalid(loc, absl::StrFormat("%s: no categories", where));
      for (const auto& [label, score] : m.categories) {
        if (!Finite(score)) {
          return Invalid(loc, absl::StrFormat("%s: category '%s' has no finite score", where,
                                              label));
        }
        if (!out.categories.emplace(label, score).second) {
          return Invalid(loc, absl::StrFormat("%s: category '%s' listed twice", where, label));
        }
      }
      if (m.other_category.has_value() && !Finite(*m.other_category)) {
        return Invalid(loc, absl::StrFormat("%s: 'other' score must be finite", where));
      }
      break;
    case MeasureKind::kPercentile:
      break;
  }
  return absl::OkStatus();
}

absl::Status CheckScheme(const SchemeDef& s) {
  size_t n = s.ranges.size();
  if (n < 2 || n > 12) {
    return Invalid(s.location,
                   absl::StrFormat("scheme has %d ranges; it needs 2 to 12", static_cast<int>(n)));
  }
  for (size_t i = 0; i < n; ++i) {
    const RangeDef& r = s.ranges[i];
    std::string_view loc = r.location.empty() ? std::string_view(s.location) : r.location;
    if (!Finite(r.from) || !Finite(r.to) || !(r.from < r.to)) {
      return Invalid(loc, absl::StrFormat("range '%s': needs finite from < to, got %g-%g",
                                          r.label, r.from, r.to));
    }
    if (r.label.empty()) return Invalid(loc, "range without a label");
    if (i == 0) continue;
    const RangeDef& p = s.ranges[i - 1];
    if (r.from < p.to) {
      return Invalid(loc, absl::StrFormat("range '%s' (%g-%g) overlaps range '%s' (%g-%g)",
                                          r.label, r.from, r.to, p.label, p.from, p.to));
    }
    if (r.from > p.to) {
      return Invalid(loc, absl::StrFormat("gap between range '%s' (ends at %g) and range '%s' "
                                          "(starts at %g)",
                                          p.label, p.to, r.label, r.from));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Scorecard> Scorecard::Compile(const ScorecardDef& def) {
  auto impl = std::make_shared<Impl>();
  impl->def = def;
  std::string_view loc = def.location;
  std::string card = def.name.empty() ? std::string("scorecard") :
                                        absl::StrFormat("scorecard '%s'", def.name);
  if (def.measures.empty()) return Invalid(loc, absl::StrFormat("%s has no measures", card));
  if (!(def.min_coverage >= 0 && def.min_coverage <= 1)) {
    return Invalid(loc, absl::StrFormat("%s: min_coverage must be within 0-1, got %g", card,
                                        def.min_coverage));
  }
  if (!Finite(def.substitute) || !Finite(def.base)) {
    return Invalid(loc, absl::StrFormat("%s: substitute and base must be finite", card));
  }
  if (!(def.trend_threshold >= 0) || !Finite(def.trend_threshold)) {
    return Invalid(loc, absl::StrFormat("%s: trend threshold must be >= 0", card));
  }
  if (absl::Status st = CheckScheme(def.scheme); !st.ok()) return st;
  for (const RangeDef& r : def.scheme.ranges) impl->range_upper.push_back(r.to);
  impl->lo = def.scheme.ranges.front().from;
  impl->hi = def.scheme.ranges.back().to;

  StringMap<int> measure_of, group_of;
  for (const MeasureDef& m : def.measures) {
    CMeasure cm;
    if (absl::Status st = CheckMeasure(m, cm); !st.ok()) return st;
    if (!measure_of.emplace(m.name, static_cast<int>(impl->measures.size())).second) {
      return Invalid(m.location, absl::StrFormat("measure '%s' defined twice", m.name));
    }
    impl->names.push_back(m.name);
    impl->measures.push_back(std::move(cm));
  }
  impl->groups.resize(def.groups.size() + 1);
  impl->groups[0].name = def.name;
  impl->groups[0].aggregation = def.aggregation;
  impl->groups[0].base = def.base;
  for (size_t g = 0; g < def.groups.size(); ++g) {
    const GroupDef& gd = def.groups[g];
    if (gd.name.empty()) return Invalid(gd.location, "group without a name");
    if (measure_of.contains(gd.name) || !group_of.emplace(gd.name, static_cast<int>(g + 1)).second) {
      return Invalid(gd.location, absl::StrFormat("group '%s' defined twice (or named like a "
                                                  "measure)",
                                                  gd.name));
    }
    if (!(gd.weight >= 0) || !Finite(gd.weight)) {
      return Invalid(gd.location, absl::StrFormat("group '%s': weight must be a non-negative "
                                                  "number, got %g",
                                                  gd.name, gd.weight));
    }
    if (!Finite(gd.base)) return Invalid(gd.location, absl::StrFormat("group '%s': base", gd.name));
    if (gd.members.empty()) {
      return Invalid(gd.location, absl::StrFormat("group '%s' has no members", gd.name));
    }
    impl->groups[g + 1].name = gd.name;
    impl->groups[g + 1].aggregation = gd.aggregation;
    impl->groups[g + 1].base = gd.base;
  }
  // Resolve members; each measure and group belongs to exactly one parent.
  std::vector<int> measure_parent(impl->measures.size(), -1), group_parent(impl->groups.size(), -1);
  auto resolve = [&](int g, const std::vector<std::string>& members,
                     std::string_view where_loc) -> absl::Status {
    const std::string& gname = g == 0 ? card : absl::StrFormat("group '%s'", impl->groups[g].name);
    for (const std::string& name : members) {
      Child ch;
      if (auto it = measure_of.find(name); it != measure_of.end()) {
        ch.index = it->second;
        ch.weight = def.measures[static_cast<size_t>(it->second)].weight;
        if (measure_parent[static_cast<size_t>(ch.index)] >= 0) {
          return Invalid(where_loc, absl::StrFormat("%s: measure '%s' is already a member of "
                                                    "another group",
                                                    gname, name));
        }
        measure_parent[static_cast<size_t>(ch.index)] = g;
      } else if (auto jt = group_of.find(name); jt != group_of.end()) {
        ch.is_group = true;
        ch.index = jt->second;
        ch.weight = def.groups[static_cast<size_t>(jt->second - 1)].weight;
        if (ch.index == g) {
          return Invalid(where_loc, absl::StrFormat("cyclic group reference: '%s' contains "
                                                    "itself",
                                                    name));
        }
        if (group_parent[static_cast<size_t>(ch.index)] >= 0) {
          return Invalid(where_loc, absl::StrFormat("%s: group '%s' is already a member of "
                                                    "another group",
                                                    gname, name));
        }
        group_parent[static_cast<size_t>(ch.index)] = g;
      } else {
        return Invalid(where_loc, absl::StrFormat("%s: unknown member '%s' (no measure or group "
                                                  "of that name)",
                                                  gname, name));
      }
      impl->groups[static_cast<size_t>(g)].children.push_back(ch);
    }
    return absl::OkStatus();
  };
  if (absl::Status st = resolve(0, def.members, loc); !st.ok()) return st;
  for (size_t g = 0; g < def.groups.size(); ++g) {
    if (absl::Status st = resolve(static_cast<int>(g + 1), def.groups[g].members,
                                  def.groups[g].location);
        !st.ok()) {
      return st;
    }
  }
  // With one parent each, a group not reachable from the top is on a cycle or unused.
  for (size_t g = 1; g < impl->groups.size(); ++g) {
    std::vector<std::string> chain = {impl->groups[g].name};
    int p = group_parent[g];
    bool cyclic = false;
    for (size_t steps = 0; p > 0 && steps <= impl->groups.size(); ++steps) {
      chain.push_back(impl->groups[static_cast<size_t>(p)].name);
      if (static_cast<size_t>(p) == g) {
        cyclic = true;
        break;
      }
      p = group_parent[static_cast<size_t>(p)];
    }
    const std::string& gl = def.groups[g - 1].location;
    if (cyclic) {
      std::reverse(chain.begin(), chain.end());
      std::string path;
      for (const std::string& c : chain) path += (path.empty() ? "" : " -> ") + c;
      return Invalid(gl, absl::StrFormat("cyclic group reference: %s", path));
    }
    if (p < 0) {
      return Invalid(gl, absl::StrFormat("group '%s' is not a member of the scorecard or of any "
                                         "group",
                                         impl->groups[g].name));
    }
  }
  // Checked after the cycles: groups that only contain each other leave the top empty, and
  // the cycle is the error a user needs to see.
  if (def.members.empty()) {
    return Invalid(loc, absl::StrFormat("%s has no top-level members", card));
  }
  for (size_t m = 0; m < impl->measures.size(); ++m) {
    if (measure_parent[m] < 0) {
      return Invalid(def.measures[m].location,
                     absl::StrFormat("measure '%s' is not a member of the scorecard or of any "
                                     "group",
                                     def.measures[m].name));
    }
  }
  // Paths and static weight shares (for minimum coverage).
  impl->static_share.assign(impl->measures.size(), 0);
  std::function<void(int, double, const std::string&)> walk = [&](int g, double share,
                                                                   const std::string& prefix) {
    const CGroup& grp = impl->groups[static_cast<size_t>(g)];
    double total = 0;
    for (const Child& c : grp.children) total += c.weight;
    for (const Child& c : grp.children) {
      double s = grp.aggregation == Aggregation::kWorstOf
                     ? share / static_cast<double>(grp.children.size())
                     : (total > 0 ? share * c.weight / total : 0);
      if (c.is_group) {
        walk(c.index, s, prefix + impl->groups[static_cast<size_t>(c.index)].name + "/");
      } else {
        impl->static_share[static_cast<size_t>(c.index)] = s;
        impl->measures[static_cast<size_t>(c.index)].path =
            prefix + impl->measures[static_cast<size_t>(c.index)].def.name;
      }
    }
  };
  walk(0, 1.0, "");
  Scorecard out;
  out.impl_ = std::move(impl);
  return out;
}

const std::string& Scorecard::name() const { return impl_->def.name; }
const ScorecardDef& Scorecard::def() const { return impl_->def; }
size_t Scorecard::num_measures() const { return impl_->measures.size(); }
const std::vector<std::string>& Scorecard::measure_names() const { return impl_->names; }
int Scorecard::RangeOf(double score) const { return impl_->RangeOf(score); }

// ---------------------------------------------------------------------------------------
// Evaluation.

namespace {

// Where a measure's values come from in this call: a double column (the frame's own, or
// one prepared here) or category codes with a per-code score table.
struct Source {
  const double* x = nullptr;
  std::vector<double> owned;
  const int32_t* codes = nullptr;
  std::vector<double> table;  // table[code + 1]; table[0] = missing
};

// Mid-rank percentile (0-100) of each present value among the present values of its
// segment (`seg` codes, or one population when null). Missing stays NaN.
void PercentileRank(const double* x, const int32_t* seg, size_t n, double* out) {
  for (size_t i = 0; i < n; ++i) out[i] = kNaN;
  // Sort by (segment, value); segments with a missing code are left unranked.
  std::vector<std::pair<std::pair<int32_t, double>, uint32_t>> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t s = seg == nullptr ? 0 : seg[i];
    if (std::isnan(x[i]) || s < 0) continue;
    v.push_back({{s, x[i]}, static_cast<uint32_t>(i)});
  }
  std::sort(v.begin(), v.end());
  size_t a = 0;
  while (a < v.size()) {
    size_t b = a;
    while (b < v.size() && v[b].first.first == v[a].first.first) ++b;
    size_t cnt = b - a;
    size_t t = a;
    while (t < b) {
      size_t u = t;
      while (u < b && v[u].first.second == v[t].first.second) ++u;
      double mid = static_cast<double>(t - a) + static_cast<double>(u - t - 1) / 2.0;
      double p = cnt > 1 ? 100.0 * mid / static_cast<double>(cnt - 1) : 50.0;
      for (size_t k = t; k < u; ++k) out[v[k].second] = p;
      t = u;
    }
    a = b;
  }
}

absl::StatusOr<std::vector<double>> ColumnAsDouble(const Column& c, int64_t as_of) {
  size_t n = c.size();
  std::vector<double> out(n, kNaN);
  switch (c.type) {
    case ColumnType::kFloat64:
      out.assign(c.f64.begin(), c.f64.end());
      break;
    case ColumnType::kInt64:
      for (size_t i = 0; i < n; ++i) {
        if (!c.IsMissing(i)) out[i] = static_cast<double>(c.i64[i]);
      }
      break;
    case ColumnType::kBool:
      for (size_t i = 0; i < n; ++i) {
        if (!c.IsMissing(i)) out[i] = c.b[i] ? 1.0 : 0.0;
      }
      break;
    case ColumnType::kTimestamp:
      // Days elapsed since the timestamp at as_of (negative for dates ahead).
      for (size_t i = 0; i < n; ++i) {
        if (!c.IsMissing(i)) out[i] = static_cast<double>(as_of - c.i64[i]) / 86400.0;
      }
      break;
    case ColumnType::kCategorical:
      return absl::InvalidArgumentError("is categorical; only a 'categories' measure reads it");
  }
  return out;
}

// Per-thread scratch for one block.
struct Scratch {
  std::vector<double> acc, ws, cov;  // per group, kBlock each
  std::vector<double> tmp;           // per group (child group results), kBlock each
  std::vector<double> sub;           // one measure's block
};

struct Evaluator {
  const Scorecard::Impl& impl;
  const std::vector<Source>& src;
  const std::vector<std::vector<std::pair<size_t, double>>>& measure_overrides;
  double* sub_out;  // n x m column-major, or null
  size_t n;

  void ScoreMeasure(size_t m, size_t b0, size_t len, double* s) const {
    const CMeasure& cm = impl.measures[m];
    const Source& so = src[m];
    if (so.codes != nullptr) {
      const int32_t* c = so.codes + b0;
      const double* t = so.table.data();
      for (size_t i = 0; i < len; ++i) s[i] = t[c[i] + 1];
    } else {
      const double* x = so.x + b0;
      switch (cm.def.kind) {
        case MeasureKind::kRamp:
        case MeasureKind::kInvertedRamp: {
          const double lo = cm.lo, k = cm.k, base = cm.smin;
          const double a = std::min(cm.smin, cm.smax), b = std::max(cm.smin, cm.smax);
          // Comparisons with NaN are false, so a missing value passes through as NaN.
          for (size_t i = 0; i < len; ++i) {
            double t = base + (x[i] - lo) * k;
            t = t < a ? a : t;
            s[i] = t > b ? b : t;
          }
          break;
        }
        case MeasureKind::kBands: {
          const size_t nb = cm.upper.size();
          const double last = cm.band_score.back();
          for (size_t i = 0; i < len; ++i) s[i] = x[i] == x[i] ? last : kNaN;
          for (size_t j = nb - 1; j-- > 0;) {
            const double u = cm.upper[j], v = cm.band_score[j];
            for (size_t i = 0; i < len; ++i) s[i] = x[i] <= u ? v : s[i];
          }
          break;
        }
        case MeasureKind::kBoolean: {
          const double yes = cm.def.if_true, no = cm.def.if_false;
          for (size_t i = 0; i < len; ++i) s[i] = x[i] == x[i] ? (x[i] != 0 ? yes : no) : kNaN;
          break;
        }
        case MeasureKind::kPercentile:
        case MeasureKind::kCategory:
          std::copy(x, x + len, s);
          break;
      }
    }
    const auto& ov = measure_overrides[m];
    if (!ov.empty()) {
      auto it = std::lower_bound(ov.begin(), ov.end(), std::make_pair(b0, -HUGE_VAL));
      for (; it != ov.end() && it->first < b0 + len; ++it) s[it->first - b0] = it->second;
    }
  }

  // Folds group g over rows [b0, b0+len) into out[0..len).
  void Group(int g, size_t b0, size_t len, Scratch& sc, double* out, double* cov) const {
    const CGroup& grp = impl.groups[static_cast<size_t>(g)];
    double* acc = sc.acc.data() + static_cast<size_t>(g) * kBlock;
    double* ws = sc.ws.data() + static_cast<size_t>(g) * kBlock;
    const bool worst = grp.aggregation == Aggregation::kWorstOf;
    const bool substitute = impl.def.missing == MissingPolicy::kSubstitute;
    const double subst = impl.def.substitute;
    std::fill(acc, acc + len, worst ? HUGE_VAL : 0.0);
    std::fill(ws, ws + len, 0.0);
    for (const Child& ch : grp.children) {
      double* s;
      if (ch.is_group) {
        s = sc.tmp.data() + static_cast<size_t>(ch.index) * kBlock;
        Group(ch.index, b0, len, sc, s, cov);
      } else {
        size_t m = static_cast<size_t>(ch.index);
        s = sub_out != nullptr ? sub_out + m * n + b0 : sc.sub.data();
        ScoreMeasure(m, b0, len, s);
        if (substitute) {
          for (size_t i = 0; i < len; ++i) s[i] = s[i] == s[i] ? s[i] : subst;
        }
        if (cov != nullptr) {
          const double sh = impl.static_share[m];
          for (size_t i = 0; i < len; ++i) cov[i] += s[i] == s[i] ? sh : 0.0;
        }
      }
      const double w = ch.weight;
      if (worst) {
        for (size_t i = 0; i < len; ++i) {
          const bool p = s[i] == s[i];
          acc[i] = p && s[i] < acc[i] ? s[i] : acc[i];
          ws[i] += p ? 1.0 : 0.0;
        }
      } else if (grp.aggregation == Aggregation::kPoints) {
        for (size_t i = 0; i < len; ++i) {
          const bool p = s[i] == s[i];
          acc[i] += p ? w * s[i] : 0.0;
          ws[i] += p ? 1.0 : 0.0;
        }
      } else {
        for (size_t i = 0; i < len; ++i) {
          const bool p = s[i] == s[i];
          acc[i] += p ? w * s[i] : 0.0;
          ws[i] += p ? w : 0.0;
        }
      }
    }
    switch (grp.aggregation) {
      case Aggregation::kWeightedMean:
        for (size_t i = 0; i < len; ++i) out[i] = ws[i] > 0 ? acc[i] / ws[i] : kNaN;
        break;
      case Aggregation::kWorstOf:
        for (size_t i = 0; i < len; ++i) out[i] = ws[i] > 0 ? acc[i] : kNaN;
        break;
      case Aggregation::kPoints: {
        const double base = grp.base;
        for (size_t i = 0; i < len; ++i) out[i] = ws[i] > 0 ? base + acc[i] : kNaN;
        break;
      }
    }
  }
};

}  // namespace

absl::StatusOr<ScoreBatch> Scorecard::Score(const AccountFrame& frame,
                                            const MetricHistory* history,
                                            const ScoreOptions& options) const {
  const Impl& impl = *impl_;
  const size_t n = frame.num_rows();
  const size_t nm = impl.measures.size();
  if (!options.previous.empty() && options.previous.size() != n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "previous scores: %d values for %d accounts", static_cast<int>(options.previous.size()),
        static_cast<int>(n)));
  }
  // Sources: zero-copy for float columns, prepared columns for the rest.
  std::vector<Source> src(nm);
  for (size_t m = 0; m < nm; ++m) {
    const CMeasure& cm = impl.measures[m];
    const MeasureDef& d = cm.def;
    auto fail = [&](std::string_view msg) {
      return Invalid(d.location, absl::StrFormat("measure '%s': %s", d.name, msg));
    };
    Source& s = src[m];
    if (d.window.has_value()) {
      if (history == nullptr) {
        return fail(absl::StrFormat("metric '%s' needs a metric history (window %s over %d days)",
                                    d.metric, WindowOpName(d.window->op), d.window->days));
      }
      if (!history->Has(d.metric)) {
        return fail(absl::StrFormat("unknown metric '%s' (not in the metric history)", d.metric));
      }
      if (history->num_accounts() != n) {
        return fail(absl::StrFormat("metric history has %d accounts, the frame %d",
                                    static_cast<int>(history->num_accounts()),
                                    static_cast<int>(n)));
      }
      s.owned.resize(n);
      if (absl::Status st = history->Window(d.metric, d.window->op, d.window->days, s.owned);
          !st.ok()) {
        return fail(ToStd(st.message()));
      }
    } else {
      const Column* c = frame.Find(d.metric);
      if (c == nullptr) {
        return fail(absl::StrFormat("unknown metric '%s' (no such column)", d.metric));
      }
      if (d.kind == MeasureKind::kCategory) {
        if (c->type != ColumnType::kCategorical) {
          return fail(absl::StrFormat("column '%s' is %s; a 'categories' measure needs a "
                                      "categorical column",
                                      d.metric, ColumnTypeName(c->type)));
        }
        s.codes = c->codes.data();
        s.table.assign(c->dictionary.size() + 1, kNaN);
        for (size_t k = 0; k < c->dictionary.size(); ++k) {
          auto it = cm.categories.find(std::string_view(c->dictionary[k]));
          s.table[k + 1] = it != cm.categories.end() ? it->second
                                                     : d.other_category.value_or(kNaN);
        }
        continue;
      }
      if (c->type == ColumnType::kFloat64) {
        s.x = c->f64.data();
      } else {
        absl::StatusOr<std::vector<double>> v = ColumnAsDouble(*c, options.as_of);
        if (!v.ok()) return fail(absl::StrFormat("column '%s' %s", d.metric, v.status().message()));
        s.owned = *std::move(v);
      }
    }
    if (d.kind == MeasureKind::kPercentile) {
      const int32_t* seg = nullptr;
      if (!d.within.empty()) {
        const Column* sc = frame.Find(d.within);
        if (sc == nullptr || sc->type != ColumnType::kCategorical) {
          return fail(absl::StrFormat("percentile 'within' needs a categorical column, '%s' %s",
                                      d.within, sc == nullptr ? "does not exist" : "is not one"));
        }
        seg = sc->codes.data();
      }
      std::vector<double> pct(n);
      PercentileRank(s.x != nullptr ? s.x : s.owned.data(), seg, n, pct.data());
      s.owned = std::move(pct);
      s.x = nullptr;
    }
    if (s.x == nullptr) s.x = s.owned.data();
  }

  // Overrides: validated whole before anything is scored.
  std::vector<std::vector<std::pair<size_t, double>>> measure_ov(nm);
  std::vector<std::pair<size_t, double>> overall_ov;
  ScoreBatch batch;
  for (const OverrideDef& o : options.overrides) {
    std::string where = absl::StrFormat("override of %s for account '%s'",
                                        o.measure.empty() ? std::string("the score")
                                                          : "measure '" + o.measure + "'",
                                        o.account_id);
    if (o.reason.empty() || o.author.empty()) {
      return Invalid(o.location, absl::StrFormat("%s: needs a reason and an author", where));
    }
    if (!Finite(o.value)) return Invalid(o.location, absl::StrFormat("%s: value", where));
    int mi = -1;
    if (!o.measure.empty()) {
      auto it = std::find(impl.names.begin(), impl.names.end(), o.measure);
      if (it == impl.names.end()) {
        return Invalid(o.location, absl::StrFormat("%s: scorecard '%s' has no such measure",
                                                   where, impl.def.name));
      }
      mi = static_cast<int>(it - impl.names.begin());
    } else if (o.value < impl.lo || o.value > impl.hi) {
      return Invalid(o.location, absl::StrFormat("%s: %g is outside the scheme's range %g-%g",
                                                 where, o.value, impl.lo, impl.hi));
    }
    if (options.as_of >= o.expires) continue;  // expired
    std::optional<size_t> row = frame.RowOf(o.account_id);
    if (!row.has_value()) continue;  // an account not in this batch
    if (mi >= 0) {
      measure_ov[static_cast<size_t>(mi)].push_back({*row, o.value});
    } else {
      overall_ov.push_back({*row, o.value});
    }
    batch.applied_overrides.push_back({*row, mi});
  }
  for (auto& v : measure_ov) std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) {
    return a.first < b.first;
  });

  batch.frame = frame;
  batch.score.assign(n, kNaN);
  batch.range.assign(n, -1);
  batch.delta.assign(n, kNaN);
  batch.trend.assign(n, 0);
  if (options.detail != ScoreDetail::kScores) {
    batch.sub.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(nm));
  }
  if (options.detail == ScoreDetail::kFull) {
    batch.raw.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(nm));
    for (size_t m = 0; m < nm; ++m) {
      double* r = batch.raw.data() + m * n;
      if (src[m].codes != nullptr) {
        for (size_t i = 0; i < n; ++i) r[i] = src[m].codes[i];  // the category code
      } else if (impl.measures[m].def.kind == MeasureKind::kPercentile) {
        // Raw value for explanations: the metric itself, not its rank.
        const Column* c = impl.measures[m].def.window ? nullptr
                                                      : frame.Find(impl.measures[m].def.metric);
        if (c != nullptr && c->type == ColumnType::kFloat64) {
          std::copy(c->f64.begin(), c->f64.end(), r);
        } else {
          std::copy(src[m].x, src[m].x + n, r);
        }
      } else {
        std::copy(src[m].x, src[m].x + n, r);
      }
    }
  }

  Evaluator ev{impl, src, measure_ov, nm > 0 && options.detail != ScoreDetail::kScores
                                          ? batch.sub.data()
                                          : nullptr,
               n};
  const bool need_cov = impl.def.min_coverage > 0;
  const double min_cov = impl.def.min_coverage;
  const size_t nblocks = (n + kBlock - 1) / kBlock;
  auto run = [&](size_t blk_begin, size_t blk_end) {
    Scratch sc;
    sc.acc.resize(impl.groups.size() * kBlock);
    sc.ws.resize(impl.groups.size() * kBlock);
    sc.tmp.resize(impl.groups.size() * kBlock);
    sc.sub.resize(kBlock);
    std::vector<double> cov(kBlock);
    for (size_t blk = blk_begin; blk < blk_end; ++blk) {
      size_t b0 = blk * kBlock, len = std::min(kBlock, n - b0);
      double* out = batch.score.data() + b0;
      if (need_cov) std::fill(cov.begin(), cov.begin() + static_cast<long>(len), 0.0);
      ev.Group(0, b0, len, sc, out, need_cov ? cov.data() : nullptr);
      const double lo = impl.lo, hi = impl.hi;
      for (size_t i = 0; i < len; ++i) {
        double s = out[i];
        s = s < lo ? lo : (s > hi ? hi : s);
        out[i] = need_cov && cov[i] + 1e-12 < min_cov ? kNaN : s;
      }
    }
  };
  int threads = std::max(1, options.threads);
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(nblocks, 1)));
  if (threads <= 1) {
    run(0, nblocks);
  } else {
    // Contiguous block ranges: each account is computed the same way whatever the split.
    std::vector<std::thread> pool;
    size_t per = (nblocks + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
    for (int t = 0; t < threads; ++t) {
      size_t a = static_cast<size_t>(t) * per, b = std::min(nblocks, a + per);
      if (a < b) pool.emplace_back(run, a, b);
    }
    for (std::thread& th : pool) th.join();
  }
  for (const auto& [row, value] : overall_ov) batch.score[row] = value;
  const double thr = impl.def.trend_threshold;
  for (size_t i = 0; i < n; ++i) {
    batch.range[i] = static_cast<int8_t>(impl.RangeOf(batch.score[i]));
    if (!options.previous.empty()) {
      double d = batch.score[i] - options.previous[i];
      batch.delta[i] = d;
      batch.trend[i] = static_cast<int8_t>(d > thr ? 1 : (d < -thr ? -1 : 0));
    }
  }
  return batch;
}

absl::StatusOr<double> Scorecard::ScoreRow(const AccountFrame& frame, const MetricHistory* history,
                                           size_t row) const {
  const Impl& impl = *impl_;
  if (row >= frame.num_rows()) return absl::OutOfRangeError("row out of range");
  std::vector<double> subs(impl.measures.size(), kNaN);
  for (size_t m = 0; m < impl.measures.size(); ++m) {
    const CMeasure& cm = impl.measures[m];
    const MeasureDef& d = cm.def;
    if (d.kind == MeasureKind::kPercentile) {
      return absl::FailedPreconditionError(
          absl::StrFormat("measure '%s': a percentile needs the whole population", d.name));
    }
    double x = kNaN;
    if (d.window.has_value()) {
      if (history == nullptr) return absl::InvalidArgumentError("no metric history");
      absl::StatusOr<double> v = history->WindowAt(d.metric, d.window->op, d.window->days, row);
      if (!v.ok()) return v.status();
      x = *v;
    } else {
      absl::StatusOr<const Column*> c = frame.Get(d.metric);
      if (!c.ok()) return c.status();
      const Column& col = **c;
      if (col.IsMissing(row)) {
        x = kNaN;
      } else if (d.kind == MeasureKind::kCategory) {
        auto it = cm.categories.find(col.CategoryAt(row));
        subs[m] = it != cm.categories.end() ? it->second : d.other_category.value_or(kNaN);
        continue;
      } else {
        switch (col.type) {
          case ColumnType::kFloat64: x = col.f64[row]; break;
          case ColumnType::kInt64: x = static_cast<double>(col.i64[row]); break;
          case ColumnType::kBool: x = col.b[row] ? 1 : 0; break;
          case ColumnType::kTimestamp: x = kNaN; break;
          case ColumnType::kCategorical: x = kNaN; break;
        }
      }
    }
    subs[m] = impl.SubScore(cm, x);
  }
  return impl.Walk(subs, nullptr, nullptr);
}

absl::StatusOr<Explanation> Scorecard::Explain(const ScoreBatch& batch, size_t row,
                                               const ScoreBatch* previous) const {
  const Impl& impl = *impl_;
  const size_t nm = impl.measures.size();
  if (row >= batch.size()) return absl::OutOfRangeError("row out of range");
  if (batch.raw.cols() != static_cast<Eigen::Index>(nm) ||
      batch.sub.cols() != static_cast<Eigen::Index>(nm)) {
    return absl::FailedPreconditionError(
        "explanations need a batch of this scorecard scored with ScoreDetail::kFull");
  }
  Explanation ex;
  ex.account_id = batch.frame.ids()[row];
  ex.score = batch.score[row];
  int r = batch.range[row];
  if (r >= 0) {
    ex.label = impl.def.scheme.ranges[static_cast<size_t>(r)].label;
    ex.color = impl.def.scheme.ranges[static_cast<size_t>(r)].color;
  }
  const Eigen::Index ri = static_cast<Eigen::Index>(row);
  std::vector<double> subs(nm), share, points;
  for (size_t m = 0; m < nm; ++m) subs[m] = batch.sub(ri, static_cast<Eigen::Index>(m));
  impl.Walk(subs, &share, &points);
  std::vector<double> prev_points;
  bool has_prev = false;
  if (previous != nullptr && previous->sub.cols() == static_cast<Eigen::Index>(nm)) {
    if (std::optional<size_t> pr = previous->frame.RowOf(ex.account_id); pr.has_value()) {
      std::vector<double> psubs(nm), pshare;
      for (size_t m = 0; m < nm; ++m) {
        psubs[m] = previous->sub(static_cast<Eigen::Index>(*pr), static_cast<Eigen::Index>(m));
      }
      impl.Walk(psubs, &pshare, &prev_points);
      ex.previous = previous->score[*pr];
      has_prev = true;
    }
  }
  for (size_t m = 0; m < nm; ++m) {
    MeasureExplanation me;
    const CMeasure& cm = impl.measures[m];
    me.measure = cm.def.name;
    me.path = cm.path;
    me.raw = batch.raw(ri, static_cast<Eigen::Index>(m));
    if (cm.def.kind == MeasureKind::kCategory) me.raw = kNaN;  // a label, not a number
    me.sub_score = subs[m];
    me.weight = cm.def.weight;
    me.contribution = share[m];
    me.points = points[m];
    if (has_prev) {
      me.previous_points = prev_points[m];
      me.delta_points = points[m] - prev_points[m];
    }
    for (const auto& [orow, om] : batch.applied_overrides) {
      if (orow == row && om == static_cast<int>(m)) me.overridden = true;
    }
    ex.measures.push_back(std::move(me));
  }
  std::vector<size_t> idx(nm);
  for (size_t m = 0; m < nm; ++m) idx[m] = m;
  if (has_prev) {
    ex.top_movers = idx;
    std::stable_sort(ex.top_movers.begin(), ex.top_movers.end(), [&](size_t a, size_t b) {
      return std::abs(ex.measures[a].delta_points) > std::abs(ex.measures[b].delta_points);
    });
    while (!ex.top_movers.empty() && !(std::abs(ex.measures[ex.top_movers.back()].delta_points) >
                                       1e-9)) {
      ex.top_movers.pop_back();
    }
  }
  // Drivers: present measures with weight, lowest sub-score first.
  for (size_t m : idx) {
    if (!std::isnan(subs[m]) && share[m] > 0) ex.top_drivers.push_back(m);
  }
  std::stable_sort(ex.top_drivers.begin(), ex.top_drivers.end(),
                   [&](size_t a, size_t b) { return subs[a] < subs[b]; });
  return ex;
}

// ---------------------------------------------------------------------------------------

ScorecardBuilder::ScorecardBuilder(std::string name) {
  def_.name = std::move(name);
}
ScorecardBuilder& ScorecardBuilder::Aggregate(Aggregation aggregation, double base) {
  def_.aggregation = aggregation;
  def_.base = base;
  return *this;
}
ScorecardBuilder& ScorecardBuilder::AddMeasure(MeasureDef measure, bool top_level) {
  if (top_level) def_.members.push_back(measure.name);
  def_.measures.push_back(std::move(measure));
  return *this;
}
ScorecardBuilder& ScorecardBuilder::AddGroup(GroupDef group, bool top_level) {
  if (top_level) def_.members.push_back(group.name);
  def_.groups.push_back(std::move(group));
  return *this;
}
ScorecardBuilder& ScorecardBuilder::Missing(MissingPolicy policy, double substitute) {
  def_.missing = policy;
  def_.substitute = substitute;
  return *this;
}
ScorecardBuilder& ScorecardBuilder::MinCoverage(double share) {
  def_.min_coverage = share;
  return *this;
}
ScorecardBuilder& ScorecardBuilder::Scheme(SchemeDef scheme) {
  def_.scheme = std::move(scheme);
  return *this;
}
absl::StatusOr<Scorecard> ScorecardBuilder::Build() const { return Scorecard::Compile(def_); }

// ---------------------------------------------------------------------------------------

absl::StatusOr<ScorecardSet> ScorecardSet::Compile(const ScorecardSetDef& def) {
  ScorecardSet set;
  if (def.scorecards.empty()) return absl::InvalidArgumentError("no scorecards");
  StringSet names;
  for (size_t i = 0; i < def.scorecards.size(); ++i) {
    const ScorecardChoice& c = def.scorecards[i];
    if (!names.insert(c.def.name).second) {
      return Invalid(c.def.location, absl::StrFormat("scorecard '%s' defined twice", c.def.name));
    }
    if (c.is_default) {
      if (set.default_ >= 0) {
        return Invalid(c.def.location,
                       absl::StrFormat("scorecard '%s': a second default (first: '%s')",
                                       c.def.name, set.cards_[static_cast<size_t>(set.default_)].name()));
      }
      set.default_ = static_cast<int>(i);
    } else if (c.when.empty()) {
      return Invalid(c.def.location,
                     absl::StrFormat("scorecard '%s' has no criteria and is not the default",
                                     c.def.name));
    }
    absl::StatusOr<Scorecard> card = Scorecard::Compile(c.def);
    if (!card.ok()) return card.status();
    set.cards_.push_back(*std::move(card));
    set.when_.push_back(c.when);
  }
  if (set.default_ < 0) {
    return absl::InvalidArgumentError("no default scorecard (mark one with default: true)");
  }
  set.overrides_ = def.overrides;
  return set;
}

absl::StatusOr<SetBatch> ScorecardSet::Score(const AccountFrame& frame,
                                             const MetricHistory* history,
                                             const ScoreOptions& options,
                                             const SetBatch* previous) const {
  const size_t n = frame.num_rows();
  SetBatch out;
  out.card.assign(n, default_);
  // Criteria are tested in order; the first scorecard whose criteria all match wins.
  std::vector<uint8_t> decided(n, 0);
  for (size_t c = 0; c < cards_.size(); ++c) {
    if (static_cast<int>(c) == default_ && when_[c].empty()) continue;
    std::vector<uint8_t> match(n, 1);
    for (const auto& [column, values] : when_[c]) {
      const Column* col = frame.Find(column);
      if (col == nullptr || col->type != ColumnType::kCategorical) {
        return Invalid(cards_[c].def().location,
                       absl::StrFormat("scorecard '%s': criterion column '%s' %s",
                                       cards_[c].name(), column,
                                       col == nullptr ? "does not exist" : "is not categorical"));
      }
      std::vector<uint8_t> ok_code(col->dictionary.size() + 1, 0);
      for (const std::string& v : values) {
        int32_t code = col->CodeOf(v);
        if (code >= 0) ok_code[static_cast<size_t>(code) + 1] = 1;
      }
      for (size_t i = 0; i < n; ++i) match[i] &= ok_code[static_cast<size_t>(col->codes[i] + 1)];
    }
    for (size_t i = 0; i < n; ++i) {
      if (!decided[i] && match[i]) out.card[i] = static_cast<int>(c), decided[i] = 1;
    }
  }
  // Previous overall scores, matched by account id.
  std::vector<double> prev;
  if (previous != nullptr) {
    prev.assign(n, kNaN);
    StringMap<double> by_id;
    for (size_t i = 0; i < previous->score.size(); ++i) {
      by_id.emplace(previous->batch_of(i).frame.ids()[i], previous->score[i]);
    }
    std::span<const std::string> ids = frame.ids();
    for (size_t i = 0; i < n; ++i) {
      auto it = by_id.find(std::string_view(ids[i]));
      if (it != by_id.end()) prev[i] = it->second;
    }
  }
  std::vector<OverrideDef> all(options.overrides.begin(), options.overrides.end());
  all.insert(all.end(), overrides_.begin(), overrides_.end());
  for (size_t c = 0; c < cards_.size(); ++c) {
    ScoreOptions o = options;
    o.previous = prev;
    // Each scorecard applies only the overrides of its own accounts.
    std::vector<OverrideDef> mine;
    for (const OverrideDef& ov : all) {
      std::optional<size_t> r = frame.RowOf(ov.account_id);
      if (r.has_value() && out.card[*r] == static_cast<int>(c)) mine.push_back(ov);
    }
    o.overrides = mine;
    absl::StatusOr<ScoreBatch> b = cards_[c].Score(frame, history, o);
    if (!b.ok()) return b.status();
    out.batches.push_back(*std::move(b));
  }
  out.score.resize(n);
  out.range.resize(n);
  out.delta.resize(n);
  out.trend.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const ScoreBatch& b = out.batch_of(i);
    out.score[i] = b.score[i];
    out.range[i] = b.range[i];
    out.delta[i] = b.delta[i];
    out.trend[i] = b.trend[i];
  }
  return out;
}

}  // namespace cscore
