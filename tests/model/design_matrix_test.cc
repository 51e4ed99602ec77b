#include "cscore/health/design_matrix.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

AccountFrame MakeFrame() {
  FrameBuilder b({"a1", "a2", "a3", "a4"});
  b.AddFloat64("mrr", {1.0, 2.0, 3.0, 4.0});
  b.AddInt64("seats", {10, 10, 20, 20});
  b.AddBool("paperless", {1, 0, 0, 1});
  std::vector<std::string> plan = {"pro", "basic", "pro", "team"};
  b.AddCategorical("plan", plan);
  std::vector<std::string> churn = {"No", "Yes", "No", "Yes"};
  b.AddCategorical("Churn", churn);
  return *std::move(b).Build();
}

TEST(DesignEncoding, StandardisesNumbersAndOneHotsCategoriesSorted) {
  AccountFrame f = MakeFrame();
  auto enc = DesignEncoding::Fit(f, {.exclude = {"Churn"}});
  ASSERT_TRUE(enc.ok()) << enc.status();
  std::vector<std::string> names;
  for (const DesignFeature& feat : enc->features()) names.push_back(feat.Name());
  EXPECT_THAT(names,
              ElementsAre("mrr", "seats", "paperless", "plan=basic", "plan=pro", "plan=team"));
  EXPECT_DOUBLE_EQ(enc->features()[0].mean, 2.5);
  EXPECT_DOUBLE_EQ(enc->features()[0].scale, std::sqrt(1.25));  // population std
  auto x = enc->Transform(f);
  ASSERT_TRUE(x.ok()) << x.status();
  ASSERT_EQ(x->rows(), 4);
  ASSERT_EQ(x->cols(), 6);
  EXPECT_DOUBLE_EQ((*x)(0, 0), -1.5 / std::sqrt(1.25));
  EXPECT_DOUBLE_EQ((*x)(3, 1), 1.0);  // seats: mean 15, std 5
  EXPECT_DOUBLE_EQ((*x)(0, 2), 1.0);  // bools are left as 0/1
  EXPECT_DOUBLE_EQ((*x)(1, 2), 0.0);
  EXPECT_DOUBLE_EQ((*x)(1, 3), 1.0);  // basic
  EXPECT_DOUBLE_EQ((*x)(1, 4), 0.0);
  EXPECT_DOUBLE_EQ((*x)(3, 5), 1.0);  // team
  EXPECT_DOUBLE_EQ(x->row(2).segment(3, 3).sum(), 1.0);
}

TEST(DesignEncoding, FitsOnTheGivenRowsOnly) {
  AccountFrame f = MakeFrame();
  std::vector<size_t> rows = {0, 1};
  auto enc = DesignEncoding::Fit(f, {.exclude = {"Churn"}}, rows);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_DOUBLE_EQ(enc->features()[0].mean, 1.5);
  EXPECT_DOUBLE_EQ(enc->features()[1].scale, 1.0);  // seats constant in these rows
  // Only "basic" and "pro" occur in rows 0 and 1; "team" becomes all zeros at scoring.
  ASSERT_EQ(enc->num_features(), 5u);
  auto x = enc->Transform(f);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_DOUBLE_EQ((*x)(2, 4), 1.0);
  EXPECT_DOUBLE_EQ((*x)(3, 3), 0.0);
  EXPECT_DOUBLE_EQ((*x)(3, 4), 0.0);
  auto sub = enc->Transform(f, rows);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->rows(), 2);
  EXPECT_DOUBLE_EQ((*sub)(1, 0), 1.0);  // (2 - 1.5) / 0.5
}

TEST(DesignEncoding, MissingNumberNamesAccountAndColumn) {
  FrameBuilder b({"acme", "globex"});
  b.AddFloat64("nps", {5.0, std::nan("")});
  AccountFrame f = *std::move(b).Build();
  auto enc = DesignEncoding::Fit(f, {});
  ASSERT_FALSE(enc.ok());
  EXPECT_THAT(std::string(enc.status().message()), HasSubstr("globex"));
  EXPECT_THAT(std::string(enc.status().message()), HasSubstr("nps"));

  auto imputed = DesignEncoding::Fit(f, {.missing = MissingPolicy::kImputeMean});
  ASSERT_TRUE(imputed.ok()) << imputed.status();
  auto x = imputed->Transform(f);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_DOUBLE_EQ((*x)(1, 0), 0.0);

  // A model fitted on complete data refuses a missing value at scoring time.
  FrameBuilder b2({"acme", "globex"});
  b2.AddFloat64("nps", {5.0, 7.0});
  auto strict = DesignEncoding::Fit(*std::move(b2).Build(), {});
  ASSERT_TRUE(strict.ok());
  auto bad = strict->Transform(f);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("account 'globex'"));
}

