#include "cscore/risk/scorecard.h"

#include <cmath>

#include "fake_predicates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

AccountFrame MakeFrame() {
  FrameBuilder b({"a", "b", "c", "d"});
  b.AddFloat64("nps", {10, -20, 5, std::nan("")});
  b.AddInt64("tickets", {0, 3, 12, 1});
  b.AddBool("champion_left", {0, 0, 1, 0});
  b.AddFloat64("arr", {50000, 250000, 900000, 250000});
  return *std::move(b).Build();
}

RiskScorecardDef Def() {
  RiskScorecardDef def;
  RiskDomainDef sentiment{RiskDomain::kSentiment, "", {}};
  sentiment.signals.push_back({"detractor",
                               RiskStatus::kRed,
                               "",
                               ThresholdDef{"nps", "", {}, 30, Comparison::kLess, 0},
                               {}});
  RiskDomainDef support{RiskDomain::kSupport, "Support Ops", {}};
  support.signals.push_back({"some_tickets",
                             RiskStatus::kYellow,
                             "",
                             ThresholdDef{"tickets", "", {}, 30, Comparison::kGreaterEqual, 3},
                             {}});
  support.signals.push_back({"many_tickets",
                             RiskStatus::kRed,
                             "",
                             ThresholdDef{"tickets", "", {}, 30, Comparison::kGreaterEqual, 10},
                             {}});
  RiskDomainDef company{RiskDomain::kCompany, "", {}};
  company.signals.push_back({"champion", RiskStatus::kRed, "champion_left", std::nullopt, {}});
  def.domains = {sentiment, support, company};
  return def;
}

absl::StatusOr<RiskScorecard> Compile(const RiskScorecardDef& def, const AccountFrame& f) {
  return RiskScorecard::Compile(def, testing::BoolColumnCompiler(), f.schema(), {});
}

TEST(RiskScorecard, SignalsGiveWorstOfPerDomainAndOverall) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok()) << card.status();
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 11, 23)}, {});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(batch->domain(RiskDomain::kSentiment), ElementsAre(0, 2, 0, 0));  // NaN: no signal
  EXPECT_THAT(batch->domain(RiskDomain::kSupport), ElementsAre(0, 1, 2, 0));
  EXPECT_THAT(batch->domain(RiskDomain::kCompany), ElementsAre(0, 0, 2, 0));
  EXPECT_THAT(batch->overall(), ElementsAre(0, 2, 2, 0));
  EXPECT_THAT(batch->red_count(), ElementsAre(0, 1, 2, 0));
  EXPECT_THAT(batch->yellow_count(), ElementsAre(0, 1, 0, 0));
}

TEST(RiskScorecard, OwnersDefaultToTheRaciAndCanBeOverridden) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->owner_team(RiskDomain::kSupport), "Support Ops");
  EXPECT_EQ(card->owner_team(RiskDomain::kDefect), "Engineering");
  EXPECT_EQ(card->owner_team(RiskDomain::kImplementation), "Services");
}

TEST(RiskScorecard, ManualCtaMakesYellowAndFlaggedMakesRed) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok());
  std::vector<RiskCtaRef> ctas = {
      {0, "Risk", RiskDomain::kProduct, /*manual=*/true, /*flagged=*/false},
      {3, "Risk", RiskDomain::kDefect, /*manual=*/false, /*flagged=*/true},
      {0, "Risk", RiskDomain::kHabit, /*manual=*/false, /*flagged=*/false},  // rule-made
      {3, "Expansion", RiskDomain::kHabit, true, true},                      // not a risk CTA
  };
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 11, 23)}, ctas);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->At(0, RiskDomain::kProduct), RiskStatus::kYellow);
  EXPECT_EQ(batch->At(3, RiskDomain::kDefect), RiskStatus::kRed);
  EXPECT_EQ(batch->At(0, RiskDomain::kHabit), RiskStatus::kGreen);
  EXPECT_EQ(batch->At(3, RiskDomain::kHabit), RiskStatus::kGreen);
  EXPECT_THAT(batch->overall(), ElementsAre(1, 2, 2, 2));
}

