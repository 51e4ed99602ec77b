#include "cscore/health/logistic.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

struct Synthetic {
  Eigen::MatrixXd x;
  std::vector<uint8_t> y;
};

Synthetic MakeSynthetic(int n, const Eigen::VectorXd& coef, double intercept, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif;
  Synthetic s{Eigen::MatrixXd(n, coef.size()), std::vector<uint8_t>(n)};
  for (int i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < coef.size(); ++j) s.x(i, j) = normal(rng);
    s.y[i] = unif(rng) < Sigmoid(intercept + s.x.row(i).dot(coef));
  }
  return s;
}

TEST(FitLogistic, SatisfiesTheOptimalityConditions) {
  Eigen::VectorXd truth(3);
  truth << 1.0, -0.5, 0.0;
  Synthetic s = MakeSynthetic(500, truth, -0.3, 1);
  const double c = 0.5;
  auto fit = FitLogistic(s.x, s.y, {.l2_C = c});
  ASSERT_TRUE(fit.ok()) << fit.status();
  // Gradient of sum logloss + ||w||^2/(2C): X^T(mu - y) + w/C = 0 and sum(mu - y) = 0.
  Eigen::VectorXd r(s.x.rows());
  for (Eigen::Index i = 0; i < s.x.rows(); ++i) {
    r[i] = Sigmoid(fit->intercept + s.x.row(i).dot(fit->coef)) - s.y[i];
  }
  EXPECT_NEAR(r.sum(), 0.0, 1e-9);
  Eigen::VectorXd g = s.x.transpose() * r + fit->coef / c;
  EXPECT_LT(g.cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_LT(fit->iterations, 15);
}

TEST(FitLogistic, RecoversCoefficientsWithLightPenalty) {
  Eigen::VectorXd truth(4);
  truth << 1.5, -1.0, 0.5, 0.0;
  Synthetic s = MakeSynthetic(20000, truth, 0.7, 2);
  auto fit = FitLogistic(s.x, s.y, {.l2_C = 1e6});
  ASSERT_TRUE(fit.ok()) << fit.status();
  for (Eigen::Index j = 0; j < truth.size(); ++j) EXPECT_NEAR(fit->coef[j], truth[j], 0.06);
  EXPECT_NEAR(fit->intercept, 0.7, 0.06);
}

TEST(FitLogistic, UninformativeColumnGivesBaseRateIntercept) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(4, 1);
  std::vector<uint8_t> y = {1, 0, 0, 0};
  auto fit = FitLogistic(x, y);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->intercept, std::log(1.0 / 3.0), 1e-12);
  EXPECT_NEAR(fit->coef[0], 0.0, 1e-12);
}

TEST(FitLogistic, RejectsBadInput) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 1);
  std::vector<uint8_t> one_class = {1, 1, 1};
  EXPECT_THAT(std::string(FitLogistic(x, one_class).status().message()), HasSubstr("single class"));
  std::vector<uint8_t> y = {1, 0, 1};
  EXPECT_FALSE(FitLogistic(x, y, {.l2_C = 0.0}).ok());
  EXPECT_FALSE(FitLogistic(x, y, {.l2_C = -1.0}).ok());
  std::vector<uint8_t> short_y = {1, 0};
  EXPECT_FALSE(FitLogistic(x, short_y).ok());
  x(1, 0) = std::nan("");
  EXPECT_THAT(std::string(FitLogistic(x, y).status().message()), HasSubstr("row 1"));
}

AccountFrame MakeAccounts(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(50.0, 10.0);
  std::uniform_real_distribution<double> unif;
  std::vector<std::string> ids, plan, churn;
  std::vector<double> usage;
  std::vector<uint8_t> paperless;
  const char* plans[] = {"basic", "pro", "team"};
  for (int i = 0; i < n; ++i) {
    ids.push_back("acct" + std::to_string(i));
    usage.push_back(normal(rng));
    paperless.push_back(unif(rng) < 0.5);
    int k = static_cast<int>(unif(rng) * 3);
    plan.push_back(plans[k]);
    double z = -0.08 * (usage.back() - 50.0) + (k == 0 ? 0.8 : 0.0) + 0.4 * paperless.back() - 1;
    churn.push_back(unif(rng) < Sigmoid(z) ? "Yes" : "No");
  }
  FrameBuilder b(ids);
  b.AddFloat64("usage", usage);
  b.AddBool("paperless", paperless);
  b.AddCategorical("plan", plan);
  b.AddCategorical("Churn", churn);
  return *std::move(b).Build();
}

TEST(LogisticModel, FitsScoresAndRoundTripsThroughJson) {
  AccountFrame f = MakeAccounts(2000, 3);
  auto m = LogisticModel::Fit(f, {.target = "Churn", .positive = "Yes"});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->design().num_features(), 5u);  // usage, paperless, plan x3
  EXPECT_LT(m->coef()[0], 0.0);               // more usage, less churn
  auto p = m->PredictProba(f);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 2000u);

  auto back = LogisticModel::FromJson(m->ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->target(), "Churn");
  EXPECT_EQ(back->positive(), "Yes");
  auto q = back->PredictProba(f);
  ASSERT_TRUE(q.ok());
  for (size_t i = 0; i < p->size(); ++i) ASSERT_DOUBLE_EQ((*p)[i], (*q)[i]);
}

