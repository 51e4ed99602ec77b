#include "cscore/health/scorecard.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

const double kNaN = std::nan("");

// memcmp of the bytes; an empty vector's data() may be null, which memcmp must not see.
template <typename A>
bool SameBytes(const A& a, const A& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}


MeasureDef Ramp(std::string name, double w, double lo = 0, double hi = 100) {
  MeasureDef m;
  m.name = name;
  m.metric = name;
  m.weight = w;
  m.kind = MeasureKind::kRamp;
  m.lo = lo;
  m.hi = hi;
  return m;
}

std::vector<std::string> Ids(size_t n) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back("A" + std::to_string(i));
  return ids;
}

AccountFrame Frame(std::vector<std::pair<std::string, std::vector<double>>> cols) {
  FrameBuilder b(Ids(cols.front().second.size()));
  for (auto& [name, v] : cols) b.AddFloat64(name, v);
  absl::StatusOr<AccountFrame> f = std::move(b).Build();
  EXPECT_TRUE(f.ok()) << f.status();
  return *std::move(f);
}

Scorecard MustCompile(const ScorecardDef& def) {
  absl::StatusOr<Scorecard> c = Scorecard::Compile(def);
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

ScoreBatch MustScore(const Scorecard& card, const AccountFrame& f, ScoreOptions o = {}) {
  absl::StatusOr<ScoreBatch> b = card.Score(f, nullptr, o);
  EXPECT_TRUE(b.ok()) << b.status();
  return *std::move(b);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ScorecardTest, GainsightWorkedExample) {
  ScorecardBuilder b("gainsight");
  b.AddMeasure(Ramp("a", 20)).AddMeasure(Ramp("b", 15)).AddMeasure(Ramp("c", 22));
  Scorecard card = *b.Build();
  ScoreBatch r = MustScore(card, Frame({{"a", {47}}, {"b", {59}}, {"c", {21}}}));
  EXPECT_NEAR(r.score[0], 40.12, 0.005);
  EXPECT_DOUBLE_EQ(r.score[0], (20 * 47.0 + 15 * 59.0 + 22 * 21.0) / 57.0);
}

TEST(ScorecardTest, RampAndInvertedRampClipAndKeepMissing) {
  ScorecardBuilder b("r");
  MeasureDef up = Ramp("x", 1, 10, 20);
  MeasureDef down = Ramp("y", 1, 0, 10);
  down.kind = MeasureKind::kInvertedRamp;
  b.AddMeasure(up).AddMeasure(down);
  Scorecard card = *b.Build();
  ScoreBatch r = MustScore(card, Frame({{"x", {5, 15, 25, kNaN}}, {"y", {0, 2.5, 30, 5}}}));
  EXPECT_EQ(r.sub(0, 0), 0);
  EXPECT_EQ(r.sub(1, 0), 50);
  EXPECT_EQ(r.sub(2, 0), 100);
  EXPECT_TRUE(std::isnan(r.sub(3, 0)));
  EXPECT_EQ(r.sub(0, 1), 100);
  EXPECT_EQ(r.sub(1, 1), 75);
  EXPECT_EQ(r.sub(2, 1), 0);
  EXPECT_EQ(r.score[3], 50);  // renormalized over the present measure
}

TEST(ScorecardTest, BandsIncludeTheirUpperBound) {
  MeasureDef m;
  m.name = m.metric = "t";
  m.kind = MeasureKind::kBands;
  m.bands = {{2, 100}, {5, 50}, {Band().upper, 0}};
  ScorecardBuilder b("bands");
  b.AddMeasure(m);
  Scorecard card = *b.Build();
  ScoreBatch r = MustScore(card, Frame({{"t", {0, 2, 2.01, 5, 6, 1e9, kNaN}}}));
  std::vector<double> want = {100, 100, 50, 50, 0, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r.sub(static_cast<long>(i), 0), want[i]) << i;
  EXPECT_TRUE(std::isnan(r.sub(6, 0)));
}

TEST(ScorecardTest, PercentileInPopulationAndWithinSegment) {
  std::vector<std::string> seg = {"a", "a", "a", "b", "b", "a"};
  FrameBuilder fb(Ids(6));
  fb.AddFloat64("v", {10, 20, 20, 5, 7, kNaN}).AddCategorical("segment", seg);
  AccountFrame f = *std::move(fb).Build();
  MeasureDef pop;
  pop.name = "pop";
  pop.metric = "v";
  pop.kind = MeasureKind::kPercentile;
  MeasureDef within = pop;
  within.name = "within";
  within.within = "segment";
  ScorecardBuilder b("p");
  b.AddMeasure(pop).AddMeasure(within);
  ScoreBatch r = MustScore(*b.Build(), f);
  // Population 5, 7, 10, 20, 20: mid-ranks 0, 1, 2, 3.5, 3.5 of 4.
  EXPECT_DOUBLE_EQ(r.sub(3, 0), 0);
  EXPECT_DOUBLE_EQ(r.sub(4, 0), 25);
  EXPECT_DOUBLE_EQ(r.sub(0, 0), 50);
  EXPECT_DOUBLE_EQ(r.sub(1, 0), 87.5);
  EXPECT_DOUBLE_EQ(r.sub(2, 0), 87.5);
  EXPECT_TRUE(std::isnan(r.sub(5, 0)));
  // Segment a: 10, 20, 20 -> 0, 75, 75; segment b: 5, 7 -> 0, 100.
  EXPECT_DOUBLE_EQ(r.sub(0, 1), 0);
  EXPECT_DOUBLE_EQ(r.sub(1, 1), 75);
  EXPECT_DOUBLE_EQ(r.sub(3, 1), 0);
  EXPECT_DOUBLE_EQ(r.sub(4, 1), 100);
}

TEST(ScorecardTest, BooleanAndCategoryMeasures) {
  std::vector<std::string> tier = {"gold", "silver", "bronze", "gold"};
  FrameBuilder fb(Ids(4));
  fb.AddBool("champion_left", {1, 0, 0, 1}, {1, 1, 0, 1}).AddCategorical("tier", tier);
  AccountFrame f = *std::move(fb).Build();
  MeasureDef bo;
  bo.name = bo.metric = "champion_left";
  bo.kind = MeasureKind::kBoolean;
  bo.if_true = 0;
  bo.if_false = 100;
  MeasureDef ca;
  ca.name = ca.metric = "tier";
  ca.kind = MeasureKind::kCategory;
  ca.categories = {{"gold", 100}, {"silver", 60}};
  ScorecardBuilder b("bc");
  b.AddMeasure(bo).AddMeasure(ca);
  Scorecard card = *b.Build();
  ScoreBatch r = MustScore(card, f);
  EXPECT_EQ(r.sub(0, 0), 0);
  EXPECT_EQ(r.sub(1, 0), 100);
  EXPECT_TRUE(std::isnan(r.sub(2, 0)));  // missing bool
  EXPECT_EQ(r.sub(0, 1), 100);
  EXPECT_EQ(r.sub(1, 1), 60);
  EXPECT_TRUE(std::isnan(r.sub(2, 1)));  // unlisted label, no 'other'
  EXPECT_TRUE(std::isnan(r.score[2]));

  ca.other_category = 10;
  ScorecardBuilder b2("bc2");
  b2.AddMeasure(ca);
  EXPECT_EQ(MustScore(*b2.Build(), f).sub(2, 0), 10);
}

TEST(ScorecardTest, WindowedAggregateTrendAndPercentChange) {
  MetricHistory h(2, 4);
  Eigen::MatrixXd logins(2, 4);
  logins << 10, 20, 30, 40,  //
      40, 30, 20, 10;
  ASSERT_TRUE(h.AddMetric("logins", logins).ok());
  AccountFrame f = Frame({{"unused", {0, 0}}});
  MeasureDef mean = Ramp("mean", 1, 0, 100);
  mean.metric = "logins";
  mean.window = WindowSource{WindowOp::kMean, 2};
  MeasureDef trend = Ramp("trend", 1, -10, 10);
  trend.metric = "logins";
  trend.window = WindowSource{WindowOp::kTrend, 4};
  MeasureDef pct = Ramp("pct", 1, -100, 100);
  pct.metric = "logins";
  pct.window = WindowSource{WindowOp::kPctChange, 1};
  ScorecardBuilder b("w");
  b.AddMeasure(mean).AddMeasure(trend).AddMeasure(pct);
  Scorecard card = *b.Build();
  absl::StatusOr<ScoreBatch> r = card.Score(f, &h, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->sub(0, 0), 35);
  EXPECT_DOUBLE_EQ(r->sub(1, 0), 15);
  EXPECT_DOUBLE_EQ(r->sub(0, 1), 100);  // +10/day is the top of the ramp
  EXPECT_DOUBLE_EQ(r->sub(1, 1), 0);
  EXPECT_NEAR(r->sub(0, 2), 50 + (100.0 / 3) / 2, 1e-9);  // 30 -> 40 is +33.3%
  EXPECT_NEAR(r->sub(1, 2), 50 - 25, 1e-9);               // 20 -> 10 is -50%
  // Without a history the windowed measure says what it needs.
  absl::StatusOr<ScoreBatch> none = card.Score(f, nullptr, {});
  EXPECT_THAT(Message(none.status()), HasSubstr("measure 'mean': metric 'logins' needs a metric"));
}

TEST(ScorecardTest, SchemeBoundaryRule) {
  ScorecardBuilder b("s");
  b.AddMeasure(Ramp("x", 1));
  Scorecard card = *b.Build();
  EXPECT_EQ(card.RangeOf(0), 0);
  EXPECT_EQ(card.RangeOf(50), 0);  // the first range includes both bounds
  EXPECT_EQ(card.RangeOf(50.000001), 1);
  EXPECT_EQ(card.RangeOf(75), 1);  // upper bound included, lower excluded
  EXPECT_EQ(card.RangeOf(75.5), 2);
  EXPECT_EQ(card.RangeOf(100), 2);
  EXPECT_EQ(card.RangeOf(kNaN), -1);
  ScoreBatch r = MustScore(card, Frame({{"x", {50, 75, 76, kNaN}}}));
  EXPECT_THAT(r.range, ::testing::ElementsAre(0, 1, 2, -1));
}

TEST(ScorecardTest, MissingPoliciesAndMinimumCoverage) {
  AccountFrame f = Frame({{"a", {80, kNaN, kNaN}}, {"b", {40, 40, kNaN}}, {"c", {60, 60, kNaN}}});
  ScorecardBuilder b("n");
  b.AddMeasure(Ramp("a", 2)).AddMeasure(Ramp("b", 1)).AddMeasure(Ramp("c", 1));
  ScoreBatch renorm = MustScore(*b.Build(), f);
  EXPECT_DOUBLE_EQ(renorm.score[0], (160 + 40 + 60) / 4.0);
  EXPECT_DOUBLE_EQ(renorm.score[1], 50);  // a missing: (40 + 60) / 2
  EXPECT_TRUE(std::isnan(renorm.score[2]));

  b.Missing(MissingPolicy::kSubstitute, 30);
  ScoreBatch subst = MustScore(*b.Build(), f);
  EXPECT_DOUBLE_EQ(subst.score[1], (60 + 40 + 60) / 4.0);
  EXPECT_DOUBLE_EQ(subst.score[2], 30);

  b.Missing(MissingPolicy::kRenormalize).MinCoverage(0.6);
  ScoreBatch cov = MustScore(*b.Build(), f);
  EXPECT_FALSE(std::isnan(cov.score[0]));
  EXPECT_TRUE(std::isnan(cov.score[1]));  // only half the weight present
  EXPECT_EQ(cov.range[1], -1);
}

TEST(ScorecardTest, NestedGroupsFollowTheSameRule) {
  ScorecardDef d;
  d.name = "nested";
  d.measures = {Ramp("a", 1), Ramp("b", 3), Ramp("c", 1)};
  GroupDef inner{"inner", 1, Aggregation::kWeightedMean, 0, {"a", "b"}, ""};
  GroupDef outer{"outer", 3, Aggregation::kWeightedMean, 0, {"inner"}, ""};
  d.groups = {inner, outer};
  d.members = {"outer", "c"};
  Scorecard card = MustCompile(d);
  ScoreBatch r = MustScore(card, Frame({{"a", {20}}, {"b", {60}}, {"c", {10}}}));
  double in = (20 + 3 * 60) / 4.0;
  EXPECT_DOUBLE_EQ(r.score[0], (3 * in + 10) / 4.0);
}

TEST(ScorecardTest, PointsTiersSumTo100) {
  // ChurnZero/HubSpot style: each factor's bands give points; the maxima sum to 100.
  MeasureDef usage;
  usage.name = usage.metric = "logins";
  usage.kind = MeasureKind::kBands;
  usage.bands = {{5, 0}, {20, 30}, {Band().upper, 60}};
  MeasureDef nps;
  nps.name = nps.metric = "nps";
  nps.kind = MeasureKind::kBands;
  nps.bands = {{6, 0}, {8, 20}, {Band().upper, 40}};
  ScorecardBuilder b("points");
  b.Aggregate(Aggregation::kPoints, 0).AddMeasure(usage).AddMeasure(nps);
  ScoreBatch r = MustScore(*b.Build(), Frame({{"logins", {30, 10, 1}}, {"nps", {9, 7, 3}}}));
  EXPECT_EQ(r.score[0], 100);
  EXPECT_EQ(r.score[1], 50);
  EXPECT_EQ(r.score[2], 0);
}

TEST(ScorecardTest, WorstOfMakesOnePoorAttributePoor) {
  // Totango style: Good 100 / Average 50 / Poor 0 per attribute, the account takes the worst.
  MeasureDef a;
  a.name = a.metric = "usage";
  a.kind = MeasureKind::kBands;
  a.bands = {{10, 0}, {50, 50}, {Band().upper, 100}};
  MeasureDef t = a;
  t.name = t.metric = "tickets";
  ScorecardBuilder b("worst");
  b.Aggregate(Aggregation::kWorstOf).AddMeasure(a).AddMeasure(t);
  ScoreBatch r =
      MustScore(*b.Build(), Frame({{"usage", {90, 90, kNaN}}, {"tickets", {60, 5, 30}}}));
  EXPECT_EQ(r.score[0], 100);
  EXPECT_EQ(r.score[1], 0);
  EXPECT_EQ(r.score[2], 50);  // missing attributes are skipped
}

TEST(ScorecardTest, NeutralStartPlusMinusPointsIsClipped) {
  // Planhat style: start at 50, each signal adds or removes points, clipped to 0-100.
  MeasureDef logins = Ramp("logins", 1, 0, 100);
  logins.score_min = -20;
  logins.score_max = 40;
  MeasureDef tickets = Ramp("tickets", 1, 0, 10);
  tickets.kind = MeasureKind::kInvertedRamp;
  tickets.score_min = -40;
  tickets.score_max = 10;
  ScorecardBuilder b("neutral");
  b.Aggregate(Aggregation::kPoints, 50).AddMeasure(logins).AddMeasure(tickets);
  ScoreBatch r = MustScore(*b.Build(), Frame({{"logins", {100, 0, 50}}, {"tickets", {0, 10, 10}}}));
  EXPECT_EQ(r.score[0], 100);  // 50 + 40 + 10 clipped
  EXPECT_EQ(r.score[1], 0);    // 50 - 20 - 40 clipped
  EXPECT_EQ(r.score[2], 20);   // 50 + 10 - 40
}

TEST(ScorecardTest, OverridesApplyUntilTheyExpire) {
  ScorecardBuilder b("o");
  b.AddMeasure(Ramp("a", 1)).AddMeasure(Ramp("b", 1));
  Scorecard card = *b.Build();
  AccountFrame f = Frame({{"a", {20, 20}}, {"b", {40, 40}}});
  std::vector<OverrideDef> ov = {
      {"A0", "a", 80, "exec sponsor confirmed renewal", "dana", 1000, ""},
      {"A1", "", 90, "strategic logo", "lee", 2000, ""},
  };
  ScoreOptions o;
  o.overrides = ov;
  o.as_of = 999;
  ScoreBatch r = MustScore(card, f, o);
  EXPECT_EQ(r.sub(0, 0), 80);
  EXPECT_EQ(r.score[0], 60);
  EXPECT_EQ(r.score[1], 90);
  EXPECT_EQ(r.applied_overrides.size(), 2u);
  o.as_of = 1000;  // the measure override expired, the overall one not yet
  r = MustScore(card, f, o);
  EXPECT_EQ(r.score[0], 30);
  EXPECT_EQ(r.score[1], 90);
  o.as_of = 5000;
  r = MustScore(card, f, o);
  EXPECT_EQ(r.score[1], 30);
  EXPECT_TRUE(r.applied_overrides.empty());

  std::vector<OverrideDef> bad = {{"A0", "nope", 1, "r", "x", 9, ""}};
  o.overrides = bad;
  EXPECT_THAT(Message(card.Score(f, nullptr, o).status()),
              HasSubstr("override of measure 'nope' for account 'A0': scorecard 'o' has no such"));
  bad = {{"A0", "", 50, "", "x", 9000, ""}};
  o.overrides = bad;
  EXPECT_THAT(Message(card.Score(f, nullptr, o).status()),
              HasSubstr("needs a reason and an author"));
  bad = {{"A0", "", 150, "r", "x", 9000, ""}};
  o.overrides = bad;
  EXPECT_THAT(Message(card.Score(f, nullptr, o).status()), HasSubstr("outside the scheme's range"));
}

TEST(ScorecardTest, TrendAgainstPreviousScore) {
  ScorecardBuilder b("t");
  b.AddMeasure(Ramp("a", 1));
  Scorecard card = *b.Build();
  std::vector<double> prev = {50, 50, 50, kNaN};
  ScoreOptions o;
  o.previous = prev;
  ScoreBatch r = MustScore(card, Frame({{"a", {60, 50.5, 40, 10}}}), o);
  EXPECT_THAT(r.trend, ::testing::ElementsAre(1, 0, -1, 0));
  EXPECT_DOUBLE_EQ(r.delta[0], 10);
  EXPECT_TRUE(std::isnan(r.delta[3]));
  std::vector<double> wrong = {1};
  o.previous = wrong;
  EXPECT_THAT(Message(card.Score(Frame({{"a", {1, 2}}}), nullptr, o).status()),
              HasSubstr("1 values for 2 accounts"));
}

ScorecardDef MixedDef() {
  ScorecardDef d;
  d.name = "mixed";
  MeasureDef bands;
  bands.name = bands.metric = "m2";
  bands.kind = MeasureKind::kBands;
  bands.bands = {{20, 10}, {50, 40}, {80, 70}, {Band().upper, 100}};
  MeasureDef inv = Ramp("m3", 2, 10, 90);
  inv.kind = MeasureKind::kInvertedRamp;
  d.measures = {Ramp("m0", 1), Ramp("m1", 3, 20, 60), bands, inv};
  d.groups = {{"g1", 2, Aggregation::kWeightedMean, 0, {"m0", "m1"}, ""},
              {"g2", 1, Aggregation::kWorstOf, 0, {"m2", "m3"}, ""}};
  d.members = {"g1", "g2"};
  d.min_coverage = 0.3;
  return d;
}

AccountFrame RandomFrame(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 100);
  FrameBuilder fb(Ids(n));
  for (int m = 0; m < 4; ++m) {
    std::vector<double> v(n);
    for (double& x : v) x = u(rng) < 10 ? kNaN : u(rng);
    fb.AddFloat64("m" + std::to_string(m), std::move(v));
  }
  return *std::move(fb).Build();
}