// The same rule read off a real CTA store: who opened a CTA decides "manual", and only open
// CTAs count.
TEST(RiskScorecard, OpenCtasOfTheStoreSetDomainFloors) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok());
  auto created = CtaStore::Create({});
  ASSERT_TRUE(created.ok());
  CtaStore& store = **created;
  const absl::Time t0 = absl::FromCivil(absl::CivilDay(2026, 11, 20), absl::UTCTimeZone());
  const Actor rule{.id = "usage_drop", .role = Role::kSystem};
  const Actor ann{.id = "ann", .role = Role::kCsm};
  auto open = [&](std::string_view account, std::string_view type, RiskDomain d, const Actor& by,
                  std::string_view reason) {
    absl::StatusOr<CtaId> id = store.Open(
        {.account = account, .type = type, .reason = reason, .domain = d, .owner = "ann"}, by, t0);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : -1;
  };
  open("a", "Risk", RiskDomain::kHabit, rule, "usage");         // a rule's: no floor
  open("a", "Risk", RiskDomain::kProduct, ann, "feature gap");  // manual: yellow
  const CtaId flagged = open("b", "Risk", RiskDomain::kDefect, rule, "bug");
  ASSERT_TRUE(store.Fire(flagged, "flag", ann, t0).ok());  // flagged: red
  const CtaId closed = open("d", "Risk", RiskDomain::kReadiness, ann, "staffing");
  ASSERT_TRUE(store.Close(closed, "closed_success", ann, t0).ok());  // closed: no floor
  open("d", "Expansion", RiskDomain::kHabit, ann, "seats");          // not a risk CTA
  open("zz", "Risk", RiskDomain::kHabit, ann, "gone");               // not in the frame
  open("c", "Risk", RiskDomain::kSupport, ann, "tickets");           // yellow floor under a red

  int64_t skipped = 0;
  const std::vector<RiskCtaRef> refs = OpenRiskCtas(store, f, &skipped);
  EXPECT_EQ(skipped, 1);
  ASSERT_EQ(refs.size(), 5u);
  EXPECT_FALSE(refs[0].manual);
  EXPECT_TRUE(refs[1].manual);
  EXPECT_TRUE(refs[2].flagged);
  EXPECT_EQ(refs[2].row, 1u);
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 11, 23)}, refs);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->At(0, RiskDomain::kHabit), RiskStatus::kGreen);
  EXPECT_EQ(batch->At(0, RiskDomain::kProduct), RiskStatus::kYellow);
  EXPECT_EQ(batch->At(1, RiskDomain::kDefect), RiskStatus::kRed);
  EXPECT_EQ(batch->At(3, RiskDomain::kReadiness), RiskStatus::kGreen);
  EXPECT_EQ(batch->At(3, RiskDomain::kHabit), RiskStatus::kGreen);
  // A signal's red is not lowered by a CTA's yellow floor (worst-of).
  EXPECT_EQ(batch->At(2, RiskDomain::kSupport), RiskStatus::kRed);
}

TEST(RiskScorecard, CtaOutsideTheFrameIsAnError) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok());
  std::vector<RiskCtaRef> ctas = {{9, "Risk", RiskDomain::kProduct, true, false}};
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 11, 23)}, ctas);
  EXPECT_THAT(std::string(batch.status().message()), HasSubstr("row 9"));
}

TEST(RiskScorecard, ReviewListIsRedAboveThresholdByArrAtRisk) {
  AccountFrame f = MakeFrame();
  auto card = Compile(Def(), f);
  ASSERT_TRUE(card.ok());
  std::vector<RiskCtaRef> ctas = {{3, "Risk", RiskDomain::kDefect, true, true}};
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 11, 23)}, ctas);
  ASSERT_TRUE(batch.ok());
  auto review = ReviewList(*batch, f, "arr", 100000);
  ASSERT_TRUE(review.ok()) << review.status();
  ASSERT_EQ(review->size(), 3u);
  EXPECT_EQ((*review)[0].account_id, "c");
  EXPECT_EQ((*review)[1].account_id, "b");  // tie at 250000: by id
  EXPECT_EQ((*review)[2].account_id, "d");
  EXPECT_EQ((*review)[0].red_domains,
            (1 << DomainIndex(RiskDomain::kSupport)) | (1 << DomainIndex(RiskDomain::kCompany)));
  auto none = ReviewList(*batch, f, "arr", 1e6);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(ReviewList(*batch, f, "champion_left", 0).ok());
  EXPECT_THAT(std::string(ReviewList(*batch, f, "arrr", 0).status().message()), HasSubstr("arrr"));
}

TEST(RiskScorecard, MissingArrOfARedAccountNamesTheAccount) {
  FrameBuilder b({"x", "y"});
  b.AddFloat64("nps", {-5, 3});
  b.AddFloat64("arr", {std::nan(""), 10});
  AccountFrame f = *std::move(b).Build();
  RiskScorecardDef def;
  def.domains.push_back({RiskDomain::kSentiment,
                         "",
                         {{"detractor",
                           RiskStatus::kRed,
                           "",
                           ThresholdDef{"nps", "", {}, 30, Comparison::kLess, 0},
                           {}}}});
  auto card = Compile(def, f);
  ASSERT_TRUE(card.ok());
  auto batch = card->Evaluate({f, nullptr, absl::CivilDay(2026, 1, 1)}, {});
  ASSERT_TRUE(batch.ok());
  auto review = ReviewList(*batch, f, "arr", 0);
  EXPECT_THAT(std::string(review.status().message()), HasSubstr("account 'x'"));
}

