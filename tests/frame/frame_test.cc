#include "cscore/frame/frame.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(FrameTest, ViewsShareTheCallersBuffers) {
  std::vector<double> logins = {1.0, 2.0, NAN};
  std::vector<int64_t> seats = {10, 20, 30};
  FrameBuilder b({"a", "b", "c"});
  b.ViewFloat64("logins", logins).ViewInt64("seats", seats);
  absl::StatusOr<AccountFrame> f = std::move(b).Build();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Find("logins")->f64.data(), logins.data());
  EXPECT_EQ(f->Find("seats")->i64.data(), seats.data());
  EXPECT_TRUE(f->Find("logins")->IsMissing(2));
  EXPECT_EQ(f->Find("logins")->AsEigen().head(2).sum(), 3.0);
  EXPECT_EQ(f->RowOf("b"), 1u);
  EXPECT_FALSE(f->RowOf("zzz").has_value());
}

TEST(FrameTest, DuplicateAccountIdIsNamed) {
  FrameBuilder b({"acme", "globex", "acme"});
  absl::StatusOr<AccountFrame> f = std::move(b).Build();
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("duplicate account id 'acme'"));
  EXPECT_THAT(f.status().message(), HasSubstr("rows 1 and 3"));
}

TEST(FrameTest, LengthMismatchAndDuplicateColumnsAreErrors) {
  FrameBuilder b({"a", "b"});
  b.AddFloat64("x", {1.0});
  EXPECT_THAT(std::move(b).Build().status().message(), HasSubstr("'x' has 1 values for 2"));
  FrameBuilder c({"a"});
  c.AddFloat64("x", {1.0}).AddInt64("x", {1});
  EXPECT_THAT(std::move(c).Build().status().message(), HasSubstr("duplicate column 'x'"));
}

TEST(FrameTest, CategoricalDictionaryEncodingAndMissing) {
  std::vector<std::string> seg = {"SMB", "Enterprise", "SMB", ""};
  FrameBuilder b({"a", "b", "c", "d"});
  b.AddCategorical("segment", seg, {0, 0, 0, 1});
  absl::StatusOr<AccountFrame> f = std::move(b).Build();
  ASSERT_TRUE(f.ok());
  const Column* c = f->Find("segment");
  EXPECT_EQ(c->dictionary.size(), 2u);
  EXPECT_EQ(c->codes[0], c->codes[2]);
  EXPECT_EQ(c->CategoryAt(1), "Enterprise");
  EXPECT_TRUE(c->IsMissing(3));
  EXPECT_EQ(c->CodeOf("SMB"), c->codes[0]);
  EXPECT_EQ(c->CodeOf("Nope"), -1);
}

TEST(FrameTest, UnknownColumnSuggestsCloseName) {
  FrameBuilder b({"a"});
  b.AddFloat64("logins_30d", {1.0});
  absl::StatusOr<AccountFrame> f = std::move(b).Build();
  ASSERT_TRUE(f.ok());
  absl::StatusOr<const Column*> c = f->Get("login_30d");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("did you mean 'logins_30d'"));
}

TEST(FrameTest, TakeSelectsRowsInOrder) {
  FrameBuilder b({"a", "b", "c"});
  b.AddFloat64("x", {1.0, 2.0, 3.0}).AddCategorical("s", std::vector<std::string>{"p", "q", "p"});
  AccountFrame f = *std::move(b).Build();
  std::vector<size_t> rows = {2, 0};
  AccountFrame t = f.Take(rows);
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.ids()[0], "c");
  EXPECT_EQ(t.Find("x")->f64[0], 3.0);
  EXPECT_EQ(t.Find("s")->CategoryAt(1), "p");
}

}  // namespace
}  // namespace cscore
