#include "cscore/health/backtest.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(Backtest, HandComputedMetrics) {
  std::vector<double> p = {0.1, 0.4, 0.35, 0.8};
  std::vector<uint8_t> y = {0, 0, 1, 1};
  auto r = Backtest(p, y, {.green_below = 0.4});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->accounts, 4u);
  EXPECT_EQ(r->churned, 2u);
  EXPECT_DOUBLE_EQ(r->auc, 0.75);  // pairs won: (0.35>0.1), (0.8>0.1), (0.8>0.4)
  EXPECT_DOUBLE_EQ(r->brier, (0.01 + 0.16 + 0.4225 + 0.04) / 4);
  // Worst decile of 4 accounts is ceil(0.4) = 1 account: p = 0.8, churned; rate 1 / 0.5.
  EXPECT_DOUBLE_EQ(r->lift_top_decile, 2.0);
  // Churned accounts: 0.35 is green (< 0.4), 0.8 is not.
  EXPECT_EQ(r->green_churned, 1u);
  EXPECT_DOUBLE_EQ(r->surprise_rate, 0.5);
  ASSERT_EQ(r->calibration.size(), 4u);
  EXPECT_DOUBLE_EQ(r->calibration[0].lower, 0.1);
  EXPECT_EQ(r->calibration[0].count, 1u);
  EXPECT_DOUBLE_EQ(r->calibration[1].mean_predicted, 0.35);
  EXPECT_DOUBLE_EQ(r->calibration[1].observed_rate, 1.0);
  EXPECT_DOUBLE_EQ(r->calibration[2].observed_rate, 0.0);
  EXPECT_DOUBLE_EQ(r->calibration[3].lower, 0.8);
}

TEST(Backtest, TiesShareTheirAverageRank) {
  std::vector<double> p = {0.2, 0.5, 0.5, 0.9};
  std::vector<uint8_t> y = {0, 0, 1, 1};
  auto r = Backtest(p, y);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->auc, 3.5 / 4);  // the tied pair counts one half
  std::vector<double> flat = {0.3, 0.3, 0.3, 0.3};
  auto f = Backtest(flat, y);
  ASSERT_TRUE(f.ok());
  EXPECT_DOUBLE_EQ(f->auc, 0.5);
}

TEST(Backtest, LiftAndCalibrationOnTwentyAccounts) {
  std::vector<double> p(20);
  std::vector<uint8_t> y(20, 0);
  for (int i = 0; i < 20; ++i) p[i] = 0.025 + 0.05 * i;  // one account per half bin
  y[19] = 1;                                             // riskiest churned
  y[17] = 1;
  y[2] = 1;
  y[3] = 1;
  auto r = Backtest(p, y, {.green_below = 0.2});
  ASSERT_TRUE(r.ok());
  // Top 2 accounts (18, 19): one churned -> 0.5 over a base rate of 0.2.
  EXPECT_DOUBLE_EQ(r->lift_top_decile, 2.5);
  ASSERT_EQ(r->calibration.size(), 10u);
  for (const CalibrationBin& b : r->calibration) EXPECT_EQ(b.count, 2u);
  EXPECT_DOUBLE_EQ(r->calibration[1].observed_rate, 1.0);  // accounts 2 and 3
  EXPECT_NEAR(r->calibration[9].mean_predicted, 0.95, 1e-12);
  EXPECT_EQ(r->green_churned, 2u);  // 0.125 and 0.175
  EXPECT_DOUBLE_EQ(r->surprise_rate, 0.5);
}

TEST(Backtest, GreenFlagsOverrideTheThreshold) {
  std::vector<double> p = {0.1, 0.4, 0.35, 0.8};
  std::vector<uint8_t> y = {0, 0, 1, 1};
  std::vector<uint8_t> green = {1, 1, 0, 1};
  auto r = Backtest(p, y, {.green = green});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->green_churned, 1u);  // account 3 was shown green and churned
  std::vector<uint8_t> short_green = {1};
  EXPECT_FALSE(Backtest(p, y, {.green = short_green}).ok());
}

TEST(Backtest, RejectsBadInput) {
  std::vector<uint8_t> y = {0, 1};
  std::vector<double> out = {0.1, 1.5};
  auto r = Backtest(out, y);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("account #1"));
  std::vector<double> nan = {std::nan(""), 0.5};
  EXPECT_FALSE(Backtest(nan, y).ok());
  std::vector<double> p = {0.1, 0.2, 0.3};
  EXPECT_FALSE(Backtest(p, y).ok());
  std::vector<uint8_t> one_class = {1, 1};
  std::vector<double> two = {0.1, 0.2};
  EXPECT_FALSE(Backtest(two, one_class).ok());
  EXPECT_FALSE(Backtest(two, y, {.calibration_bins = 0}).ok());
}

}  // namespace
}  // namespace cscore
