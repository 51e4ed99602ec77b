#include "cscore/frame/history.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

// Two accounts, five days: account 0 rises by 2 a day, account 1 has gaps.
MetricHistory MakeHistory() {
  MetricHistory h(2, 5);
  Eigen::MatrixXd m(2, 5);
  m << 1, 3, 5, 7, 9,  //
      NAN, 4, NAN, 2, 10;
  EXPECT_TRUE(h.AddMetric("logins", m).ok());
  return h;
}

TEST(HistoryTest, WindowAggregatesSkipMissingDays) {
  MetricHistory h = MakeHistory();
  EXPECT_EQ(*h.Window("logins", WindowOp::kSum, 3), (std::vector<double>{21, 12}));
  EXPECT_EQ(*h.Window("logins", WindowOp::kMean, 3), (std::vector<double>{7, 6}));
  EXPECT_EQ(*h.Window("logins", WindowOp::kMin, 5), (std::vector<double>{1, 2}));
  EXPECT_EQ(*h.Window("logins", WindowOp::kMax, 2), (std::vector<double>{9, 10}));
  EXPECT_EQ(*h.Window("logins", WindowOp::kLast, 1), (std::vector<double>{9, 10}));
  std::vector<double> one = *h.Window("logins", WindowOp::kMean, 1);
  EXPECT_EQ(one[1], 10);
}

TEST(HistoryTest, TrendIsLeastSquaresSlopePerDay) {
  MetricHistory h = MakeHistory();
  std::vector<double> t = *h.Window("logins", WindowOp::kTrend, 5);
  EXPECT_DOUBLE_EQ(t[0], 2.0);
  // Points (1,4), (3,2), (4,10): slope = (3*50 - 8*16) / (3*26 - 64) = 22/14.
  EXPECT_NEAR(t[1], 22.0 / 14.0, 1e-12);
  // A window with a single present point has no slope.
  std::vector<double> t2 = *h.Window("logins", WindowOp::kTrend, 2);
  EXPECT_DOUBLE_EQ(t2[0], 2.0);
  EXPECT_DOUBLE_EQ(t2[1], 8.0);
}

TEST(HistoryTest, PctChangeAgainstTheValueNDaysBefore) {
  MetricHistory h = MakeHistory();
  std::vector<double> p = *h.Window("logins", WindowOp::kPctChange, 2);
  EXPECT_NEAR(p[0], 100.0 * (9 - 5) / 5, 1e-12);
  EXPECT_TRUE(std::isnan(p[1]));  // the base day is missing
  std::vector<double> p3 = *h.Window("logins", WindowOp::kPctChange, 3);
  EXPECT_NEAR(p3[1], 150.0, 1e-12);
}

TEST(HistoryTest, RowAccessAgreesWithBatch) {
  MetricHistory h = MakeHistory();
  for (WindowOp op : {WindowOp::kSum, WindowOp::kMean, WindowOp::kTrend, WindowOp::kPctChange}) {
    std::vector<double> batch = *h.Window("logins", op, 3);
    for (size_t a = 0; a < 2; ++a) {
      double row = *h.WindowAt("logins", op, 3, a);
      if (std::isnan(batch[a])) {
        EXPECT_TRUE(std::isnan(row));
      } else {
        EXPECT_EQ(row, batch[a]);
      }
    }
  }
}

TEST(HistoryTest, BadWindowsAreErrors) {
  MetricHistory h = MakeHistory();
  EXPECT_THAT(h.Window("logins", WindowOp::kSum, 0).status().message(), HasSubstr("at least 1"));
  EXPECT_THAT(h.Window("logins", WindowOp::kTrend, 1).status().message(), HasSubstr("at least 2"));
  EXPECT_THAT(h.Window("logins", WindowOp::kPctChange, 5).status().message(),
              HasSubstr("needs 6 days"));
  EXPECT_EQ(h.Window("nps", WindowOp::kSum, 1).status().code(), absl::StatusCode::kNotFound);
  Eigen::MatrixXd wrong(3, 5);
  EXPECT_THAT(h.AddMetric("x", wrong).message(), HasSubstr("expected 2 accounts x 5 days"));
  EXPECT_EQ(ParseWindowOp("avg").value(), WindowOp::kMean);
  EXPECT_FALSE(ParseWindowOp("median").ok());
}

}  // namespace
}  // namespace cscore