TEST(ScorecardTest, ThreadsGiveBitIdenticalResults) {
  Scorecard card = MustCompile(MixedDef());
  AccountFrame f = RandomFrame(5000, 7);
  ScoreOptions o1, o3;
  o3.threads = 3;
  ScoreBatch a = MustScore(card, f, o1), b = MustScore(card, f, o3);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.score.data(), b.score.data(), a.size() * sizeof(double)), 0);
  EXPECT_TRUE(SameBytes(a.sub, b.sub));
}

TEST(ScorecardTest, VectorizedPathMatchesRowAtATime) {
  Scorecard card = MustCompile(MixedDef());
  AccountFrame f = RandomFrame(3000, 11);
  ScoreBatch r = MustScore(card, f);
  int na = 0;
  for (size_t i = 0; i < f.num_rows(); ++i) {
    absl::StatusOr<double> s = card.ScoreRow(f, nullptr, i);
    ASSERT_TRUE(s.ok()) << s.status();
    if (std::isnan(r.score[i])) {
      ++na;
      EXPECT_TRUE(std::isnan(*s)) << i;
    } else {
      EXPECT_NEAR(r.score[i], *s, 1e-9) << i;
    }
  }
  EXPECT_GT(na, 0);  // the coverage rule was exercised
}

// ---------------------------------------------------------------------------------------
// The batch path over every kind of measure and group, against the row walk and across
// thread counts.

