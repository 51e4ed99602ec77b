#include "cscore/health/scorecard_yaml.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Parse and compile; returns the error message, or "" when fine.
std::string Error(const std::string& yaml) {
  absl::StatusOr<ScorecardSetDef> def = ParseScorecardsYaml(yaml, "cards.yaml");
  if (!def.ok()) return Message(def.status());
  absl::StatusOr<ScorecardSet> set = ScorecardSet::Compile(*def);
  return set.ok() ? "" : Message(set.status());
}

constexpr char kGood[] = R"(scorecards:
  - name: default
    default: true
    missing: substitute
    substitute: 40
    min_coverage: 0.5
    trend_threshold: 2
    scheme:
      kind: color
      ranges:
        - {from: 0, to: 40, label: Poor, color: red}
        - {from: 40, to: 70, label: Average, color: yellow}
        - {from: 70, to: 100, label: Good, color: green}
    groups:
      - name: usage
        weight: 60
        members: [logins, adoption]
      - name: support
        weight: 40
        aggregation: worst_of
        members: [tickets, tier]
    measures:
      - {name: logins, metric: logins, weight: 20, ramp: {from: 0, to: 100}}
      - {name: adoption, metric: adoption, weight: 15, percentile: {within: segment}}
      - name: tickets
        metric: tickets
        bands: [{upto: 2, score: 100}, {upto: 5, score: 50}, {score: 0}]
      - name: tier
        metric: segment
        categories: {map: {enterprise: 100, smb: 70}, other: 50}
  - name: tech-touch
    when: {segment: tech-touch}
    aggregation: points
    base: 50
    measures:
      - {name: logins, metric: logins, ramp: {from: 0, to: 50, min: -20, max: 30}}
      - {name: left, metric: champion_left, boolean: {if_true: -30, if_false: 0}}
      - {name: trend, metric: logins, window: {op: trend, days: 14}, inverted_ramp: {from: -1, to: 1}}
overrides:
  - {account: A1, measure: logins, value: 90, reason: "usage outage", author: kim, expires: 2026-03-01}
)";

