#include "cscore/frame/frame.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cscore/base/strings.h"

namespace cscore {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kFloat64:
      return "float64";
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kCategorical:
      return "categorical";
    case ColumnType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

absl::StatusOr<ColumnType> ParseColumnType(std::string_view name) {
  std::string n = absl::AsciiStrToLower(ToAbsl(name));
  if (n == "float64" || n == "double" || n == "float" || n == "number") {
    return ColumnType::kFloat64;
  }
  if (n == "int64" || n == "int" || n == "integer") return ColumnType::kInt64;
  if (n == "bool" || n == "boolean") return ColumnType::kBool;
  if (n == "categorical" || n == "category" || n == "string") return ColumnType::kCategorical;
  if (n == "timestamp" || n == "date" || n == "datetime") return ColumnType::kTimestamp;
  return absl::InvalidArgumentError(
      StrCat("unknown column type '", name,
             "' (expected float64, int64, bool, categorical or timestamp)"));
}

size_t Column::size() const {
  switch (type) {
    case ColumnType::kFloat64:
      return f64.size();
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      return i64.size();
    case ColumnType::kBool:
      return b.size();
    case ColumnType::kCategorical:
      return codes.size();
  }
  return 0;
}

bool Column::IsMissing(size_t row) const {
  switch (type) {
    case ColumnType::kFloat64:
      return std::isnan(f64[row]);
    case ColumnType::kCategorical:
      return codes[row] < 0;
    default:
      return !valid.empty() && valid[row] == 0;
  }
}

std::string_view Column::CategoryAt(size_t row) const {
  if (type != ColumnType::kCategorical || codes[row] < 0) return {};
  return dictionary[static_cast<size_t>(codes[row])];
}

int32_t Column::CodeOf(std::string_view value) const {
  for (size_t i = 0; i < dictionary.size(); ++i) {
    if (dictionary[i] == value) return static_cast<int32_t>(i);
  }
  return -1;
}

Eigen::Map<const Eigen::VectorXd> Column::AsEigen() const {
  return Eigen::Map<const Eigen::VectorXd>(f64.data(), static_cast<Eigen::Index>(f64.size()));
}

// Owned buffers live here; Column spans point either into them or into caller memory.
// Deques of vectors would do too, but each buffer is moved in exactly once, so a vector of
// unique_ptr keeps every pointer stable.
struct AccountFrame::Storage {
  std::vector<std::string> owned_ids;
  std::span<const std::string> ids;
  std::vector<Column> columns;
  StringMap<size_t> column_index;
  absl::flat_hash_map<std::string_view, size_t> row_index;

  std::vector<std::unique_ptr<std::vector<double>>> f64_buffers;
  std::vector<std::unique_ptr<std::vector<int64_t>>> i64_buffers;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> u8_buffers;
  std::vector<std::unique_ptr<std::vector<int32_t>>> code_buffers;
  std::vector<std::unique_ptr<std::vector<std::string>>> dictionaries;

  // The first problem seen while adding columns; Build() reports it.
  absl::Status error;

