#include "cscore/frame/csv.h"

#include <charconv>
#include <cmath>
#include <deque>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cscore/base/strings.h"

namespace cscore {

namespace {

// A cell of the table: its text (unquoted) and where it started in the source.
struct Cell {
  std::string_view text;
  uint32_t line;
  uint32_t column;
};

class CsvError {
 public:
  explicit CsvError(std::string_view source) : source_(source) {}
  absl::Status At(uint32_t line, uint32_t column, std::string_view message) const {
    return absl::InvalidArgumentError(StrCat(source_, ":", line, ":", column, ": ", message));
  }
  absl::Status At(const Cell& cell, std::string_view message) const {
    return At(cell.line, cell.column, message);
  }
  absl::Status File(std::string_view message) const {
    return absl::InvalidArgumentError(StrCat(source_, ": ", message));
  }

 private:
  std::string_view source_;
};

// Offset of the first byte that is not valid UTF-8, or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    }
    if (len == 2 && c < 0xC2) return i;  // overlong
    i += len;
  }
  return std::string_view::npos;
}

// Splits the text into rows of cells (RFC 4180: quoted fields may hold delimiters, doubled
// quotes and newlines). Unescaped quoted cells are kept in `arena`.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, const CsvOptions& options, const CsvError& err)
      : text_(text), options_(options), err_(err) {}

  // Reads the next row into `cells`; false at the end of input.
  absl::StatusOr<bool> Next(std::vector<Cell>& cells) {
    cells.clear();
    // Skip blank lines between records.
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
      if (text_[pos_] == '\n') NewLine(pos_ + 1);
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    const size_t row_start = pos_;
    while (true) {
      Cell cell{{}, line_, static_cast<uint32_t>(pos_ - line_start_ + 1)};
      if (pos_ < text_.size() && text_[pos_] == '"') {
        absl::Status s = Quoted(cell);
        if (!s.ok()) return s;
      } else {
        const size_t begin = pos_;
        while (pos_ < text_.size() && text_[pos_] != options_.delimiter && text_[pos_] != '\n' &&
               text_[pos_] != '\r') {
          if (text_[pos_] == '"') {
            return err_.At(line_, static_cast<uint32_t>(pos_ - line_start_ + 1),
                           "quote inside an unquoted field (quote the whole field)");
          }
          ++pos_;
        }
        cell.text = text_.substr(begin, pos_ - begin);
      }
      cells.push_back(cell);
      if (pos_ - row_start > options_.max_line_bytes) {
        return err_.At(cell.line, 1,
                       StrCat("line longer than ", options_.max_line_bytes, " bytes"));
      }
      if (pos_ >= text_.size()) return true;
      const char c = text_[pos_];
      if (c == options_.delimiter) {
        ++pos_;
        continue;
      }
      // End of record: \n, \r\n or \r.
      if (c == '\r') ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      NewLine(pos_);
      return true;
    }
  }

  std::deque<std::string>& arena() { return arena_; }

 private:
  void NewLine(size_t next_line_start) {
    ++line_;
    line_start_ = next_line_start;
  }

  absl::Status Quoted(Cell& cell) {
    const uint32_t open_line = line_, open_col = cell.column;
    ++pos_;  // opening quote
    const size_t begin = pos_;
    bool escaped = false;
    while (true) {
      if (pos_ >= text_.size()) {
        return err_.At(open_line, open_col, "unterminated quoted field");
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          escaped = true;
          pos_ += 2;
          continue;
        }
        break;
      }
      if (c == '\n') NewLine(pos_ + 1);
      ++pos_;
    }
    std::string_view raw = text_.substr(begin, pos_ - begin);
    ++pos_;  // closing quote
    if (pos_ < text_.size() && text_[pos_] != options_.delimiter && text_[pos_] != '\n' &&
        text_[pos_] != '\r') {
      return err_.At(line_, static_cast<uint32_t>(pos_ - line_start_ + 1),
                     "unexpected character after a closing quote");
    }
    if (!escaped) {
      cell.text = raw;
      return absl::OkStatus();
    }
    std::string unescaped;
    unescaped.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      unescaped.push_back(raw[i]);
      if (raw[i] == '"') ++i;  // a doubled quote stands for one
    }
    arena_.push_back(std::move(unescaped));
    cell.text = arena_.back();
    return absl::OkStatus();
  }

  std::string_view text_;
  const CsvOptions& options_;
  const CsvError& err_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
  std::deque<std::string> arena_;
};

std::string_view Trim(std::string_view s) { return ToStd(absl::StripAsciiWhitespace(ToAbsl(s))); }