TEST(LogisticModel, FitsOnSelectedRowsAndScoresUnseenCategories) {
  AccountFrame f = MakeAccounts(600, 4);
  std::vector<size_t> rows;
  for (size_t i = 0; i < 600; i += 2) rows.push_back(i);
  auto m = LogisticModel::Fit(f, {.target = "Churn", .positive = "Yes"}, rows);
  ASSERT_TRUE(m.ok()) << m.status();
  FrameBuilder b({"new"});
  b.AddFloat64("usage", {50.0});
  b.AddBool("paperless", {0});
  std::vector<std::string> plan = {"enterprise"};
  b.AddCategorical("plan", plan);
  auto p = m->PredictProba(*std::move(b).Build());
  ASSERT_TRUE(p.ok()) << p.status();
  const double mean = m->design().features()[0].mean;
  const double scale = m->design().features()[0].scale;
  EXPECT_NEAR((*p)[0], Sigmoid(m->intercept() + m->coef()[0] * (50.0 - mean) / scale), 1e-15);
}

TEST(LogisticModel, FromJsonRejectsMalformedModels) {
  AccountFrame f = MakeAccounts(300, 5);
  auto m = LogisticModel::Fit(f, {.target = "Churn", .positive = "Yes"});
  ASSERT_TRUE(m.ok());
  std::string json = m->ToJson();
  EXPECT_FALSE(LogisticModel::FromJson("{").ok());
  EXPECT_FALSE(LogisticModel::FromJson("[]").ok());
  std::string wrong_format = json;
  wrong_format.replace(wrong_format.find("cscore.logistic/1"), 17, "something/else");
  EXPECT_THAT(std::string(LogisticModel::FromJson(wrong_format).status().message()),
              HasSubstr("format"));
  std::string bad_kind = json;
  bad_kind.replace(bad_kind.find("\"numeric\""), 9, "\"complex\"");
  EXPECT_THAT(std::string(LogisticModel::FromJson(bad_kind).status().message()),
              HasSubstr("feature 0"));
  std::string no_coef = json;
  no_coef.replace(no_coef.find("\"coef\""), 6, "\"coff\"");
  EXPECT_FALSE(LogisticModel::FromJson(no_coef).ok());
}

TEST(LogisticModel, ReportsTargetProblems) {
  AccountFrame f = MakeAccounts(100, 6);
  EXPECT_FALSE(LogisticModel::Fit(f, {.target = "Churn"}).ok());  // categorical, no positive
  EXPECT_FALSE(LogisticModel::Fit(f, {.target = "churned", .positive = "Yes"}).ok());
}

TEST(FitScorecardWeights, RecoversKnownNonNegativeWeights) {
  // Churn logit falls with a weighted health score 0.5 a + 0.3 b + 0.2 c; d is noise and
  // e *rises* with churn, so its weight must be clamped to zero, not made negative.
  const int n = 40000;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> score(0.0, 100.0), unif;
  Eigen::MatrixXd s(n, 5);
  std::vector<uint8_t> churned(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 5; ++j) s(i, j) = score(rng);
    double health = 0.5 * s(i, 0) + 0.3 * s(i, 1) + 0.2 * s(i, 2);
    double z = 2.0 - 0.08 * health + 0.01 * s(i, 4);
    churned[i] = unif(rng) < Sigmoid(z);
  }
  auto w = FitScorecardWeights(s, churned);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NEAR(w->weights[0], 0.5, 0.03);
  EXPECT_NEAR(w->weights[1], 0.3, 0.03);
  EXPECT_NEAR(w->weights[2], 0.2, 0.03);
  EXPECT_NEAR(w->weights[3], 0.0, 0.02);
  EXPECT_EQ(w->weights[4], 0.0);
  EXPECT_NEAR(w->weights.sum(), 1.0, 1e-12);
  for (Eigen::Index j = 0; j < 5; ++j) EXPECT_GE(w->coef[j], 0.0);
  EXPECT_NEAR(w->coef[0], 0.04, 0.005);  // 0.08 * 0.5 per point of sub-score
}

TEST(FitScorecardWeights, RejectsBadInput) {
  Eigen::MatrixXd s = Eigen::MatrixXd::Ones(3, 2);
  std::vector<uint8_t> y = {0, 1, 0};
  s(0, 0) = std::nan("");
  EXPECT_FALSE(FitScorecardWeights(s, y).ok());
  EXPECT_FALSE(FitScorecardWeights(Eigen::MatrixXd(3, 0), y).ok());
}

}  // namespace
}  // namespace cscore
