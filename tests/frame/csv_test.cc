#include "cscore/frame/csv.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(CsvTest, InfersTypesAndReadsQuotedFields) {
  const char* text =
      "account_id,logins,segment,active,renewal,note\n"
      "acme,12,SMB,true,2025-01-31,\"says \"\"hi\"\", twice\"\n"
      "globex,,Enterprise,false,2025-03-01T00:00:00Z,\"multi\nline\"\n";
  absl::StatusOr<AccountFrame> f =
      ParseCsv(text, "t.csv", {.id_column = "account_id", .types = {}});
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->num_rows(), 2u);
  EXPECT_EQ(f->ids()[1], "globex");
  EXPECT_EQ(f->Find("logins")->type, ColumnType::kFloat64);
  EXPECT_TRUE(std::isnan(f->Find("logins")->f64[1]));
  EXPECT_EQ(f->Find("segment")->type, ColumnType::kCategorical);
  EXPECT_EQ(f->Find("active")->type, ColumnType::kBool);
  EXPECT_EQ(f->Find("renewal")->type, ColumnType::kTimestamp);
  EXPECT_EQ(f->Find("renewal")->i64[0], 1738281600);
  EXPECT_EQ(f->Find("note")->CategoryAt(0), "says \"hi\", twice");
  EXPECT_EQ(f->Find("note")->CategoryAt(1), "multi\nline");
}

TEST(CsvTest, DeclaredTypesWin) {
  CsvOptions opt;
  opt.types["seats"] = ColumnType::kInt64;
  absl::StatusOr<AccountFrame> f = ParseCsv("seats\n3\n\n4\n", "t.csv", opt);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Find("seats")->type, ColumnType::kInt64);
  EXPECT_EQ(f->ids()[1], "2");  // row numbers are ids without an id column
}

TEST(CsvTest, ErrorsNameFileLineAndColumn) {
  EXPECT_THAT(ParseCsv("", "e.csv").status().message(), HasSubstr("e.csv: empty file"));
  EXPECT_THAT(ParseCsv("a,b\n", "e.csv").status().message(), HasSubstr("no data rows"));
  EXPECT_THAT(ParseCsv("a,b\n1,2\n3\n", "r.csv").status().message(),
              HasSubstr("r.csv:3:1: row has 1 fields, the header has 2"));
  EXPECT_THAT(ParseCsv("a,b\n1,2,3\n", "r.csv").status().message(),
              HasSubstr("r.csv:2:5: row has 3 fields"));
  CsvOptions opt;
  opt.types["n"] = ColumnType::kFloat64;
  EXPECT_THAT(ParseCsv("id,n\nx,1\ny,abc\n", "n.csv", opt).status().message(),
              HasSubstr("n.csv:3:3: column 'n': 'abc' is not a number"));
  EXPECT_THAT(
      ParseCsv("id,n\nx,1\nx,2\n", "d.csv", {.id_column = "id", .types = {}}).status().message(),
      HasSubstr("d.csv:3:1: duplicate account id 'x' (first on line 2)"));
  EXPECT_THAT(ParseCsv("a\n\"open\n", "q.csv").status().message(),
              HasSubstr("q.csv:2:1: unterminated quoted field"));
  EXPECT_THAT(ParseCsv("a,a\n1,2\n", "h.csv").status().message(),
              HasSubstr("h.csv:1:3: duplicate column 'a'"));
  EXPECT_THAT(ParseCsv("id,n\nx,inf\n", "i.csv", opt).status().message(),
              HasSubstr("i.csv:2:3: column 'n': 'inf' is not a finite number"));
  EXPECT_THAT(ParseCsv("s\n\xff\xfe\n", "u.csv").status().message(),
              HasSubstr("u.csv:2:1: column 's': value is not valid UTF-8"));
  EXPECT_THAT(ParseCsv("a\n1\n", "x.csv", {.id_column = "id", .types = {}}).status().message(),
              HasSubstr("id column 'id' is not in the header"));
}

TEST(CsvTest, OverlongLineIsRejectedNotCrashed) {
  std::string text = "a\n" + std::string(5000, 'x') + "\n";
  CsvOptions opt;
  opt.max_line_bytes = 1000;
  EXPECT_THAT(ParseCsv(text, "l.csv", opt).status().message(),
              HasSubstr("l.csv:2:1: line longer than 1000 bytes"));
}

TEST(CsvTest, ReadsTheShippedTelcoSample) {
  // The shared data set when present; the parser must take all 7,043 rows.
  const std::string path = std::string(CSCORE_SHARED_DIR) + "/data/telco_customer_churn.csv";
  absl::StatusOr<AccountFrame> f = ReadCsv(path);
  if (!f.ok() && f.status().code() == absl::StatusCode::kNotFound) GTEST_SKIP() << "no shared data";
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->num_rows(), 7043u);
  EXPECT_EQ(f->Find("TotalCharges")->type, ColumnType::kFloat64);
  EXPECT_EQ(f->Find("Churn")->type, ColumnType::kCategorical);
}

}  // namespace
}  // namespace cscore