MeasureDef Bands(std::string name, std::string metric, double w, std::vector<Band> bands) {
  MeasureDef m;
  m.name = std::move(name);
  m.metric = std::move(metric);
  m.weight = w;
  m.kind = MeasureKind::kBands;
  m.bands = std::move(bands);
  return m;
}

// Ten float columns (about 8% missing), a bool, two categoricals (one with missing labels).
AccountFrame MixedFrame(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 100);
  FrameBuilder fb(Ids(n));
  for (int m = 0; m < 10; ++m) {
    std::vector<double> v(n);
    for (double& x : v) x = u(rng) < 8 ? kNaN : u(rng);
    fb.AddFloat64("f" + std::to_string(m), std::move(v));
  }
  std::vector<uint8_t> flag(n), flag_valid(n);
  std::vector<std::string> tier(n), segment(n);
  std::vector<uint8_t> segment_missing(n);
  const char* tiers[] = {"gold", "silver", "bronze", "lead"};
  const char* segments[] = {"smb", "mid", "enterprise"};
  for (size_t i = 0; i < n; ++i) {
    flag[i] = rng() % 2;
    flag_valid[i] = rng() % 10 != 0;
    tier[i] = tiers[rng() % 4];
    segment[i] = segments[rng() % 3];
    segment_missing[i] = rng() % 20 == 0;
  }
  fb.AddBool("flag", std::move(flag), std::move(flag_valid));
  fb.AddCategorical("tier", tier);
  fb.AddCategorical("segment", segment, std::move(segment_missing));
  return *std::move(fb).Build();
}

