// CSV reading into an AccountFrame, for the CLI and the examples.
//
// Column types are declared (CsvOptions::types) or inferred from the values: float64 when
// every value is a number (integers included: metrics are float64 with NaN for missing, so
// declare a column int64 to keep it integral), timestamp when every value is an ISO-8601
// date or date-time, bool for true/false, categorical otherwise.
// Errors carry "file:line:column:" and the column name.
//
//   cscore::CsvOptions opt{.id_column = "account_id"};
//   absl::StatusOr<cscore::AccountFrame> f = cscore::ReadCsv("accounts.csv", opt);
//   if (!f.ok()) std::cerr << f.status().message();  // accounts.csv:12:7: column 'nps': ...
#ifndef CSCORE_FRAME_CSV_H_
#define CSCORE_FRAME_CSV_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cscore/frame/frame.h"

namespace cscore {

struct CsvOptions {
  // Column holding the account id; empty means the 1-based data row number is the id.
  std::string id_column;
  // Declared types by column name; the others are inferred.
  std::map<std::string, ColumnType, std::less<>> types;
  // Cells that mean "missing" in any column.
  std::vector<std::string> na_values = {"", "NA", "N/A", "NaN", "nan", "null", "NULL"};
  char delimiter = ',';
  // Lines longer than this are rejected (a guard against runaway input).
  size_t max_line_bytes = 16u << 20;
};

absl::StatusOr<AccountFrame> ReadCsv(const std::string& path, const CsvOptions& options = {});
// `source_name` is used in error messages in place of a file name.
absl::StatusOr<AccountFrame> ParseCsv(std::string_view text, std::string_view source_name,
                                      const CsvOptions& options = {});

// Parses "2024-03-01" or "2024-03-01T12:30:00Z" (also with a +hh:mm offset) to seconds
// since the epoch.
absl::StatusOr<int64_t> ParseTimestamp(std::string_view text);

}  // namespace cscore

#endif  // CSCORE_FRAME_CSV_H_