TEST(DesignEncoding, RejectsTimestampsAndUnknownExcludes) {
  FrameBuilder b({"a"});
  b.AddTimestamp("signed_at", {1700000000});
  b.AddFloat64("x", {1.0});
  AccountFrame f = *std::move(b).Build();
  auto enc = DesignEncoding::Fit(f, {});
  ASSERT_FALSE(enc.ok());
  EXPECT_THAT(std::string(enc.status().message()), HasSubstr("signed_at"));
  EXPECT_TRUE(DesignEncoding::Fit(f, {.exclude = {"signed_at"}}).ok());
  EXPECT_FALSE(DesignEncoding::Fit(f, {.exclude = {"nope"}}).ok());
}

TEST(DesignEncoding, TransformChecksColumnsAndTypes) {
  AccountFrame f = MakeFrame();
  auto enc = DesignEncoding::Fit(f, {.exclude = {"Churn"}});
  ASSERT_TRUE(enc.ok());
  FrameBuilder b({"z"});
  b.AddFloat64("mrr", {1.0});
  auto missing_col = enc->Transform(*std::move(b).Build());
  ASSERT_FALSE(missing_col.ok());
  EXPECT_THAT(std::string(missing_col.status().message()), HasSubstr("seats"));

  FrameBuilder c({"z"});
  std::vector<std::string> mrr = {"high"};
  c.AddCategorical("mrr", mrr);
  auto wrong_type = enc->Transform(*std::move(c).Build());
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_THAT(std::string(wrong_type.status().message()), HasSubstr("mrr"));
  std::vector<size_t> out_of_range = {7};
  EXPECT_FALSE(enc->Transform(f, out_of_range).ok());
}

TEST(DesignEncoding, FromFeaturesValidates) {
  DesignFeature a{.column = "x", .kind = DesignFeature::Kind::kNumeric, .mean = 0, .scale = 0};
  EXPECT_FALSE(DesignEncoding::FromFeatures({a}, MissingPolicy::kError).ok());
  a.scale = 2.0;
  EXPECT_FALSE(DesignEncoding::FromFeatures({a, a}, MissingPolicy::kError).ok());
  EXPECT_TRUE(DesignEncoding::FromFeatures({a}, MissingPolicy::kError).ok());
}

TEST(EncodeTarget, HandlesCategoricalBoolAndNumeric) {
  AccountFrame f = MakeFrame();
  auto y = EncodeTarget(f, "Churn", "Yes");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(*y, ElementsAre(0, 1, 0, 1));
  EXPECT_FALSE(EncodeTarget(f, "Churn", "").ok());
  EXPECT_FALSE(EncodeTarget(f, "Churn", "Maybe").ok());
  auto b = EncodeTarget(f, "paperless", "");
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(*b, ElementsAre(1, 0, 0, 1));
  auto seats = EncodeTarget(f, "seats", "20");
  ASSERT_TRUE(seats.ok());
  EXPECT_THAT(*seats, ElementsAre(0, 0, 1, 1));
  auto not01 = EncodeTarget(f, "seats", "");
  ASSERT_FALSE(not01.ok());
  EXPECT_THAT(std::string(not01.status().message()), HasSubstr("account 'a1'"));
  EXPECT_FALSE(EncodeTarget(f, "nope", "Yes").ok());
}

TEST(StratifiedSplit, KeepsClassSharesAndIsReproducible) {
  std::vector<uint8_t> y(1000, 0);
  for (size_t i = 0; i < 300; ++i) y[i * 3] = 1;
  auto s = StratifiedSplit(y, 0.2, 42);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->test.size(), 200u);
  EXPECT_EQ(s->train.size(), 800u);
  size_t test_pos = 0;
  for (size_t r : s->test) test_pos += y[r];
  EXPECT_EQ(test_pos, 60u);
  std::vector<uint8_t> seen(y.size(), 0);
  for (size_t r : s->train) ++seen[r];
  for (size_t r : s->test) ++seen[r];
  for (uint8_t v : seen) ASSERT_EQ(v, 1);
  auto again = StratifiedSplit(y, 0.2, 42);
  EXPECT_EQ(again->test, s->test);
  auto other = StratifiedSplit(y, 0.2, 43);
  EXPECT_NE(other->test, s->test);
  EXPECT_FALSE(StratifiedSplit(y, 1.0, 1).ok());
  EXPECT_FALSE(StratifiedSplit(y, -0.1, 1).ok());
}

}  // namespace
}  // namespace cscore
