// libFuzzer target: the CSV reader. The first input byte picks the options (id column or
// row numbers, delimiter, a declared type, a small line limit); the rest is the file. The
// reader must return a frame or an error, never crash; a frame it returns must be
// consistent (every column as long as the ids).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cscore/frame/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 1 << 20) return 0;
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  cscore::CsvOptions opt;
  if (mode & 1) opt.id_column = "account_id";
  if (mode & 2) opt.delimiter = ';';
  if (mode & 4) opt.types["nps"] = cscore::ColumnType::kFloat64;
  if (mode & 8) opt.types["renewal_date"] = cscore::ColumnType::kTimestamp;
  if (mode & 16) opt.max_line_bytes = 64;
  auto frame = cscore::ParseCsv(text, "<fuzz>", opt);
  if (!frame.ok()) {
    if (frame.status().message().empty()) std::abort();
    return 0;
  }
  for (const cscore::Column& c : frame->columns()) {
    if (c.size() != frame->num_rows()) std::abort();
    for (size_t i = 0; i < c.size(); ++i) {
      if (c.type == cscore::ColumnType::kCategorical) (void)c.CategoryAt(i);
    }
  }
  if (frame->ids().size() != frame->num_rows()) std::abort();
  return 0;
}