  template <typename T>
  std::span<const T> Keep(std::vector<std::unique_ptr<std::vector<T>>>& pool,
                          std::vector<T> values) {
    pool.push_back(std::make_unique<std::vector<T>>(std::move(values)));
    return *pool.back();
  }
};

AccountFrame::AccountFrame() : storage_(std::make_shared<Storage>()) {}

size_t AccountFrame::num_rows() const { return storage_->ids.size(); }
size_t AccountFrame::num_columns() const { return storage_->columns.size(); }
std::span<const std::string> AccountFrame::ids() const { return storage_->ids; }
const Column& AccountFrame::column(size_t index) const { return storage_->columns[index]; }
std::span<const Column> AccountFrame::columns() const { return storage_->columns; }

std::vector<ColumnSpec> AccountFrame::schema() const {
  std::vector<ColumnSpec> out;
  out.reserve(storage_->columns.size());
  for (const Column& c : storage_->columns) out.push_back({c.name, c.type});
  return out;
}

const Column* AccountFrame::Find(std::string_view name) const {
  auto it = storage_->column_index.find(name);
  return it == storage_->column_index.end() ? nullptr : &storage_->columns[it->second];
}

namespace {

// Levenshtein distance, for "did you mean" hints on unknown column names.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

absl::StatusOr<const Column*> AccountFrame::Get(std::string_view name) const {
  if (const Column* c = Find(name)) return c;
  std::string hint;
  size_t best = 3;
  for (const Column& c : storage_->columns) {
    size_t d = EditDistance(name, c.name);
    if (d < best) {
      best = d;
      hint = StrCat(" (did you mean '", c.name, "'?)");
    }
  }
  return absl::NotFoundError(StrCat("unknown column '", name, "'", hint));
}

std::optional<size_t> AccountFrame::RowOf(std::string_view account_id) const {
  auto it = storage_->row_index.find(account_id);
  if (it == storage_->row_index.end()) return std::nullopt;
  return it->second;
}

namespace {

template <typename T>
std::vector<T> Gather(std::span<const T> src, std::span<const size_t> rows) {
  std::vector<T> out;
  if (src.empty()) return out;
  out.reserve(rows.size());
  for (size_t r : rows) out.push_back(src[r]);
  return out;
}

}  // namespace

AccountFrame AccountFrame::Take(std::span<const size_t> rows) const {
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (size_t r : rows) ids.push_back(storage_->ids[r]);
  FrameBuilder b(std::move(ids));
  for (const Column& c : storage_->columns) {
    switch (c.type) {
      case ColumnType::kFloat64:
        b.AddFloat64(c.name, Gather(c.f64, rows));
        break;
      case ColumnType::kInt64:
        b.AddInt64(c.name, Gather(c.i64, rows), Gather(c.valid, rows));
        break;
      case ColumnType::kTimestamp:
        b.AddTimestamp(c.name, Gather(c.i64, rows), Gather(c.valid, rows));
        break;
      case ColumnType::kBool:
        b.AddBool(c.name, Gather(c.b, rows), Gather(c.valid, rows));
        break;
      case ColumnType::kCategorical:
        b.AddCategoricalCodes(c.name, Gather(c.codes, rows),
                              std::vector<std::string>(c.dictionary.begin(), c.dictionary.end()));
        break;
    }
  }
  // Rows of a valid frame are valid: Build cannot fail here.
  return *std::move(b).Build();
}

FrameBuilder::FrameBuilder(std::vector<std::string> account_ids)
    : storage_(std::make_unique<AccountFrame::Storage>()) {
  storage_->owned_ids = std::move(account_ids);
  storage_->ids = storage_->owned_ids;
}

FrameBuilder::FrameBuilder(std::span<const std::string> account_ids)
    : storage_(std::make_unique<AccountFrame::Storage>()) {
  storage_->ids = account_ids;
}

FrameBuilder::FrameBuilder(FrameBuilder&&) noexcept = default;
FrameBuilder& FrameBuilder::operator=(FrameBuilder&&) noexcept = default;
FrameBuilder::~FrameBuilder() = default;

namespace {

Column MakeColumn(std::string name, ColumnType type) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  return c;
}

}  // namespace

FrameBuilder& FrameBuilder::AddFloat64(std::string name, std::vector<double> values) {
  Column c = MakeColumn(std::move(name), ColumnType::kFloat64);
  c.f64 = storage_->Keep(storage_->f64_buffers, std::move(values));
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::AddInt64(std::string name, std::vector<int64_t> values,
                                     std::vector<uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kInt64);
  c.i64 = storage_->Keep(storage_->i64_buffers, std::move(values));
  if (!valid.empty()) c.valid = storage_->Keep(storage_->u8_buffers, std::move(valid));
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::AddBool(std::string name, std::vector<uint8_t> values,
                                    std::vector<uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kBool);
  for (uint8_t& v : values) v = v ? 1 : 0;
  c.b = storage_->Keep(storage_->u8_buffers, std::move(values));
  if (!valid.empty()) c.valid = storage_->Keep(storage_->u8_buffers, std::move(valid));
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::AddTimestamp(std::string name, std::vector<int64_t> seconds,
                                         std::vector<uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kTimestamp);
  c.i64 = storage_->Keep(storage_->i64_buffers, std::move(seconds));
  if (!valid.empty()) c.valid = storage_->Keep(storage_->u8_buffers, std::move(valid));
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::AddCategorical(std::string name, std::span<const std::string> values,
                                           std::vector<uint8_t> missing) {
  std::vector<int32_t> codes(values.size(), -1);
  std::vector<std::string> dictionary;
  absl::flat_hash_map<std::string_view, int32_t> seen;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!missing.empty() && missing[i]) continue;
    auto [it, inserted] = seen.try_emplace(values[i], static_cast<int32_t>(dictionary.size()));
    if (inserted) dictionary.push_back(values[i]);
    codes[i] = it->second;
  }
  return AddCategoricalCodes(std::move(name), std::move(codes), std::move(dictionary));
}