TEST(RiskScorecard, HistoryThresholdReadsTheWindow) {
  FrameBuilder b({"x", "y"});
  AccountFrame f = *std::move(b).Build();
  MetricHistory h(2, 3);
  Eigen::MatrixXd logins(2, 3);
  logins << 1, 1, 1, 9, 9, 9;
  ASSERT_TRUE(h.AddMetric("logins", logins).ok());
  RiskScorecardDef def;
  def.domains.push_back({RiskDomain::kHabit,
                         "",
                         {{"low_logins",
                           RiskStatus::kYellow,
                           "",
                           ThresholdDef{"", "logins", WindowOp::kMean, 3, Comparison::kLess, 5},
                           {}}}});
  std::vector<std::string> metrics = {"logins"};
  auto card = RiskScorecard::Compile(def, nullptr, f.schema(), metrics);
  ASSERT_TRUE(card.ok()) << card.status();
  auto batch = card->Evaluate({f, &h, absl::CivilDay(2026, 1, 1)}, {});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(batch->domain(RiskDomain::kHabit), ElementsAre(1, 0));
  // Without the history the signal cannot be computed: an error, not a silent green.
  EXPECT_FALSE(card->Evaluate({f, nullptr, absl::CivilDay(2026, 1, 1)}, {}).ok());
}

TEST(RiskScorecard, CompileRejectsBadDefinitions) {
  AccountFrame f = MakeFrame();
  {
    RiskScorecardDef def = Def();
    def.domains.push_back({RiskDomain::kSupport, "", {}});
    EXPECT_THAT(std::string(Compile(def, f).status().message()), HasSubstr("defined twice"));
  }
  {
    RiskScorecardDef def = Def();
    def.domains[0].signals[0].level = RiskStatus::kGreen;
    EXPECT_THAT(std::string(Compile(def, f).status().message()), HasSubstr("not green"));
  }
  {
    RiskScorecardDef def = Def();
    def.domains[0].signals[0].condition = "champion_left";
    EXPECT_THAT(std::string(Compile(def, f).status().message()), HasSubstr("exactly one"));
  }
  {
    RiskScorecardDef def = Def();
    def.domains[0].signals[0].threshold->column = "nope";
    EXPECT_THAT(std::string(Compile(def, f).status().message()),
                HasSubstr("unknown column 'nope'"));
  }
  {
    RiskScorecardDef def = Def();
    def.domains[0].signals[0].threshold->column = "";
    def.domains[0].signals[0].threshold->metric = "logins";
    EXPECT_THAT(std::string(Compile(def, f).status().message()),
                HasSubstr("unknown metric 'logins'"));
  }
  {
    RiskScorecardDef def = Def();
    def.domains.push_back({RiskDomain::kNone, "", {}});
    EXPECT_FALSE(Compile(def, f).ok());
  }
  {
    RiskScorecardDef def = Def();
    def.domains[2].signals[0].condition = "champion left";
    def.domains[2].signals[0].at = {"risk.yaml", 7, 15};
    EXPECT_THAT(std::string(Compile(def, f).status().message()),
                HasSubstr("risk.yaml:7:23: unexpected"));
  }
}

TEST(Predicate, LocateExpressionErrorShiftsByTheExpressionPosition) {
  EXPECT_EQ(LocateExpressionError({"r.yaml", 4, 11}, "1:7: bad"), "r.yaml:4:17: bad");
  EXPECT_EQ(LocateExpressionError({"r.yaml", 4, 11}, "2:3: bad"), "r.yaml:5:3: bad");
  EXPECT_EQ(LocateExpressionError({"r.yaml", 4, 11}, "no position"), "r.yaml:4:11: no position");
  EXPECT_EQ(LocateExpressionError({}, "1:2: x"), "1:2: x");
}

TEST(Domains, NamesParseAndOwnersFollowTheRaci) {
  EXPECT_EQ(DefaultOwnerTeam(RiskDomain::kSupport), "Support");
  EXPECT_EQ(DefaultOwnerTeam(RiskDomain::kProduct), "Product");
  EXPECT_EQ(DefaultOwnerTeam(RiskDomain::kReadiness), "Services");
  EXPECT_EQ(DefaultOwnerTeam(RiskDomain::kNone), "");
  EXPECT_EQ(*ParseRiskStatus("Red"), RiskStatus::kRed);
  EXPECT_FALSE(ParseRiskStatus("amber").ok());
  EXPECT_EQ(kAllRiskDomains.size(), 8u);
  for (int i = 0; i < kNumRiskDomains; ++i) EXPECT_EQ(DomainIndex(kAllRiskDomains[i]), i);
}

}  // namespace
}  // namespace cscore