// Every scoring function that reads the frame, in groups nested three deep with all three
// aggregations. `percentiles` adds a population and a within-segment percentile.
ScorecardDef EverythingDef(bool percentiles) {
  ScorecardDef d;
  d.name = "everything";
  MeasureDef inv = Ramp("inv", 2, 10, 90);
  inv.metric = "f1";
  inv.kind = MeasureKind::kInvertedRamp;
  MeasureDef shifted = Ramp("shifted", 1.5, 20, 60);
  shifted.metric = "f2";
  shifted.score_min = 10;
  shifted.score_max = 90;
  std::vector<Band> ten;
  for (int b = 0; b < 9; ++b) ten.push_back({10.0 * (b + 1), 10.0 * b});
  ten.push_back({Band().upper, 100});
  MeasureDef flag;
  flag.name = flag.metric = "flag";
  flag.kind = MeasureKind::kBoolean;
  flag.if_true = 20;
  flag.if_false = 90;
  MeasureDef truthy = flag;  // a boolean over a float column: nonzero is true
  truthy.name = "truthy";
  truthy.metric = "f9";
  MeasureDef tier;
  tier.name = tier.metric = "tier";
  tier.kind = MeasureKind::kCategory;
  tier.categories = {{"gold", 100}, {"silver", 70}, {"bronze", 40}};
  MeasureDef ramp0 = Ramp("ramp0", 1);
  ramp0.metric = "f0";
  d.measures = {ramp0,
                inv,
                shifted,
                Bands("b3", "f3", 3, {{30, 0}, {60, 50}, {Band().upper, 100}}),
                Bands("b6", "f4", 1, {{10, 100}, {25, 85}, {40, 65}, {60, 45}, {85, 20}, {95, 5}}),
                Bands("b10", "f5", 2, ten),
                flag,
                truthy,
                tier};
  std::vector<std::string> deep = {"b6", "b10", "truthy"};
  if (percentiles) {
    MeasureDef pop;
    pop.name = "pop";
    pop.metric = "f6";
    pop.kind = MeasureKind::kPercentile;
    pop.weight = 2;
    MeasureDef within = pop;
    within.name = "within";
    within.metric = "f7";
    within.within = "segment";
    d.measures.push_back(pop);
    d.measures.push_back(within);
    deep.push_back("pop");
    deep.push_back("within");
  }
  d.groups = {{"usage", 3, Aggregation::kWeightedMean, 0, {"ramp0", "inv", "shifted", "risk"}, ""},
              {"risk", 1, Aggregation::kWorstOf, 0, {"b3", "flag", "deep"}, ""},
              {"deep", 2, Aggregation::kWeightedMean, 0, deep, ""},
              {"bonus", 1, Aggregation::kPoints, 5, {"tier"}, ""}};
  d.members = {"usage", "bonus"};
  return d;
}

std::vector<OverrideDef> SomeOverrides(size_t n) {
  std::vector<OverrideDef> ov;
  for (size_t i = 7; i < n; i += 997) {
    ov.push_back({"A" + std::to_string(i), "b3", 77, "checked by hand", "kim", 1 << 30, ""});
    ov.push_back({"A" + std::to_string(i + 3), "", 42, "exec escalation", "lee", 1 << 30, ""});
  }
  ov.push_back({"A7", "b3", 11, "second thoughts", "kim", 1 << 30, ""});  // the later one wins
  return ov;
}

