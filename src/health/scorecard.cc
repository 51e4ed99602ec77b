// Scorecard compilation and the blocked, column-at-a-time evaluation path.
#include "cscore/health/scorecard.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 1024 accounts: a group's accumulators and a measure's scores stay in L1/L2 while every
// measure of the block is folded in.
constexpr size_t kBlock = 4096;

absl::Status Invalid(std::string_view location, std::string_view message) {
  if (location.empty()) return absl::InvalidArgumentError(std::string(message));
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", location, message));
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

std::string_view MeasureKindName(MeasureKind kind) {
  switch (kind) {
    case MeasureKind::kBands:
      return "bands";
    case MeasureKind::kRamp:
      return "ramp";
    case MeasureKind::kInvertedRamp:
      return "inverted_ramp";
    case MeasureKind::kPercentile:
      return "percentile";
    case MeasureKind::kBoolean:
      return "boolean";
    case MeasureKind::kCategory:
      return "categories";
  }
  return "?";
}

std::string_view AggregationName(Aggregation aggregation) {
  switch (aggregation) {
    case Aggregation::kWeightedMean:
      return "weighted_mean";
    case Aggregation::kWorstOf:
      return "worst_of";
    case Aggregation::kPoints:
      return "points";
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
      case Aggregation::kWeightedMean:
        result = ws > 0 ? acc / ws : kNaN;
        break;
      case Aggregation::kWorstOf:
        result = worst;
        break;
      case Aggregation::kPoints:
        result = grp.base + acc;
        break;
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
    return Invalid(
        loc, absl::StrFormat("%s: weight must be a non-negative number, got %g", where, m.weight));
  }
  if (m.window.has_value()) {
    int min_days = m.window->op == WindowOp::kTrend ? 2 : 1;
    if (m.window->days < min_days) {
      return Invalid(loc, absl::StrFormat("%s: window of %d days (at least %d for %s)", where,
                                          m.window->days, min_days, WindowOpName(m.window->op)));
    }
  }
  out.def = m;
  switch (m.kind) {
    case MeasureKind::kRamp:
    case MeasureKind::kInvertedRamp: {
      if (!Finite(m.lo) || !Finite(m.hi) || !(m.lo < m.hi)) {
        return Invalid(loc, absl::StrFormat("%s: ramp needs finite from < to, got %g and %g", where,
                                            m.lo, m.hi));
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
          return Invalid(loc, absl::StrFormat("%s: band %d needs a bound and a finite score", where,
                                              static_cast<int>(i + 1)));
        }
        if (i > 0 && !(b.upper > m.bands[i - 1].upper)) {
          return Invalid(
              loc, absl::StrFormat("%s: band bounds must ascend (band %d: %g after %g)", where,
                                   static_cast<int>(i + 1), b.upper, m.bands[i - 1].upper));
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
          return Invalid(loc,
                         absl::StrFormat("%s: category '%s' has no finite score", where, label));
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
      return Invalid(loc, absl::StrFormat("range '%s': needs finite from < to, got %g-%g", r.label,
                                          r.from, r.to));
    }
    if (r.label.empty()) return Invalid(loc, "range without a label");
    if (i == 0) continue;
    const RangeDef& p = s.ranges[i - 1];
    if (r.from < p.to) {
      return Invalid(loc, absl::StrFormat("range '%s' (%g-%g) overlaps range '%s' (%g-%g)", r.label,
                                          r.from, r.to, p.label, p.from, p.to));
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
  std::string card =
      def.name.empty() ? std::string("scorecard") : absl::StrFormat("scorecard '%s'", def.name);
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
    if (measure_of.contains(gd.name) ||
        !group_of.emplace(gd.name, static_cast<int>(g + 1)).second) {
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
    if (absl::Status st =
            resolve(static_cast<int>(g + 1), def.groups[g].members, def.groups[g].location);
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
//
// The values are sorted as order-preserving 64-bit keys, each carrying its row, by an LSD
// radix sort: 8-bit digits, so one pass scatters into 256 buckets whose write positions
// stay in L1 and in the TLB (11-bit digits were slower: 2048 scattered streams thrash
// both), with a pass skipped when every key shares its digit. A last stable counting pass
// groups the segments. That is a few linear passes instead of a comparison sort's
// n log n with a comparator on (segment, value) pairs.
uint64_t OrderedKey(double v) {
  v += 0.0;  // -0 and +0 compare equal, so they must tie
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u >> 63) != 0 ? ~u : (u | (uint64_t{1} << 63));
}

struct KeyRow {
  uint64_t key;
  uint64_t row;
};

void PercentileRank(const double* x, const int32_t* seg, size_t n, double* out) {
  for (size_t i = 0; i < n; ++i) out[i] = kNaN;
  std::vector<KeyRow> v, w;
  v.reserve(n);
  int32_t nseg = 1;
  for (size_t i = 0; i < n; ++i) {
    const int32_t s = seg == nullptr ? 0 : seg[i];
    if (std::isnan(x[i]) || s < 0) continue;
    v.push_back({OrderedKey(x[i]), i});
    nseg = std::max(nseg, s + 1);
  }
  const size_t m = v.size();
  if (m == 0) return;
  constexpr int kBits = 8, kPasses = 8;
  constexpr size_t kRadix = size_t{1} << kBits;
  std::vector<size_t> hist(kPasses * kRadix, 0);
  for (const KeyRow& e : v) {
    for (int p = 0; p < kPasses; ++p) ++hist[p * kRadix + ((e.key >> (p * kBits)) & (kRadix - 1))];
  }
  w.resize(m);
  for (int p = 0; p < kPasses; ++p) {
    size_t* h = hist.data() + p * kRadix;
    const int shift = p * kBits;
    if (h[(v[0].key >> shift) & (kRadix - 1)] == m) continue;  // one digit for all keys
    size_t sum = 0;
    for (size_t d = 0; d < kRadix; ++d) sum += std::exchange(h[d], sum);
    for (const KeyRow& e : v) w[h[(e.key >> shift) & (kRadix - 1)]++] = e;
    v.swap(w);
  }
  std::vector<size_t> start(static_cast<size_t>(nseg) + 1, 0);
  if (seg != nullptr && nseg > 1) {
    for (const KeyRow& e : v) ++start[static_cast<size_t>(seg[e.row]) + 1];
    for (size_t s = 1; s < start.size(); ++s) start[s] += start[s - 1];
    std::vector<size_t> pos(start.begin(), start.end() - 1);
    for (const KeyRow& e : v) w[pos[static_cast<size_t>(seg[e.row])]++] = e;
    v.swap(w);
  } else {
    start[1] = m;
  }
  for (size_t s = 0; s + 1 < start.size(); ++s) {
    const size_t a = start[s], b = start[s + 1], cnt = b - a;
    size_t t = a;
    while (t < b) {
      size_t u = t + 1;
      while (u < b && v[u].key == v[t].key) ++u;
      const double mid = static_cast<double>(t - a) + static_cast<double>(u - t - 1) / 2.0;
      const double p = cnt > 1 ? 100.0 * mid / static_cast<double>(cnt - 1) : 50.0;
      for (size_t k = t; k < u; ++k) out[v[k].row] = p;
      t = u;
    }
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

// `v` where the lane mask `m` is all ones, +0.0 where it is zero.
inline double Masked(double v, uint64_t m) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(v) & m);
}

// The evaluation plan: each group's children folded in passes of up to kPassWidth at once.
//
// Reading several measures' columns in one loop keeps several memory streams in flight
// (one column at a time leaves the memory system mostly idle: about half the read
// bandwidth on the benchmark machine), and the group's accumulators are loaded and stored
// once per pass instead of once per measure. Every pass uses one parametric scoring
// function that covers ramps, inverted ramps, threshold bands and plain values:
//
//   t = clamp(base + (x - lo) * k, a, b), then for each band from the top down:
//   t = x <= upper ? score : t
//
// A ramp has no bands; bands have k = 0 and their last bound forced to +inf (values above
// the last bound score the last band, and a ramp part of (inf - 0) * 0 = NaN never shows);
// a plain value (a percentile, a child group's score, or a measure staged into scratch:
// booleans, categories, rows with overrides, more than kMaxBands bands) is k = 1 without
// bands or clamp. Bands are padded with NaN bounds (x <= NaN is false) to the pass's
// band count, which is rounded up to an even number to bound the number of kernels.
constexpr int kPassWidth = 4;
constexpr int kMaxBands = 8;

struct Slot {
  int child = 0;        // index into the group's children
  bool staged = false;  // scored into scratch first (see above)
  int bands = 0;        // bands used by the parametric form
  double lo = 0, k = 1, base = 0, a = -HUGE_VAL, b = HUGE_VAL;
  double upper[kMaxBands], score[kMaxBands];  // from the top band down, NaN-padded
};

struct Pass {
  bool groups = false;  // children are groups: no substitution, no coverage, no output
  int bands = 0;        // 0, 2, 4, 6 or 8
  std::vector<Slot> slots;
};

// Where a slot reads and writes in one block.
struct SlotIo {
  const double* x;
  double* out;
  double w, share;
};

template <Aggregation A, int K, int NB, bool kOut>
void FoldPass(const Slot* slots, const SlotIo* io, size_t len, double subst, double* __restrict acc,
              double* __restrict ws, double* __restrict cov, const double* __restrict x0,
              const double* __restrict x1, const double* __restrict x2, const double* __restrict x3,
              double* __restrict o0, double* __restrict o1, double* __restrict o2,
              double* __restrict o3) {
  double lo[K], k[K], base[K], a[K], b[K], w[K], share[K];
  double up[K][NB > 0 ? NB : 1], sc[K][NB > 0 ? NB : 1];
  for (int s = 0; s < K; ++s) {
    lo[s] = slots[s].lo, k[s] = slots[s].k, base[s] = slots[s].base;
    a[s] = slots[s].a, b[s] = slots[s].b, w[s] = io[s].w, share[s] = io[s].share;
    for (int j = 0; j < NB; ++j) up[s][j] = slots[s].upper[j], sc[s][j] = slots[s].score[j];
  }
  for (size_t i = 0; i < len; ++i) {
    double acc_i = acc[i], ws_i = ws[i], cov_i = cov[i];
    for (int s = 0; s < K; ++s) {
      const double x = (s == 0 ? x0 : s == 1 ? x1 : s == 2 ? x2 : x3)[i];
      double t = base[s] + (x - lo[s]) * k[s];
      t = t < a[s] ? a[s] : t;
      t = t > b[s] ? b[s] : t;
      for (int j = 0; j < NB; ++j) t = x <= up[s][j] ? sc[s][j] : t;
      t = t == t ? t : subst;
      if constexpr (kOut) (s == 0 ? o0 : s == 1 ? o1 : s == 2 ? o2 : o3)[i] = t;
      // The presence mask is applied with a bitwise AND rather than `present ? v : 0`:
      // from a select GCC infers "nothing to add when absent" and turns the sum into
      // masked conditional stores behind a branch; the AND keeps one straight-line path.
      const uint64_t m = uint64_t{0} - static_cast<uint64_t>(t == t);
      cov_i += Masked(share[s], m);
      if constexpr (A == Aggregation::kWorstOf) {
        acc_i = t < acc_i ? t : acc_i;  // false for a NaN t: a missing child changes nothing
        ws_i += Masked(1.0, m);
      } else if constexpr (A == Aggregation::kPoints) {
        acc_i += w[s] * Masked(t, m);
        ws_i += Masked(1.0, m);
      } else {
        acc_i += w[s] * Masked(t, m);
        ws_i += Masked(w[s], m);
      }
    }
    acc[i] = acc_i;
    ws[i] = ws_i;
    cov[i] = cov_i;
  }
}

using PassFn = void (*)(const Slot*, const SlotIo*, size_t, double, double*, double*, double*,
                        const double*, const double*, const double*, const double*, double*,
                        double*, double*, double*);

template <Aggregation A, int K, bool kOut>
PassFn PickBands(int bands) {
  switch (bands) {
    case 0:
      return &FoldPass<A, K, 0, kOut>;
    case 2:
      return &FoldPass<A, K, 2, kOut>;
    case 4:
      return &FoldPass<A, K, 4, kOut>;
    case 6:
      return &FoldPass<A, K, 6, kOut>;
    default:
      return &FoldPass<A, K, 8, kOut>;
  }
}

template <Aggregation A, bool kOut>
PassFn PickWidth(int k, int bands) {
  switch (k) {
    case 1:
      return PickBands<A, 1, kOut>(bands);
    case 2:
      return PickBands<A, 2, kOut>(bands);
    case 3:
      return PickBands<A, 3, kOut>(bands);
    default:
      return PickBands<A, 4, kOut>(bands);
  }
}

PassFn PickPass(Aggregation agg, int k, int bands, bool out) {
  switch (agg) {
    case Aggregation::kWorstOf:
      return out ? PickWidth<Aggregation::kWorstOf, true>(k, bands)
                 : PickWidth<Aggregation::kWorstOf, false>(k, bands);
    case Aggregation::kPoints:
      return out ? PickWidth<Aggregation::kPoints, true>(k, bands)
                 : PickWidth<Aggregation::kPoints, false>(k, bands);
    case Aggregation::kWeightedMean:
      break;
  }
  return out ? PickWidth<Aggregation::kWeightedMean, true>(k, bands)
             : PickWidth<Aggregation::kWeightedMean, false>(k, bands);
}

// Per-thread scratch for one block.
struct Scratch {
  std::vector<double> acc, ws;  // per group, kBlock each
  std::vector<double> tmp;      // per group (child group results), kBlock each
  std::vector<double> stage;    // kPassWidth staged measures, kBlock each
  std::vector<double> cov;      // coverage (or a sink when there is no minimum)
  std::vector<double> sink;     // kPassWidth outputs nobody reads
  std::vector<double> rc;       // range counts of the block
};

struct Evaluator {
  const Scorecard::Impl& impl;
  const std::vector<Source>& src;
  const std::vector<std::vector<std::pair<size_t, double>>>& measure_overrides;
  double* sub_out;  // n x m column-major, or null
  size_t n;
  double subst;                         // NaN unless the missing policy substitutes
  std::vector<std::vector<Pass>> plan;  // per group

  // Builds the passes of every group. Measures are ordered by band count inside a group so
  // that a pass's kernel does no more selects than its members need; the order is fixed
  // per scorecard, so results do not depend on the data or on the thread count.
  void Plan() {
    plan.assign(impl.groups.size(), {});
    for (size_t g = 0; g < impl.groups.size(); ++g) {
      const CGroup& grp = impl.groups[g];
      std::vector<Slot> measures, groups;
      for (size_t c = 0; c < grp.children.size(); ++c) {
        const Child& ch = grp.children[c];
        Slot sl;
        sl.child = static_cast<int>(c);
        for (int j = 0; j < kMaxBands; ++j) sl.upper[j] = kNaN, sl.score[j] = 0;
        if (ch.is_group) {
          groups.push_back(sl);
          continue;
        }
        const CMeasure& cm = impl.measures[static_cast<size_t>(ch.index)];
        const Source& so = src[static_cast<size_t>(ch.index)];
        if (so.codes != nullptr) {
          sl.staged = true;
        } else {
          switch (cm.def.kind) {
            case MeasureKind::kRamp:
            case MeasureKind::kInvertedRamp:
              sl.lo = cm.lo, sl.k = cm.k, sl.base = cm.smin;
              sl.a = std::min(cm.smin, cm.smax), sl.b = std::max(cm.smin, cm.smax);
              break;
            case MeasureKind::kBands: {
              const int nb = static_cast<int>(cm.upper.size());
              if (nb > kMaxBands) {
                sl.staged = true;
                break;
              }
              sl.k = 0, sl.base = cm.band_score.back(), sl.bands = nb;
              for (int j = 0; j < nb; ++j) {
                const size_t band = static_cast<size_t>(nb - 1 - j);
                sl.upper[j] = j == 0 ? HUGE_VAL : cm.upper[band];
                sl.score[j] = cm.band_score[band];
              }
              break;
            }
            case MeasureKind::kBoolean:
              sl.staged = true;
              break;
            case MeasureKind::kPercentile:
            case MeasureKind::kCategory:
              break;  // a plain value
          }
        }
        measures.push_back(sl);
      }
      std::stable_sort(measures.begin(), measures.end(),
                       [](const Slot& x, const Slot& y) { return x.bands < y.bands; });
      // As few passes as possible, of balanced widths (10 -> 4 + 3 + 3, not 4 + 4 + 2): a
      // narrow pass has fewer streams in flight.
      auto cut = [&](std::vector<Slot>& slots, bool are_groups) {
        const size_t passes = (slots.size() + kPassWidth - 1) / kPassWidth;
        for (size_t p = 0, begin = 0; p < passes; ++p) {
          Pass pass;
          pass.groups = are_groups;
          const size_t width = slots.size() / passes + (p < slots.size() % passes ? 1 : 0);
          const size_t e = begin + width;
          pass.slots.assign(slots.begin() + static_cast<long>(begin),
                            slots.begin() + static_cast<long>(e));
          begin = e;
          for (const Slot& sl : pass.slots) pass.bands = std::max(pass.bands, sl.bands);
          pass.bands = (pass.bands + 1) / 2 * 2;
          plan[g].push_back(std::move(pass));
        }
      };
      cut(measures, false);
      cut(groups, true);
    }
  }

  // The generic path, for measures staged into scratch: the measure's scores, with the
  // block's overrides applied.
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

  bool HasOverrides(size_t m, size_t b0, size_t len) const {
    const auto& ov = measure_overrides[m];
    if (ov.empty()) return false;
    auto it = std::lower_bound(ov.begin(), ov.end(), std::make_pair(b0, -HUGE_VAL));
    return it != ov.end() && it->first < b0 + len;
  }

  // Folds group g over rows [b0, b0+len) into out[0..len).
  void Group(int g, size_t b0, size_t len, Scratch& sc, double* out, double* cov) const {
    const CGroup& grp = impl.groups[static_cast<size_t>(g)];
    double* acc = sc.acc.data() + static_cast<size_t>(g) * kBlock;
    double* ws = sc.ws.data() + static_cast<size_t>(g) * kBlock;
    const Aggregation agg = grp.aggregation;
    std::fill(acc, acc + len, agg == Aggregation::kWorstOf ? HUGE_VAL : 0.0);
    std::fill(ws, ws + len, 0.0);
    for (const Child& ch : grp.children) {
      if (ch.is_group) {
        Group(ch.index, b0, len, sc, sc.tmp.data() + static_cast<size_t>(ch.index) * kBlock, cov);
      }
    }
    // Without a minimum coverage the coverage sums go to a sink nobody reads.
    double* cv = cov != nullptr ? cov : sc.cov.data();
    for (const Pass& pass : plan[static_cast<size_t>(g)]) {
      const int k = static_cast<int>(pass.slots.size());
      Slot staged[kPassWidth];
      const Slot* slots = pass.slots.data();
      SlotIo io[kPassWidth];
      bool any_staged = false;
      for (int s = 0; s < k; ++s) {
        const Slot& sl = pass.slots[static_cast<size_t>(s)];
        const Child& ch = grp.children[static_cast<size_t>(sl.child)];
        io[s].w = ch.weight;
        io[s].out = sc.sink.data() + static_cast<size_t>(s) * kBlock;
        if (pass.groups) {
          io[s].x = sc.tmp.data() + static_cast<size_t>(ch.index) * kBlock;
          io[s].share = 0;
          continue;
        }
        const size_t m = static_cast<size_t>(ch.index);
        io[s].share = impl.static_share[m];
        if (sub_out != nullptr) io[s].out = sub_out + m * n + b0;
        if (sl.staged || HasOverrides(m, b0, len)) {
          // Scored into scratch, then read as a plain value.
          double* st = sc.stage.data() + static_cast<size_t>(s) * kBlock;
          ScoreMeasure(m, b0, len, st);
          io[s].x = st;
          if (!any_staged) std::copy(slots, slots + k, staged), slots = staged, any_staged = true;
          Slot& plain = staged[s];
          plain.lo = 0, plain.k = 1, plain.base = 0, plain.a = -HUGE_VAL, plain.b = HUGE_VAL;
          for (int j = 0; j < kMaxBands; ++j) plain.upper[j] = kNaN;
        } else {
          io[s].x = src[m].x + b0;
        }
      }
      const bool write = !pass.groups && sub_out != nullptr;
      PassFn fn = PickPass(agg, k, pass.bands, write);
      auto x = [&](int s) { return s < k ? io[s].x : io[0].x; };
      auto o = [&](int s) { return s < k ? io[s].out : io[0].out; };
      fn(slots, io, len, pass.groups ? kNaN : subst, acc, ws, cv, x(0), x(1), x(2), x(3), o(0),
         o(1), o(2), o(3));
    }
    switch (agg) {
      case Aggregation::kWeightedMean:
        for (size_t i = 0; i < len; ++i) {
          const double q = acc[i] / ws[i];  // unconditional, so the loop vectorizes
          out[i] = ws[i] > 0 ? q : kNaN;
        }
        break;
      case Aggregation::kWorstOf:
        for (size_t i = 0; i < len; ++i) {
          const double a = acc[i];
          out[i] = ws[i] > 0 ? a : kNaN;
        }
        break;
      case Aggregation::kPoints: {
        const double base = grp.base;
        for (size_t i = 0; i < len; ++i) {
          const double q = base + acc[i];
          out[i] = ws[i] > 0 ? q : kNaN;
        }
        break;
      }
    }
  }
};

}  // namespace

absl::StatusOr<ScoreBatch> Scorecard::Score(const AccountFrame& frame, const MetricHistory* history,
                                            const ScoreOptions& options) const {
  ScoreBatch batch;
  if (absl::Status st = ScoreInto(frame, history, options, &batch); !st.ok()) return st;
  return batch;
}

absl::Status Scorecard::ScoreInto(const AccountFrame& frame, const MetricHistory* history,
                                  const ScoreOptions& options, ScoreBatch* result) const {
  const Impl& impl = *impl_;
  const size_t n = frame.num_rows();
  const size_t nm = impl.measures.size();
  if (!options.previous.empty() && options.previous.size() != n) {
    return absl::InvalidArgumentError(absl::StrFormat("previous scores: %d values for %d accounts",
                                                      static_cast<int>(options.previous.size()),
                                                      static_cast<int>(n)));
  }
  // Sources: zero-copy for float columns, prepared columns for the rest.
  std::vector<Source> src(nm);
  std::vector<std::pair<size_t, const int32_t*>> ranks;  // percentile measures, segments
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
          return fail(
              absl::StrFormat("column '%s' is %s; a 'categories' measure needs a "
                              "categorical column",
                              d.metric, ColumnTypeName(c->type)));
        }
        s.codes = c->codes.data();
        s.table.assign(c->dictionary.size() + 1, kNaN);
        for (size_t k = 0; k < c->dictionary.size(); ++k) {
          auto it = cm.categories.find(std::string_view(c->dictionary[k]));
          s.table[k + 1] = it != cm.categories.end() ? it->second : d.other_category.value_or(kNaN);
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
      ranks.push_back({m, seg});
      continue;
    }
    if (s.x == nullptr) s.x = s.owned.data();
  }
  // Percentile ranks, one measure per thread when there are threads to spare: each job
  // writes only its own measure, so the result does not depend on the split.
  auto rank = [&](size_t j) {
    Source& s = src[ranks[j].first];
    std::vector<double> pct(n);
    PercentileRank(s.x != nullptr ? s.x : s.owned.data(), ranks[j].second, n, pct.data());
    s.owned = std::move(pct);
    s.x = s.owned.data();
  };
  const size_t rank_threads =
      std::min(ranks.size(), static_cast<size_t>(std::max(1, options.threads)));
  if (rank_threads <= 1) {
    for (size_t j = 0; j < ranks.size(); ++j) rank(j);
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < rank_threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t j = t; j < ranks.size(); j += rank_threads) rank(j);
      });
    }
    for (std::thread& th : pool) th.join();
  }

  // Overrides: validated whole before anything is scored.
  std::vector<std::vector<std::pair<size_t, double>>> measure_ov(nm);
  std::vector<std::pair<size_t, double>> overall_ov;
  std::vector<std::pair<size_t, int>> applied;
  for (const OverrideDef& o : options.overrides) {
    std::string where = absl::StrFormat(
        "override of %s for account '%s'",
        o.measure.empty() ? std::string("the score") : "measure '" + o.measure + "'", o.account_id);
    if (o.reason.empty() || o.author.empty()) {
      return Invalid(o.location, absl::StrFormat("%s: needs a reason and an author", where));
    }
    if (!Finite(o.value)) return Invalid(o.location, absl::StrFormat("%s: value", where));
    int mi = -1;
    if (!o.measure.empty()) {
      auto it = std::find(impl.names.begin(), impl.names.end(), o.measure);
      if (it == impl.names.end()) {
        return Invalid(o.location, absl::StrFormat("%s: scorecard '%s' has no such measure", where,
                                                   impl.def.name));
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
    applied.push_back({*row, mi});
  }
  for (auto& v : measure_ov)
    std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });

  // Everything is validated: from here on the call succeeds. The buffers of `out` are
  // reused when their sizes fit, and every element is written below.
  ScoreBatch& batch = *result;
  batch.applied_overrides = std::move(applied);
  batch.frame = frame;
  batch.score.resize(n);
  batch.range.resize(n);
  batch.delta.resize(n);
  batch.trend.resize(n);
  if (options.detail != ScoreDetail::kScores) {
    batch.sub.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(nm));
  } else {
    batch.sub.resize(0, 0);
  }
  if (options.detail != ScoreDetail::kFull) {
    batch.raw.resize(0, 0);
  } else {
    batch.raw.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(nm));
    for (size_t m = 0; m < nm; ++m) {
      double* r = batch.raw.data() + m * n;
      if (src[m].codes != nullptr) {
        for (size_t i = 0; i < n; ++i) r[i] = src[m].codes[i];  // the category code
      } else if (impl.measures[m].def.kind == MeasureKind::kPercentile) {
        // Raw value for explanations: the metric itself, not its rank.
        const Column* c =
            impl.measures[m].def.window ? nullptr : frame.Find(impl.measures[m].def.metric);
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

  Evaluator ev{
      impl,       src,
      measure_ov, nm > 0 && options.detail != ScoreDetail::kScores ? batch.sub.data() : nullptr,
      n,          impl.def.missing == MissingPolicy::kSubstitute ? impl.def.substitute : kNaN,
      {}};
  ev.Plan();
  // By row, keeping the given order among one row's overrides: the last one wins.
  std::stable_sort(overall_ov.begin(), overall_ov.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const bool need_cov = impl.def.min_coverage > 0;
  const double min_cov = impl.def.min_coverage;
  const double* prev = options.previous.empty() ? nullptr : options.previous.data();
  const size_t nblocks = (n + kBlock - 1) / kBlock;
  // Everything an account needs is finished while its block is in cache: the tree, the
  // clip and coverage rule, overall overrides, the scheme range and the trend.
  auto run = [&](size_t blk_begin, size_t blk_end) {
    Scratch sc;
    sc.acc.resize(impl.groups.size() * kBlock);
    sc.ws.resize(impl.groups.size() * kBlock);
    sc.tmp.resize(impl.groups.size() * kBlock);
    sc.stage.resize(kPassWidth * kBlock);
    sc.sink.resize(kPassWidth * kBlock);
    sc.cov.resize(kBlock);
    sc.rc.resize(kBlock);
    std::vector<double> cov(kBlock);
    const double lo = impl.lo, hi = impl.hi, thr = impl.def.trend_threshold;
    for (size_t blk = blk_begin; blk < blk_end; ++blk) {
      const size_t b0 = blk * kBlock, len = std::min(kBlock, n - b0);
      double* out = batch.score.data() + b0;
      if (need_cov) std::fill(cov.begin(), cov.begin() + static_cast<long>(len), 0.0);
      ev.Group(0, b0, len, sc, out, need_cov ? cov.data() : nullptr);
      if (need_cov) {
        const double* c = cov.data();
        for (size_t i = 0; i < len; ++i) {
          double s = out[i];
          s = s < lo ? lo : s;
          s = s > hi ? hi : s;
          out[i] = c[i] + 1e-12 < min_cov ? kNaN : s;
        }
      } else {
        for (size_t i = 0; i < len; ++i) {
          double s = out[i];
          s = s < lo ? lo : s;
          out[i] = s > hi ? hi : s;
        }
      }
      auto ov =
          std::lower_bound(overall_ov.begin(), overall_ov.end(), std::make_pair(b0, -HUGE_VAL));
      for (; ov != overall_ov.end() && ov->first < b0 + len; ++ov) {
        batch.score[ov->first] = ov->second;
      }
      // Range: the number of upper bounds below the score (the boundary rule), as a
      // branch-free count per range; NaN counts nothing and becomes -1.
      double* rc = sc.rc.data();
      std::fill(rc, rc + len, 0.0);
      for (size_t r = 0; r + 1 < impl.range_upper.size(); ++r) {
        const double u = impl.range_upper[r];
        for (size_t i = 0; i < len; ++i) {
          rc[i] += Masked(1.0, uint64_t{0} - static_cast<uint64_t>(u < out[i]));
        }
      }
      int8_t* range = batch.range.data() + b0;
      for (size_t i = 0; i < len; ++i) {
        const uint64_t missing = uint64_t{0} - static_cast<uint64_t>(out[i] != out[i]);
        range[i] = static_cast<int8_t>(rc[i] - Masked(1.0, missing));
      }
      double* delta = batch.delta.data() + b0;
      int8_t* trend = batch.trend.data() + b0;
      if (prev != nullptr) {
        const double* p = prev + b0;
        for (size_t i = 0; i < len; ++i) {
          const double d = out[i] - p[i];
          delta[i] = d;
          trend[i] = static_cast<int8_t>(static_cast<int>(d > thr) - static_cast<int>(d < -thr));
        }
      } else {
        std::fill(delta, delta + len, kNaN);
        std::fill(trend, trend + len, int8_t{0});
      }
    }
  };
  int threads = std::max(1, options.threads);
  threads = static_cast<int>(
      std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(nblocks, 1)));
  if (threads <= 1) {
    run(0, nblocks);
  } else {
    // Contiguous block ranges: each account is computed the same way whatever the split,
    // so the results are bit-identical for any thread count.
    std::vector<std::thread> pool;
    size_t per = (nblocks + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
    for (int t = 0; t < threads; ++t) {
      size_t a = static_cast<size_t>(t) * per, b = std::min(nblocks, a + per);
      if (a < b) pool.emplace_back(run, a, b);
    }
    for (std::thread& th : pool) th.join();
  }
  return absl::OkStatus();
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
          case ColumnType::kFloat64:
            x = col.f64[row];
            break;
          case ColumnType::kInt64:
            x = static_cast<double>(col.i64[row]);
            break;
          case ColumnType::kBool:
            x = col.b[row] ? 1 : 0;
            break;
          case ColumnType::kTimestamp:
            x = kNaN;
            break;
          case ColumnType::kCategorical:
            x = kNaN;
            break;
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
    while (!ex.top_movers.empty() &&
           !(std::abs(ex.measures[ex.top_movers.back()].delta_points) > 1e-9)) {
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

ScorecardBuilder::ScorecardBuilder(std::string name) { def_.name = std::move(name); }
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
                       absl::StrFormat("scorecard '%s': a second default (first: '%s')", c.def.name,
                                       set.cards_[static_cast<size_t>(set.default_)].name()));
      }
      set.default_ = static_cast<int>(i);
    } else if (c.when.empty()) {
      return Invalid(
          c.def.location,
          absl::StrFormat("scorecard '%s' has no criteria and is not the default", c.def.name));
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
        return Invalid(
            cards_[c].def().location,
            absl::StrFormat("scorecard '%s': criterion column '%s' %s", cards_[c].name(), column,
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
    // A previous batch, when given, replaces the caller's previous scores (matched by id).
    if (previous != nullptr) o.previous = prev;
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