FrameBuilder& FrameBuilder::AddCategoricalCodes(std::string name, std::vector<int32_t> codes,
                                                std::vector<std::string> dictionary) {
  Column c = MakeColumn(std::move(name), ColumnType::kCategorical);
  c.codes = storage_->Keep(storage_->code_buffers, std::move(codes));
  storage_->dictionaries.push_back(
      std::make_unique<std::vector<std::string>>(std::move(dictionary)));
  c.dictionary = *storage_->dictionaries.back();
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::ViewFloat64(std::string name, std::span<const double> values) {
  Column c = MakeColumn(std::move(name), ColumnType::kFloat64);
  c.f64 = values;
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::ViewInt64(std::string name, std::span<const int64_t> values,
                                      std::span<const uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kInt64);
  c.i64 = values;
  c.valid = valid;
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::ViewBool(std::string name, std::span<const uint8_t> values,
                                     std::span<const uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kBool);
  c.b = values;
  c.valid = valid;
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::ViewTimestamp(std::string name, std::span<const int64_t> seconds,
                                          std::span<const uint8_t> valid) {
  Column c = MakeColumn(std::move(name), ColumnType::kTimestamp);
  c.i64 = seconds;
  c.valid = valid;
  storage_->columns.push_back(std::move(c));
  return *this;
}

FrameBuilder& FrameBuilder::ViewCategorical(std::string name, std::span<const int32_t> codes,
                                            std::span<const std::string> dictionary) {
  Column c = MakeColumn(std::move(name), ColumnType::kCategorical);
  c.codes = codes;
  c.dictionary = dictionary;
  storage_->columns.push_back(std::move(c));
  return *this;
}

absl::StatusOr<AccountFrame> FrameBuilder::Build() && {
  if (!storage_) return absl::FailedPreconditionError("FrameBuilder used after Build()");
  AccountFrame::Storage& s = *storage_;
  const size_t n = s.ids.size();
  s.row_index.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (s.ids[i].empty()) {
      return absl::InvalidArgumentError(StrCat("account id of row ", i + 1, " is empty"));
    }
    auto [it, inserted] = s.row_index.try_emplace(s.ids[i], i);
    if (!inserted) {
      return absl::InvalidArgumentError(StrCat("duplicate account id '", s.ids[i], "' (rows ",
                                               it->second + 1, " and ", i + 1, ")"));
    }
  }
  for (size_t ci = 0; ci < s.columns.size(); ++ci) {
    const Column& c = s.columns[ci];
    if (c.name.empty()) {
      return absl::InvalidArgumentError(StrCat("column ", ci + 1, " has no name"));
    }
    if (!s.column_index.try_emplace(c.name, ci).second) {
      return absl::InvalidArgumentError(StrCat("duplicate column '", c.name, "'"));
    }
    if (c.size() != n) {
      return absl::InvalidArgumentError(
          StrCat("column '", c.name, "' has ", c.size(), " values for ", n, " accounts"));
    }
    if (!c.valid.empty() && c.valid.size() != n) {
      return absl::InvalidArgumentError(StrCat("column '", c.name, "' has ", c.valid.size(),
                                               " validity flags for ", n, " accounts"));
    }
    if (c.type == ColumnType::kCategorical) {
      const auto dict_size = static_cast<int64_t>(c.dictionary.size());
      for (size_t r = 0; r < n; ++r) {
        if (c.codes[r] >= dict_size || c.codes[r] < -1) {
          return absl::InvalidArgumentError(StrCat("account '", s.ids[r], "', column '", c.name,
                                                   "': category code ", c.codes[r],
                                                   " is outside the dictionary of ", dict_size));
        }
      }
    }
  }
  AccountFrame frame;
  frame.storage_ = std::shared_ptr<const AccountFrame::Storage>(std::move(storage_));
  return frame;
}

}  // namespace cscore