void ExpectBitIdentical(const ScoreBatch& a, const ScoreBatch& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(SameBytes(a.score, b.score));
  EXPECT_TRUE(SameBytes(a.delta, b.delta));
  EXPECT_EQ(a.range, b.range);
  EXPECT_EQ(a.trend, b.trend);
  ASSERT_EQ(a.sub.size(), b.sub.size());
  EXPECT_TRUE(SameBytes(a.sub, b.sub));
  ASSERT_EQ(a.raw.size(), b.raw.size());
  EXPECT_TRUE(SameBytes(a.raw, b.raw));
  EXPECT_EQ(a.applied_overrides, b.applied_overrides);
}

TEST(ScorecardTest, ThreadsAreBitIdenticalOnALargeMixedFrame) {
  const size_t n = 150'001;  // not a multiple of any block size
  AccountFrame f = MixedFrame(n, 3);
  std::vector<OverrideDef> ov = SomeOverrides(n);
  std::vector<double> prev(n);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 100);
  for (double& p : prev) p = u(rng) < 5 ? kNaN : u(rng);
  for (MissingPolicy policy : {MissingPolicy::kRenormalize, MissingPolicy::kSubstitute}) {
    ScorecardDef d = EverythingDef(true);
    d.missing = policy;
    d.substitute = 35;
    d.min_coverage = policy == MissingPolicy::kRenormalize ? 0.7 : 0;
    Scorecard card = MustCompile(d);
    ScoreOptions o;
    o.overrides = ov;
    o.previous = prev;
    o.detail = ScoreDetail::kFull;
    ScoreBatch one = MustScore(card, f, o);
    int na = 0, overridden = 0;
    for (size_t i = 0; i < n; ++i) na += std::isnan(one.score[i]) ? 1 : 0;
    for (size_t i = 0; i < n; ++i) overridden += one.score[i] == 42 ? 1 : 0;
    if (policy == MissingPolicy::kRenormalize) {
      EXPECT_GT(na, 0);  // the coverage rule was exercised
    }
    EXPECT_GT(overridden, 100);
    EXPECT_EQ(one.sub(7, 3), 11);  // the last override of A7's b3
    for (int threads : {2, 3, 8}) {
      SCOPED_TRACE(threads);
      o.threads = threads;
      ExpectBitIdentical(one, MustScore(card, f, o));
    }
    // The scores-only path computes the same scores.
    o.detail = ScoreDetail::kScores;
    o.threads = 1;
    ScoreBatch fast = MustScore(card, f, o);
    EXPECT_EQ(std::memcmp(one.score.data(), fast.score.data(), n * sizeof(double)), 0);
    o.threads = 4;
    ScoreBatch fast4 = MustScore(card, f, o);
    EXPECT_EQ(std::memcmp(one.score.data(), fast4.score.data(), n * sizeof(double)), 0);
  }
}