TEST(ScorecardYamlTest, LoadsEverythingTheBuilderCanSay) {
  absl::StatusOr<ScorecardSetDef> def = ParseScorecardsYaml(kGood, "cards.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  ASSERT_EQ(def->scorecards.size(), 2u);
  const ScorecardDef& d = def->scorecards[0].def;
  EXPECT_TRUE(def->scorecards[0].is_default);
  EXPECT_EQ(d.missing, MissingPolicy::kSubstitute);
  EXPECT_EQ(d.substitute, 40);
  EXPECT_EQ(d.min_coverage, 0.5);
  EXPECT_EQ(d.scheme.ranges.size(), 3u);
  EXPECT_EQ(d.scheme.ranges[1].color, "yellow");
  EXPECT_THAT(d.members, ::testing::ElementsAre("usage", "support"));
  EXPECT_EQ(d.groups[1].aggregation, Aggregation::kWorstOf);
  EXPECT_EQ(d.measures[0].weight, 20);
  EXPECT_EQ(d.measures[1].kind, MeasureKind::kPercentile);
  EXPECT_EQ(d.measures[1].within, "segment");
  ASSERT_EQ(d.measures[2].bands.size(), 3u);
  EXPECT_TRUE(std::isinf(d.measures[2].bands[2].upper));
  EXPECT_EQ(*d.measures[3].other_category, 50);
  EXPECT_EQ(d.measures[0].location, "cards.yaml:23:9");
  const ScorecardChoice& t = def->scorecards[1];
  EXPECT_EQ(t.def.aggregation, Aggregation::kPoints);
  EXPECT_EQ(t.def.base, 50);
  ASSERT_EQ(t.when.size(), 1u);
  EXPECT_EQ(t.when[0].second, std::vector<std::string>{"tech-touch"});
  EXPECT_EQ(t.def.measures[0].score_min, -20);
  EXPECT_EQ(t.def.measures[2].window->op, WindowOp::kTrend);
  EXPECT_EQ(t.def.measures[2].window->days, 14);
  ASSERT_EQ(def->overrides.size(), 1u);
  EXPECT_EQ(def->overrides[0].author, "kim");
  EXPECT_EQ(def->overrides[0].expires, 1772323200);  // 2026-03-01T00:00:00Z
  EXPECT_EQ(Error(kGood), "");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(ScorecardYamlTest, NegativeAndNaNWeightsAreLocated) {
  EXPECT_EQ(Error(Replace(kGood, "weight: 20", "weight: -3")),
            "cards.yaml:23:48: weight must be a non-negative number, got -3");
  EXPECT_EQ(Error(Replace(kGood, "weight: 20", "weight: .nan")),
            "cards.yaml:23:48: weight must be a non-negative number, got '.nan'");
}

TEST(ScorecardYamlTest, RangesOverlapGapAndCount) {
  EXPECT_EQ(Error(Replace(kGood, "{from: 40, to: 70", "{from: 35, to: 70")),
            "cards.yaml:12:11: range 'Average' (35-70) overlaps range 'Poor' (0-40)");
  EXPECT_EQ(Error(Replace(kGood, "{from: 40, to: 70", "{from: 45, to: 70")),
            "cards.yaml:12:11: gap between range 'Poor' (ends at 40) and range 'Average' "
            "(starts at 45)");
  std::string one = Replace(kGood,
                            "        - {from: 40, to: 70, label: Average, color: yellow}\n"
                            "        - {from: 70, to: 100, label: Good, color: green}\n",
                            "");
  EXPECT_EQ(Error(one), "cards.yaml:11:9: scheme has 1 ranges; it needs 2 to 12");
  std::string many;
  for (int i = 0; i < 13; ++i) {
    many += "        - {from: " + std::to_string(i) + ", to: " + std::to_string(i + 1) +
            ", label: r" + std::to_string(i) + "}\n";
  }
  std::string thirteen =
      Replace(kGood, "        - {from: 0, to: 40, label: Poor, color: red}\n", many);
  EXPECT_THAT(Error(thirteen),
              HasSubstr("cards.yaml:11:9: scheme has 15 ranges; it needs 2 to 12"));
}

TEST(ScorecardYamlTest, GroupErrorsAreLocated) {
  EXPECT_EQ(Error(Replace(kGood, "members: [tickets, tier]", "members: []")),
            "cards.yaml:18:9: group 'support' has no members");
  std::string cyc = Replace(kGood, "members: [tickets, tier]", "members: [tickets, tier, usage]");
  cyc = Replace(cyc, "members: [logins, adoption]", "members: [logins, adoption, support]");
  EXPECT_THAT(Error(cyc), HasSubstr("cards.yaml:15:9: cyclic group reference: usage -> support "
                                    "-> usage"));
  EXPECT_EQ(Error(Replace(kGood, "members: [tickets, tier]", "members: [tickets, tier, nps]")),
            "cards.yaml:18:9: group 'support': unknown member 'nps' (no measure or group of that "
            "name)");
}

TEST(ScorecardYamlTest, MeasureErrorsAreLocated) {
  EXPECT_EQ(Error(Replace(kGood, "ramp: {from: 0, to: 100}", "ramp: {from: 9, to: 1}")),
            "cards.yaml:23:58: a ramp needs from < to");
  EXPECT_EQ(Error(Replace(kGood, "{upto: 5, score: 50}", "{upto: 1, score: 50}")),
            "cards.yaml:27:47: band bounds must ascend: 1 after 2");
  EXPECT_THAT(Error(Replace(kGood, "ramp: {from: 0, to: 100}}", "}")),
              HasSubstr("cards.yaml:23:9: measure 'logins' needs exactly one scoring function"));
  EXPECT_THAT(
      Error(Replace(kGood, "weight: 20,", "wieght: 20,")),
      HasSubstr("cards.yaml:23:40: unknown field 'wieght' (expected one of: name, metric,"));
  EXPECT_THAT(Error(Replace(kGood, "op: trend", "op: slope")), HasSubstr("cards.yaml:38:"));
  EXPECT_EQ(Error(Replace(kGood, "aggregation: worst_of", "aggregation: worst")),
            "cards.yaml:20:22: unknown aggregation 'worst' (weighted_mean, worst_of, points)");
}

TEST(ScorecardYamlTest, UnknownMetricNamesTheMeasuresLine) {
  absl::StatusOr<ScorecardSetDef> def =
      ParseScorecardsYaml(Replace(kGood, "metric: adoption", "metric: adoptoin"), "cards.yaml");
  ASSERT_TRUE(def.ok());
  absl::StatusOr<ScorecardSet> set = ScorecardSet::Compile(*def);
  ASSERT_TRUE(set.ok());
  std::vector<std::string> seg = {"smb"};
  FrameBuilder fb({"A1"});
  fb.AddFloat64("logins", {3}).AddFloat64("tickets", {1}).AddCategorical("segment", seg);
  AccountFrame f = *std::move(fb).Build();
  absl::StatusOr<SetBatch> r = set->Score(f, nullptr, {});
  EXPECT_EQ(Message(r.status()),
            "cards.yaml:24:9: measure 'adoption': unknown metric 'adoptoin' (no such column)");
}

TEST(ScorecardYamlTest, SetAndOverrideErrors) {
  EXPECT_THAT(Error(Replace(kGood, "default: true", "default: false")),
              HasSubstr("scorecard 'default' has no criteria and is not the default"));
  EXPECT_THAT(Error(Replace(kGood, "author: kim, ", "")),
              HasSubstr("cards.yaml:40:5: missing required field 'author'"));
  EXPECT_THAT(Error(Replace(kGood, "expires: 2026-03-01", "expires: soon")),
              HasSubstr("cards.yaml:40:93: expires: 'soon' is not a date"));
  EXPECT_THAT(Message(LoadScorecardsYaml("/nonexistent/cards.yaml").status()),
              HasSubstr("/nonexistent/cards.yaml"));
}

}  // namespace
}  // namespace cscore
