// Account frame: the columnar table of accounts that every cscore module reads.
//
// A frame is N accounts x M named, typed columns plus a unique account-id column. Columns
// are either owned by the frame or zero-copy views over the caller's buffers, so a CRM
// backend can score its own arrays in place. Frames are immutable once built and cheap to
// copy (the buffers are shared), which makes them safe to read from many threads.
//
//   cscore::FrameBuilder b({"acme", "globex"});
//   b.ViewFloat64("logins_30d", my_logins);            // no copy
//   absl::StatusOr<cscore::AccountFrame> frame = std::move(b).Build();
#ifndef CSCORE_FRAME_FRAME_H_
#define CSCORE_FRAME_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cscore {

// kTimestamp holds seconds since the Unix epoch (UTC) in an int64.
enum class ColumnType : uint8_t { kFloat64, kInt64, kBool, kCategorical, kTimestamp };

// "float64", "int64", "bool", "categorical", "timestamp".
std::string_view ColumnTypeName(ColumnType type);
// Accepts the names above and the aliases "double", "float", "int", "string", "category".
absl::StatusOr<ColumnType> ParseColumnType(std::string_view name);

// A read-only view of one column. Exactly the span that matches `type` is set.
// Missing values: NaN for float64, code -1 for categorical, and for the other types a
// zero in `valid` (an empty `valid` means every row is present).
struct Column {
  std::string name;
  ColumnType type = ColumnType::kFloat64;
  std::span<const double> f64;
  std::span<const int64_t> i64;  // kInt64 and kTimestamp
  std::span<const uint8_t> b;    // kBool, 0 or 1
  std::span<const int32_t> codes;
  std::span<const std::string> dictionary;
  std::span<const uint8_t> valid;

  size_t size() const;
  bool IsMissing(size_t row) const;
  // The category string of a row; empty when missing. Only for kCategorical.
  std::string_view CategoryAt(size_t row) const;
  // Dictionary code of `value`, or -1 when the column never contains it.
  int32_t CodeOf(std::string_view value) const;
  // Zero-copy Eigen view of a float64 column.
  Eigen::Map<const Eigen::VectorXd> AsEigen() const;
};

struct ColumnSpec {
  std::string name;
  ColumnType type;
};

class AccountFrame {
 public:
  AccountFrame();

  size_t num_rows() const;
  size_t num_columns() const;
  std::span<const std::string> ids() const;
  const Column& column(size_t index) const;
  std::span<const Column> columns() const;
  std::vector<ColumnSpec> schema() const;

  // nullptr when absent.
  const Column* Find(std::string_view name) const;
  // NotFound naming the column (and listing close matches) when absent.
  absl::StatusOr<const Column*> Get(std::string_view name) const;
  // Row index of an account id.
  std::optional<size_t> RowOf(std::string_view account_id) const;

  // A frame of the given rows (in that order), sharing dictionaries; values are copied.
  AccountFrame Take(std::span<const size_t> rows) const;

 private:
  friend class FrameBuilder;
  struct Storage;
  std::shared_ptr<const Storage> storage_;
};

// Collects columns, then validates them all at once in Build(): equal lengths, unique
// column names, unique non-empty account ids. The first problem found is returned and no
// frame is produced.
class FrameBuilder {
 public:
  explicit FrameBuilder(std::vector<std::string> account_ids);
  // Zero-copy ids: the caller keeps `account_ids` alive as long as the frame.
  explicit FrameBuilder(std::span<const std::string> account_ids);
  FrameBuilder(FrameBuilder&&) noexcept;
  FrameBuilder& operator=(FrameBuilder&&) noexcept;
  ~FrameBuilder();

  // Owned columns.
  FrameBuilder& AddFloat64(std::string name, std::vector<double> values);
  FrameBuilder& AddInt64(std::string name, std::vector<int64_t> values,
                         std::vector<uint8_t> valid = {});
  FrameBuilder& AddBool(std::string name, std::vector<uint8_t> values,
                        std::vector<uint8_t> valid = {});
  FrameBuilder& AddTimestamp(std::string name, std::vector<int64_t> seconds,
                             std::vector<uint8_t> valid = {});
  // Dictionary-encodes the strings; `missing` marks rows with no value (may be empty).
  FrameBuilder& AddCategorical(std::string name, std::span<const std::string> values,
                               std::vector<uint8_t> missing = {});
  FrameBuilder& AddCategoricalCodes(std::string name, std::vector<int32_t> codes,
                                    std::vector<std::string> dictionary);

  // Zero-copy views: the caller keeps the buffers alive and unchanged as long as the frame.
  FrameBuilder& ViewFloat64(std::string name, std::span<const double> values);
  FrameBuilder& ViewInt64(std::string name, std::span<const int64_t> values,
                          std::span<const uint8_t> valid = {});
  FrameBuilder& ViewBool(std::string name, std::span<const uint8_t> values,
                         std::span<const uint8_t> valid = {});
  FrameBuilder& ViewTimestamp(std::string name, std::span<const int64_t> seconds,
                              std::span<const uint8_t> valid = {});
  FrameBuilder& ViewCategorical(std::string name, std::span<const int32_t> codes,
                                std::span<const std::string> dictionary);

  absl::StatusOr<AccountFrame> Build() &&;

 private:
  std::unique_ptr<AccountFrame::Storage> storage_;
};

}  // namespace cscore

#endif  // CSCORE_FRAME_FRAME_H_