TEST(ScorecardTest, BatchPathMatchesTheRowWalkForEveryKind) {
  AccountFrame f = MixedFrame(20'000, 9);
  for (MissingPolicy policy : {MissingPolicy::kRenormalize, MissingPolicy::kSubstitute}) {
    for (Aggregation top :
         {Aggregation::kWeightedMean, Aggregation::kWorstOf, Aggregation::kPoints}) {
      SCOPED_TRACE(static_cast<int>(top) * 10 + static_cast<int>(policy));
      ScorecardDef d = EverythingDef(false);
      d.aggregation = top;
      d.base = 10;
      d.missing = policy;
      d.min_coverage = policy == MissingPolicy::kRenormalize ? 0.5 : 0;
      Scorecard card = MustCompile(d);
      ScoreBatch r = MustScore(card, f);
      int na = 0;
      for (size_t i = 0; i < f.num_rows(); ++i) {
        absl::StatusOr<double> s = card.ScoreRow(f, nullptr, i);
        ASSERT_TRUE(s.ok()) << s.status();
        if (std::isnan(*s)) {
          ++na;
          ASSERT_TRUE(std::isnan(r.score[i])) << i;
        } else {
          ASSERT_NEAR(r.score[i], *s, 1e-9) << i;
        }
      }
      if (policy == MissingPolicy::kRenormalize && top == Aggregation::kWeightedMean) {
        EXPECT_GT(na, 0);
      }
    }
  }
}

TEST(ScorecardTest, SubScoresOfEveryKindFollowTheirDefinitions) {
  std::vector<std::string> tier = {"gold", "lead", "silver", "gold", "bronze", "gold"};
  FrameBuilder fb(Ids(6));
  const double inf = std::numeric_limits<double>::infinity();
  fb.AddFloat64("f0", {-5, 50, 150, kNaN, inf, -inf})
      .AddFloat64("f1", {10, 50, 90, 0, kNaN, 100})
      .AddFloat64("f2", {20, 40, 60, 0, 100, kNaN})
      .AddFloat64("f3", {30, 30.5, 60, 61, inf, -inf})
      .AddFloat64("f4", {10, 10.1, 95, 96, kNaN, 0})
      .AddFloat64("f5", {0, 9.99, 10, 55, 90.5, inf})
      .AddFloat64("f9", {0, -0.0, -3, 2, kNaN, 1e-300})
      .AddBool("flag", {1, 0, 1, 0, 1, 0}, {1, 1, 0, 1, 1, 1})
      .AddCategorical("tier", tier);
  AccountFrame f = *std::move(fb).Build();
  ScoreOptions o;
  o.detail = ScoreDetail::kFull;
  ScoreBatch r = MustScore(MustCompile(EverythingDef(false)), f, o);
  auto col = [&](int m) {
    std::vector<double> v(6);
    for (int i = 0; i < 6; ++i) v[static_cast<size_t>(i)] = r.sub(i, m);
    return v;
  };
  using ::testing::ElementsAre;
  using ::testing::IsNan;
  // ramp0 0-100: clipped at both ends; +-inf clip too.
  EXPECT_THAT(col(0), ElementsAre(0, 50, 100, IsNan(), 100, 0));
  // inv 10-90: 100 at 10, 0 at 90.
  EXPECT_THAT(col(1), ElementsAre(100, 50, 0, 100, IsNan(), 0));
  // shifted 20-60 onto 10-90.
  EXPECT_THAT(col(2), ElementsAre(10, 50, 90, 10, 90, IsNan()));
  // b3: <=30 -> 0, <=60 -> 50, above -> 100 (+inf is above, -inf in the first band).
  EXPECT_THAT(col(3), ElementsAre(0, 50, 50, 100, 100, 0));
  // b6: the last bound is 95; above it scores the last band.
  EXPECT_THAT(col(4), ElementsAre(100, 85, 5, 5, IsNan(), 100));
  // b10 (more bands than the kernels unroll): bands up to 10, 20, ... 90 scoring 0, 10,
  // ... 80, then 100 above 90.
  EXPECT_THAT(col(5), ElementsAre(0, 0, 0, 50, 100, 100));
  // flag: true 20, false 90, missing bool is missing.
  EXPECT_THAT(col(6), ElementsAre(20, 90, IsNan(), 90, 20, 90));
  // truthy over a float column: -0 is zero; any other number is true.
  EXPECT_THAT(col(7), ElementsAre(90, 90, 20, 20, IsNan(), 20));
  // tier: unlisted 'lead' is missing.
  EXPECT_THAT(col(8), ElementsAre(100, IsNan(), 70, 100, 40, 100));
  EXPECT_EQ(r.raw(2, 0), 150);  // explanations see the raw value
}

TEST(ScorecardTest, GroupsNestToAnyDepth) {
  // g0 > g1 > ... > g5, each holding one measure and the next group, weights 1..6.
  ScorecardDef d;
  d.name = "deep";
  const int depth = 6;
  for (int g = 0; g < depth; ++g) {
    d.measures.push_back(Ramp("m" + std::to_string(g), 1));
    GroupDef grp{"g" + std::to_string(g),    static_cast<double>(g + 1),
                 Aggregation::kWeightedMean, 0,
                 {"m" + std::to_string(g)},  ""};
    if (g + 1 < depth) grp.members.push_back("g" + std::to_string(g + 1));
    d.groups.push_back(grp);
  }
  d.members = {"g0"};
  Scorecard card = MustCompile(d);
  std::vector<std::pair<std::string, std::vector<double>>> cols;
  for (int g = 0; g < depth; ++g) cols.push_back({"m" + std::to_string(g), {10.0 * (g + 1)}});
  ScoreBatch r = MustScore(card, Frame(cols));
  // Innermost first: g5 = m5; g(k) = (m_k * 1 + g(k+1) * w(k+1)) / (1 + w(k+1)).
  double want = 60;
  for (int g = depth - 2; g >= 0; --g) want = (10.0 * (g + 1) + (g + 2) * want) / (1.0 + g + 2);
  EXPECT_NEAR(r.score[0], want, 1e-12);
  ScoreOptions o;
  o.detail = ScoreDetail::kFull;
  absl::StatusOr<Explanation> ex = card.Explain(MustScore(card, Frame(cols), o), 0);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ(ex->measures[5].path, "g0/g1/g2/g3/g4/g5/m5");
  double pct = 0;
  for (const MeasureExplanation& m : ex->measures) pct += m.contribution;
  EXPECT_NEAR(pct, 100, 1e-9);
}

TEST(ScorecardTest, PercentileTiesSignedZeroAndSmallSegments) {
  std::vector<std::string> seg = {"a", "a", "a", "b", "c", "c"};
  FrameBuilder fb(Ids(6));
  fb.AddFloat64("v", {0.0, -0.0, 3, 8, 1, 1}).AddCategorical("segment", seg, {0, 0, 0, 0, 0, 1});
  AccountFrame f = *std::move(fb).Build();
  MeasureDef pop;
  pop.name = "pop";
  pop.metric = "v";
  pop.kind = MeasureKind::kPercentile;
  MeasureDef within = pop;
  within.name = "within";
  within.within = "segment";
  ScorecardBuilder b("p");
  b.AddMeasure(pop).AddMeasure(within);
  ScoreBatch r = MustScore(*b.Build(), f);
  // Population -0, 0, 1, 1, 3, 8: the zeros tie (mid-rank 0.5 of 5), so do the ones.
  EXPECT_DOUBLE_EQ(r.sub(0, 0), 10);
  EXPECT_DOUBLE_EQ(r.sub(1, 0), 10);
  EXPECT_DOUBLE_EQ(r.sub(4, 0), 50);
  EXPECT_DOUBLE_EQ(r.sub(5, 0), 50);
  EXPECT_DOUBLE_EQ(r.sub(2, 0), 80);
  EXPECT_DOUBLE_EQ(r.sub(3, 0), 100);
  // Segment a: 0, -0, 3 -> 25, 25, 100; b alone -> 50; c has one labelled row -> 50 and
  // one without a segment -> missing.
  EXPECT_DOUBLE_EQ(r.sub(0, 1), 25);
  EXPECT_DOUBLE_EQ(r.sub(1, 1), 25);
  EXPECT_DOUBLE_EQ(r.sub(2, 1), 100);
  EXPECT_DOUBLE_EQ(r.sub(3, 1), 50);
  EXPECT_DOUBLE_EQ(r.sub(4, 1), 50);
  EXPECT_TRUE(std::isnan(r.sub(5, 1)));
}

TEST(ScorecardTest, PercentileMatchesABruteForceRank) {
  const size_t n = 3000;
  std::mt19937 rng(17);
  std::vector<double> v(n);
  std::vector<std::string> seg(n);
  for (size_t i = 0; i < n; ++i) {
    // Few distinct values, negatives and missing ones: many ties.
    v[i] = rng() % 13 == 0 ? kNaN : static_cast<double>(static_cast<int>(rng() % 41) - 20) / 4;
    seg[i] = std::string(1, static_cast<char>('a' + rng() % 5));
  }
  FrameBuilder fb(Ids(n));
  fb.AddFloat64("v", v).AddCategorical("segment", seg);
  AccountFrame f = *std::move(fb).Build();
  MeasureDef within;
  within.name = "within";
  within.metric = "v";
  within.kind = MeasureKind::kPercentile;
  within.within = "segment";
  ScorecardBuilder b("p");
  b.AddMeasure(within);
  ScoreBatch r = MustScore(*b.Build(), f);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(v[i])) {
      EXPECT_TRUE(std::isnan(r.sub(static_cast<long>(i), 0)));
      continue;
    }
    double below = 0, equal = 0, count = 0;
    for (size_t j = 0; j < n; ++j) {
      if (seg[j] != seg[i] || std::isnan(v[j])) continue;
      ++count;
      below += v[j] < v[i] ? 1 : 0;
      equal += v[j] == v[i] ? 1 : 0;
    }
    const double mid = below + (equal - 1) / 2;
    ASSERT_DOUBLE_EQ(r.sub(static_cast<long>(i), 0), 100 * mid / (count - 1)) << i;
  }
}