bool ParseDouble(std::string_view s, double& out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseInt(std::string_view s, int64_t& out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseBool(std::string_view s, uint8_t& out) {
  std::string v = absl::AsciiStrToLower(ToAbsl(Trim(s)));
  if (v == "true") {
    out = 1;
    return true;
  }
  if (v == "false") {
    out = 0;
    return true;
  }
  return false;
}

class ColumnParser {
 public:
  ColumnParser(const CsvError& err, const CsvOptions& options) : err_(err), options_(options) {}

  bool IsNa(std::string_view text) const {
    for (const std::string& na : options_.na_values) {
      if (text == na) return true;
    }
    return Trim(text).empty();
  }

  // Infers the type of a column from its non-missing cells.
  ColumnType Infer(const std::vector<Cell>& cells) const {
    bool all_number = true, all_bool = true, all_time = true, any = false;
    double d;
    uint8_t b;
    for (const Cell& c : cells) {
      if (IsNa(c.text)) continue;
      any = true;
      all_number = all_number && ParseDouble(c.text, d) && std::isfinite(d);
      all_bool = all_bool && ParseBool(c.text, b);
      all_time = all_time && !all_number && ParseTimestamp(Trim(c.text)).ok();
      if (!all_number && !all_bool && !all_time) return ColumnType::kCategorical;
    }
    if (!any || all_number) return ColumnType::kFloat64;
    if (all_bool) return ColumnType::kBool;
    if (all_time) return ColumnType::kTimestamp;
    return ColumnType::kCategorical;
  }

  absl::Status Add(FrameBuilder& builder, const std::string& name, ColumnType type,
                   const std::vector<Cell>& cells) const {
    const size_t n = cells.size();
    auto bad = [&](const Cell& c, std::string_view what) {
      return err_.At(c, StrCat("column '", name, "': '", Shorten(c.text), "' is not ", what));
    };
    switch (type) {
      case ColumnType::kFloat64: {
        std::vector<double> v(n, std::numeric_limits<double>::quiet_NaN());
        for (size_t i = 0; i < n; ++i) {
          if (IsNa(cells[i].text)) continue;
          if (!ParseDouble(cells[i].text, v[i])) return bad(cells[i], "a number");
          if (!std::isfinite(v[i])) {
            return err_.At(cells[i], StrCat("column '", name, "': '", cells[i].text,
                                            "' is not a finite number (use an empty cell "
                                            "for a missing value)"));
          }
        }
        builder.AddFloat64(name, std::move(v));
        return absl::OkStatus();
      }
      case ColumnType::kInt64: {
        std::vector<int64_t> v(n, 0);
        std::vector<uint8_t> valid(n, 1);
        bool any_missing = false;
        for (size_t i = 0; i < n; ++i) {
          if (IsNa(cells[i].text)) {
            valid[i] = 0;
            any_missing = true;
          } else if (!ParseInt(cells[i].text, v[i])) {
            return bad(cells[i], "an integer");
          }
        }
        builder.AddInt64(name, std::move(v),
                         any_missing ? std::move(valid) : std::vector<uint8_t>{});
        return absl::OkStatus();
      }
      case ColumnType::kBool: {
        std::vector<uint8_t> v(n, 0), valid(n, 1);
        bool any_missing = false;
        for (size_t i = 0; i < n; ++i) {
          if (IsNa(cells[i].text)) {
            valid[i] = 0;
            any_missing = true;
          } else if (!ParseBool(cells[i].text, v[i])) {
            return bad(cells[i], "true or false");
          }
        }
        builder.AddBool(name, std::move(v),
                        any_missing ? std::move(valid) : std::vector<uint8_t>{});
        return absl::OkStatus();
      }
      case ColumnType::kTimestamp: {
        std::vector<int64_t> v(n, 0);
        std::vector<uint8_t> valid(n, 1);
        bool any_missing = false;
        for (size_t i = 0; i < n; ++i) {
          if (IsNa(cells[i].text)) {
            valid[i] = 0;
            any_missing = true;
            continue;
          }
          absl::StatusOr<int64_t> t = ParseTimestamp(Trim(cells[i].text));
          if (!t.ok()) return bad(cells[i], "a date (YYYY-MM-DD or RFC 3339)");
          v[i] = *t;
        }
        builder.AddTimestamp(name, std::move(v),
                             any_missing ? std::move(valid) : std::vector<uint8_t>{});
        return absl::OkStatus();
      }
      case ColumnType::kCategorical: {
        std::vector<std::string> v(n);
        std::vector<uint8_t> missing(n, 0);
        for (size_t i = 0; i < n; ++i) {
          if (IsNa(cells[i].text)) {
            missing[i] = 1;
            continue;
          }
          v[i] = std::string(cells[i].text);
        }
        builder.AddCategorical(name, v, std::move(missing));
        return absl::OkStatus();
      }
    }
    return absl::InternalError("unhandled column type");
  }

  static std::string Shorten(std::string_view s) {
    return s.size() <= 40 ? std::string(s) : StrCat(s.substr(0, 37), "...");
  }

 private:
  const CsvError& err_;
  const CsvOptions& options_;
};

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(std::string_view text) {
  std::string s(text);
  absl::Time t;
  std::string error;
  for (const char* format :
       {"%Y-%m-%d", absl::RFC3339_full, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"}) {
    if (absl::ParseTime(format, s, absl::UTCTimeZone(), &t, &error)) {
      return absl::ToUnixSeconds(t);
    }
  }
  return absl::InvalidArgumentError(StrCat("'", text, "' is not a date or date-time"));
}

absl::StatusOr<AccountFrame> ParseCsv(std::string_view text, std::string_view source_name,
                                      const CsvOptions& options) {
  CsvError err(source_name);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  Tokenizer tok(text, options, err);
  std::vector<Cell> header;
  absl::StatusOr<bool> more = tok.Next(header);
  if (!more.ok()) return more.status();
  if (!*more) return err.File("empty file: expected a header line");

  const size_t width = header.size();
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t j = 0; j < width; ++j) {
    std::string name(Trim(header[j].text));
    if (size_t bad = InvalidUtf8At(name); bad != std::string_view::npos) {
      return err.At(header[j], "column name is not valid UTF-8");
    }
    if (name.empty()) return err.At(header[j], StrCat("column ", j + 1, " has no name"));
    if (auto [it, ok] = seen.try_emplace(name, j); !ok) {
      return err.At(header[j], StrCat("duplicate column '", name, "'"));
    }
    names.push_back(std::move(name));
  }
  for (const auto& [name, type] : options.types) {
    if (!seen.contains(name)) {
      return err.File(StrCat("declared column '", name, "' is not in the header (",
                             absl::StrJoin(names, ", "), ")"));
    }
  }
  int id_index = -1;
  if (!options.id_column.empty()) {
    auto it = seen.find(options.id_column);
    if (it == seen.end()) {
      return err.File(StrCat("id column '", options.id_column, "' is not in the header"));
    }
    id_index = static_cast<int>(it->second);
  }

  std::vector<std::vector<Cell>> columns(width);
  std::vector<Cell> row;
  while (true) {
    more = tok.Next(row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (row.size() != width) {
      const Cell& at = row.size() > width ? row[width] : row.back();
      return err.At(at, StrCat("row has ", row.size(), " fields, the header has ", width));
    }
    for (size_t j = 0; j < width; ++j) columns[j].push_back(row[j]);
  }
  const size_t n = columns.empty() ? 0 : columns[0].size();
  if (n == 0) return err.File("no data rows after the header");

  std::vector<std::string> ids(n);
  if (id_index >= 0) {
    absl::flat_hash_map<std::string_view, uint32_t> first_line;
    for (size_t i = 0; i < n; ++i) {
      const Cell& c = columns[static_cast<size_t>(id_index)][i];
      std::string_view id = Trim(c.text);
      if (id.empty()) return err.At(c, StrCat("empty account id in '", options.id_column, "'"));
      if (InvalidUtf8At(id) != std::string_view::npos) {
        return err.At(c, "account id is not valid UTF-8");
      }
      if (auto [it, ok] = first_line.try_emplace(id, c.line); !ok) {
        return err.At(c,
                      StrCat("duplicate account id '", id, "' (first on line ", it->second, ")"));
      }
      ids[i] = std::string(id);
    }
  } else {
    for (size_t i = 0; i < n; ++i) ids[i] = std::to_string(i + 1);
  }

  FrameBuilder builder(std::move(ids));
  ColumnParser parser(err, options);
  for (size_t j = 0; j < width; ++j) {
    if (static_cast<int>(j) == id_index) continue;
    auto declared = options.types.find(names[j]);
    const ColumnType type =
        declared != options.types.end() ? declared->second : parser.Infer(columns[j]);
    if (type == ColumnType::kCategorical) {
      for (const Cell& c : columns[j]) {
        if (size_t bad = InvalidUtf8At(c.text); bad != std::string_view::npos) {
          return err.At(c.line, c.column + static_cast<uint32_t>(bad),
                        StrCat("column '", names[j], "': value is not valid UTF-8"));
        }
      }
    }
    if (absl::Status s = parser.Add(builder, names[j], type, columns[j]); !s.ok()) return s;
  }
  absl::StatusOr<AccountFrame> frame = std::move(builder).Build();
  if (!frame.ok()) return err.File(ToStd(frame.status().message()));
  return frame;
}

absl::StatusOr<AccountFrame> ReadCsv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseCsv(buffer.str(), path, options);
}

}  // namespace cscore