TEST(ScorecardTest, SchemesOfTwoToTwelveRangesAndGrades) {
  ScorecardBuilder b("grades");
  b.AddMeasure(Ramp("x", 1));
  SchemeDef two;
  two.kind = SchemeKind::kNumeric;
  two.ranges = {{0, 60, "at risk", "", ""}, {60, 100, "healthy", "", ""}};
  Scorecard c2 = *b.Scheme(two).Build();
  EXPECT_EQ(c2.RangeOf(60), 0);
  EXPECT_EQ(c2.RangeOf(60.5), 1);
  SchemeDef twelve;
  twelve.kind = SchemeKind::kGrade;
  const char* grades[] = {"F", "E", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A"};
  for (int r = 0; r < 12; ++r) {
    twelve.ranges.push_back({r * 100.0 / 12, (r + 1) * 100.0 / 12, grades[r], "", ""});
  }
  twelve.ranges.back().to = 100;
  Scorecard c12 = *b.Scheme(twelve).Build();
  EXPECT_EQ(c12.RangeOf(0), 0);
  for (int r = 0; r < 12; ++r) {
    EXPECT_EQ(c12.RangeOf(twelve.ranges[static_cast<size_t>(r)].to), r) << r;  // upper bound in
  }
  EXPECT_EQ(c12.RangeOf(100.0 / 12 + 1e-9), 1);  // lower bound out
  ScoreBatch r = MustScore(c12, Frame({{"x", {0, 50, 99, 100, kNaN}}}));
  EXPECT_THAT(r.range, ::testing::ElementsAre(0, 5, 11, 11, -1));
}

TEST(ScorecardTest, ScoreIntoReusesTheBatchAndLeavesItUnchangedOnError) {
  Scorecard card = MustCompile(EverythingDef(false));
  AccountFrame big = MixedFrame(9000, 21), small = MixedFrame(700, 22);
  ScoreOptions full;
  full.detail = ScoreDetail::kFull;
  ScoreBatch reused;
  ASSERT_TRUE(card.ScoreInto(big, nullptr, full, &reused).ok());
  // A smaller frame, fewer details: the same as a fresh Score(), nothing left over.
  ScoreOptions scores;
  scores.detail = ScoreDetail::kScores;
  ASSERT_TRUE(card.ScoreInto(small, nullptr, scores, &reused).ok());
  ScoreBatch fresh = MustScore(card, small, scores);
  ExpectBitIdentical(reused, fresh);
  EXPECT_EQ(reused.sub.size(), 0);
  EXPECT_EQ(reused.frame.num_rows(), 700u);
  // A failing call (an override of an unknown measure) does not touch the batch.
  std::vector<OverrideDef> bad = {{"A1", "nope", 1, "r", "x", 9, ""}};
  ScoreOptions wrong = scores;
  wrong.overrides = bad;
  absl::Status st = card.ScoreInto(big, nullptr, wrong, &reused);
  EXPECT_THAT(Message(st), HasSubstr("has no such measure"));
  ExpectBitIdentical(reused, fresh);
  EXPECT_EQ(reused.frame.num_rows(), 700u);
}

TEST(ScorecardTest, ExplanationSplitsTheScoreAndFindsMovers) {
  ScorecardBuilder b("e");
  b.AddMeasure(Ramp("a", 20)).AddMeasure(Ramp("b", 15)).AddMeasure(Ramp("c", 22));
  Scorecard card = *b.Build();
  ScoreOptions o;
  o.detail = ScoreDetail::kFull;
  ScoreBatch now = MustScore(card, Frame({{"a", {47}}, {"b", {59}}, {"c", {21}}}), o);
  ScoreBatch before = MustScore(card, Frame({{"a", {47}}, {"b", {29}}, {"c", {61}}}), o);
  absl::StatusOr<Explanation> ex = card.Explain(now, 0, &before);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ(ex->account_id, "A0");
  EXPECT_EQ(ex->label, "Poor");
  EXPECT_EQ(ex->color, "red");
  double pct = 0, pts = 0;
  for (const MeasureExplanation& m : ex->measures) pct += m.contribution, pts += m.points;
  EXPECT_NEAR(pct, 100, 1e-9);
  EXPECT_NEAR(pts, ex->score, 1e-9);
  EXPECT_NEAR(ex->measures[0].contribution, 100.0 * 20 / 57, 1e-9);
  EXPECT_EQ(ex->measures[1].raw, 59);
  ASSERT_EQ(ex->top_movers.size(), 2u);                     // 'a' did not move
  EXPECT_EQ(ex->measures[ex->top_movers[0]].measure, "c");  // 22 * 40 / 57 > 15 * 30 / 57
  EXPECT_NEAR(ex->measures[2].delta_points, -22.0 * 40 / 57, 1e-9);
  EXPECT_EQ(ex->measures[ex->top_drivers[0]].measure, "c");  // lowest sub-score
  EXPECT_THAT(
      Message(
          card.Explain(MustScore(card, Frame({{"a", {1}}, {"b", {1}}, {"c", {1}}})), 0).status()),
      HasSubstr("kFull"));
}

TEST(ScorecardSetTest, PicksAScorecardPerAccountWithADefault) {
  std::vector<std::string> seg = {"smb", "enterprise", "tech-touch", "enterprise"};
  std::vector<std::string> stage = {"adoption", "renewal", "adoption", "onboarding"};
  FrameBuilder fb(Ids(4));
  fb.AddFloat64("x", {10, 20, 30, 40})
      .AddCategorical("segment", seg)
      .AddCategorical("stage", stage);
  AccountFrame f = *std::move(fb).Build();
  ScorecardSetDef def;
  ScorecardChoice dflt, ent;
  dflt.def.name = "default";
  dflt.def.measures = {Ramp("x", 1)};
  dflt.def.members = {"x"};
  dflt.is_default = true;
  ent.def.name = "enterprise";
  MeasureDef inv = Ramp("x", 1);
  inv.kind = MeasureKind::kInvertedRamp;
  ent.def.measures = {inv};
  ent.def.members = {"x"};
  ent.when = {{"segment", {"enterprise", "strategic"}}, {"stage", {"renewal", "adoption"}}};
  def.scorecards = {dflt, ent};
  absl::StatusOr<ScorecardSet> set = ScorecardSet::Compile(def);
  ASSERT_TRUE(set.ok()) << set.status();
  absl::StatusOr<SetBatch> r = set->Score(f, nullptr, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->card, ::testing::ElementsAre(0, 1, 0, 0));
  EXPECT_THAT(r->score, ::testing::ElementsAre(10, 80, 30, 40));
  // Trend against a previous set batch, matched by id.
  absl::StatusOr<SetBatch> again = set->Score(f, nullptr, {}, &*r);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->delta, ::testing::ElementsAre(0, 0, 0, 0));
  // ... or against the caller's previous scores by row, as the daily run keeps them.
  std::vector<double> before = {5, 80, kNaN, 60};
  ScoreOptions by_row;
  by_row.previous = before;
  absl::StatusOr<SetBatch> rows = set->Score(f, nullptr, by_row);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->delta[0], 5);
  EXPECT_EQ(rows->delta[1], 0);
  EXPECT_TRUE(std::isnan(rows->delta[2]));
  EXPECT_EQ(rows->delta[3], -20);
  EXPECT_EQ(rows->trend[0], 1);
  EXPECT_EQ(rows->trend[3], -1);

  def.scorecards[0].is_default = false;
  EXPECT_THAT(Message(ScorecardSet::Compile(def).status()), HasSubstr("no criteria"));
  def.scorecards[0].when = {{"segment", {"smb"}}};
  EXPECT_THAT(Message(ScorecardSet::Compile(def).status()), HasSubstr("no default scorecard"));
}

// Bad definitions: each names what is wrong.
class BadDefTest : public ::testing::Test {
 protected:
  ScorecardDef Base() {
    ScorecardDef d;
    d.name = "bad";
    d.measures = {Ramp("a", 1), Ramp("b", 1)};
    d.members = {"a", "b"};
    return d;
  }
  std::string Error(const ScorecardDef& d) { return Message(Scorecard::Compile(d).status()); }
};

TEST_F(BadDefTest, NegativeOrNaNWeight) {
  ScorecardDef d = Base();
  d.measures[1].weight = -1;
  d.measures[1].location = "f.yaml:3:5";
  EXPECT_EQ(Error(d), "f.yaml:3:5: measure 'b': weight must be a non-negative number, got -1");
  d.measures[1].weight = kNaN;
  EXPECT_THAT(Error(d), HasSubstr("measure 'b': weight must be a non-negative number, got nan"));
  d = Base();
  d.groups = {{"g", -2, Aggregation::kWeightedMean, 0, {"b"}, "f.yaml:7:3"}};
  d.members = {"a", "g"};
  EXPECT_EQ(Error(d), "f.yaml:7:3: group 'g': weight must be a non-negative number, got -2");
  d.groups[0].weight = kNaN;
  EXPECT_THAT(Error(d), HasSubstr("group 'g': weight must be a non-negative number, got nan"));
}

TEST_F(BadDefTest, RangesOverlapGapOrWrongCount) {
  ScorecardDef d = Base();
  d.scheme.ranges[1].from = 40;
  EXPECT_THAT(Error(d), HasSubstr("range 'Average' (40-75) overlaps range 'Poor' (0-50)"));
  d.scheme.ranges[1].from = 55;
  EXPECT_THAT(Error(d), HasSubstr("gap between range 'Poor' (ends at 50) and range 'Average'"));
  d.scheme.ranges.resize(1);
  EXPECT_THAT(Error(d), HasSubstr("scheme has 1 ranges; it needs 2 to 12"));
  d.scheme.ranges.clear();
  for (int i = 0; i < 13; ++i) d.scheme.ranges.push_back({i * 1.0, i + 1.0, "r", "", ""});
  EXPECT_THAT(Error(d), HasSubstr("scheme has 13 ranges"));
}

TEST_F(BadDefTest, GroupsWithoutMembersCyclesAndUnknownMembers) {
  ScorecardDef d = Base();
  d.groups = {{"g", 1, Aggregation::kWeightedMean, 0, {}, ""}};
  EXPECT_THAT(Error(d), HasSubstr("group 'g' has no members"));
  d.groups = {{"g", 1, Aggregation::kWeightedMean, 0, {"h"}, ""},
              {"h", 1, Aggregation::kWeightedMean, 0, {"g", "a"}, ""}};
  d.members = {"b"};
  EXPECT_THAT(Error(d), HasSubstr("cyclic group reference: g -> h -> g"));
  d.groups = {{"g", 1, Aggregation::kWeightedMean, 0, {"g"}, ""}};
  EXPECT_THAT(Error(d), HasSubstr("cyclic group reference: 'g' contains itself"));
  d.groups = {{"g", 1, Aggregation::kWeightedMean, 0, {"zz"}, ""}};
  EXPECT_THAT(Error(d), HasSubstr("group 'g': unknown member 'zz'"));
  d = Base();
  d.members = {"a"};
  EXPECT_THAT(Error(d), HasSubstr("measure 'b' is not a member of the scorecard or of any group"));
  d.members = {"a", "b", "a"};
  EXPECT_THAT(Error(d), HasSubstr("measure 'a' is already a member"));
}

TEST_F(BadDefTest, ScoringFunctionParameters) {
  ScorecardDef d = Base();
  d.measures[0].lo = 10;
  d.measures[0].hi = 10;
  EXPECT_THAT(Error(d), HasSubstr("measure 'a': ramp needs finite from < to"));
  d = Base();
  d.measures[0].kind = MeasureKind::kBands;
  d.measures[0].bands = {{10, 1}, {5, 2}};
  EXPECT_THAT(Error(d), HasSubstr("band bounds must ascend"));
  d.measures[0].bands.clear();
  EXPECT_THAT(Error(d), HasSubstr("measure 'a': no bands"));
  d = Base();
  d.min_coverage = 1.5;
  EXPECT_THAT(Error(d), HasSubstr("min_coverage"));
}

TEST_F(BadDefTest, PercentileSegmentMustBeCategorical) {
  ScorecardDef d = Base();
  d.measures[1].kind = MeasureKind::kPercentile;
  d.measures[1].within = "a";
  d.measures[1].location = "cards.yaml:4:7";
  Scorecard card = MustCompile(d);
  EXPECT_EQ(Message(card.Score(Frame({{"a", {1}}, {"b", {2}}}), nullptr, {}).status()),
            "cards.yaml:4:7: measure 'b': percentile 'within' needs a categorical column, 'a' "
            "is not one");
}

TEST_F(BadDefTest, UnknownMetricIsNamedWhenScoring) {
  ScorecardDef d = Base();
  d.measures[1].metric = "loginz";
  d.measures[1].location = "cards.yaml:9:7";
  Scorecard card = MustCompile(d);
  absl::StatusOr<ScoreBatch> r = card.Score(Frame({{"a", {1}}}), nullptr, {});
  EXPECT_EQ(Message(r.status()),
            "cards.yaml:9:7: measure 'b': unknown metric 'loginz' (no such column)");
}

}  // namespace
}  // namespace cscore
