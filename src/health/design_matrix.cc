#include "cscore/health/design_matrix.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "cscore/base/strings.h"

namespace cscore {
namespace {

// Iterates the selected rows (all rows when `rows` is empty) without materialising them.
template <typename F>
void ForRows(size_t num_rows, std::span<const size_t> rows, F&& f) {
  if (rows.empty()) {
    for (size_t i = 0; i < num_rows; ++i) f(i, i);
  } else {
    for (size_t i = 0; i < rows.size(); ++i) f(i, rows[i]);
  }
}

absl::Status CheckRows(const AccountFrame& frame, std::span<const size_t> rows) {
  for (size_t r : rows) {
    if (r >= frame.num_rows()) {
      return absl::OutOfRangeError(
          StrCat("row ", r, " is out of range (frame has ", frame.num_rows(), " rows)"));
    }
  }
  return absl::OkStatus();
}

bool IsNumeric(ColumnType t) { return t == ColumnType::kFloat64 || t == ColumnType::kInt64; }

// Value of a numeric or bool column at `row`; NaN when missing.
double ValueAt(const Column& c, size_t row) {
  if (c.IsMissing(row)) return std::nan("");
  switch (c.type) {
    case ColumnType::kFloat64:
      return c.f64[row];
    case ColumnType::kInt64:
      return static_cast<double>(c.i64[row]);
    case ColumnType::kBool:
      return c.b[row] ? 1.0 : 0.0;
    default:
      return std::nan("");
  }
}

absl::Status MissingError(const AccountFrame& frame, size_t row, std::string_view column) {
  return absl::InvalidArgumentError(StrCat("account '", frame.ids()[row], "': column '", column,
                                           "' is missing (drop the column or impute)"));
}

}  // namespace

std::string DesignFeature::Name() const {
  return kind == Kind::kCategory ? StrCat(column, "=", category) : column;
}

absl::StatusOr<DesignEncoding> DesignEncoding::Fit(const AccountFrame& frame,
                                                   const DesignOptions& options,
                                                   std::span<const size_t> rows) {
  if (absl::Status s = CheckRows(frame, rows); !s.ok()) return s;
  const size_t n = rows.empty() ? frame.num_rows() : rows.size();
  if (n == 0) return absl::InvalidArgumentError("no rows to fit the design on");
  for (const std::string& name : options.exclude) {
    if (frame.Find(name) == nullptr) {
      return absl::NotFoundError(StrCat("excluded column '", name, "' is not in the data"));
    }
  }
  std::vector<DesignFeature> features;
  for (const Column& c : frame.columns()) {
    if (std::find(options.exclude.begin(), options.exclude.end(), c.name) !=
        options.exclude.end()) {
      continue;
    }
    if (IsNumeric(c.type) || c.type == ColumnType::kBool) {
      // Two passes (mean, then squared deviations) keep the std accurate for large means.
      double sum = 0.0;
      size_t count = 0;
      absl::Status missing = absl::OkStatus();
      ForRows(frame.num_rows(), rows, [&](size_t, size_t r) {
        double v = ValueAt(c, r);
        if (std::isnan(v)) {
          if (options.missing == MissingPolicy::kError && missing.ok()) {
            missing = MissingError(frame, r, c.name);
          }
          return;
        }
        sum += v;
        ++count;
      });
      if (!missing.ok()) return missing;
      if (count == 0) {
        return absl::InvalidArgumentError(
            StrCat("column '", c.name, "' has no values in the training rows"));
      }
      DesignFeature f;
      f.column = c.name;
      f.kind =
          c.type == ColumnType::kBool ? DesignFeature::Kind::kBool : DesignFeature::Kind::kNumeric;
      f.mean = sum / static_cast<double>(count);
      if (f.kind == DesignFeature::Kind::kNumeric) {
        double ss = 0.0;
        ForRows(frame.num_rows(), rows, [&](size_t, size_t r) {
          double v = ValueAt(c, r);
          if (!std::isnan(v)) ss += (v - f.mean) * (v - f.mean);
        });
        double sd = std::sqrt(ss / static_cast<double>(count));
        // A constant column carries no information; scale 1 keeps it finite (all zeros).
        f.scale = sd > 0.0 ? sd : 1.0;
      }
      features.push_back(std::move(f));
    } else if (c.type == ColumnType::kCategorical) {
      std::vector<uint8_t> seen(c.dictionary.size(), 0);
      ForRows(frame.num_rows(), rows, [&](size_t, size_t r) {
        int32_t code = c.codes[r];
        if (code >= 0 && static_cast<size_t>(code) < seen.size()) seen[code] = 1;
      });
      std::vector<std::string> cats;
      for (size_t k = 0; k < seen.size(); ++k) {
        if (seen[k]) cats.push_back(c.dictionary[k]);
      }
      std::sort(cats.begin(), cats.end());
      for (std::string& cat : cats) {
        DesignFeature f;
        f.column = c.name;
        f.kind = DesignFeature::Kind::kCategory;
        f.category = std::move(cat);
        features.push_back(std::move(f));
      }
    } else {
      return absl::InvalidArgumentError(
          StrCat("column '", c.name, "' has type ", ColumnTypeName(c.type),
                 ", which a design matrix cannot use; exclude it or derive a number from it"));
    }
  }
  if (features.empty()) return absl::InvalidArgumentError("the design has no feature columns");
  return FromFeatures(std::move(features), options.missing);
}

absl::StatusOr<DesignEncoding> DesignEncoding::FromFeatures(std::vector<DesignFeature> features,
                                                            MissingPolicy missing) {
  StringSet names;
  for (const DesignFeature& f : features) {
    if (f.column.empty()) return absl::InvalidArgumentError("design feature without a column");
    if (!std::isfinite(f.mean) || !std::isfinite(f.scale) || f.scale <= 0.0) {
      return absl::InvalidArgumentError(
          StrCat("design feature '", f.Name(), "' needs a finite mean and a positive scale"));
    }
    if (!names.insert(f.Name()).second) {
      return absl::InvalidArgumentError(StrCat("duplicate design feature '", f.Name(), "'"));
    }
  }
  DesignEncoding enc;
  enc.features_ = std::move(features);
  enc.missing_ = missing;
  return enc;
}

absl::StatusOr<Eigen::MatrixXd> DesignEncoding::Transform(const AccountFrame& frame,
                                                          std::span<const size_t> rows) const {
  if (absl::Status s = CheckRows(frame, rows); !s.ok()) return s;
  const Eigen::Index n = static_cast<Eigen::Index>(rows.empty() ? frame.num_rows() : rows.size());
  Eigen::MatrixXd x(n, static_cast<Eigen::Index>(features_.size()));
  size_t j = 0;
  while (j < features_.size()) {
    const DesignFeature& f = features_[j];
    absl::StatusOr<const Column*> col = frame.Get(f.column);
    if (!col.ok()) return col.status();
    const Column& c = **col;
    if (f.kind == DesignFeature::Kind::kCategory) {
      if (c.type != ColumnType::kCategorical) {
        return absl::InvalidArgumentError(StrCat("column '", f.column, "' is ",
                                                 ColumnTypeName(c.type),
                                                 " but the model expects categorical"));
      }
      // The run of one-hot features of this column, mapped from the frame's own codes.
      size_t end = j;
      while (end < features_.size() && features_[end].kind == DesignFeature::Kind::kCategory &&
             features_[end].column == f.column) {
        ++end;
      }
      std::vector<int> code_to_feature(c.dictionary.size(), -1);
      for (size_t k = j; k < end; ++k) {
        int32_t code = c.CodeOf(features_[k].category);
        if (code >= 0) code_to_feature[code] = static_cast<int>(k);
      }
      x.middleCols(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(end - j)).setZero();
      ForRows(frame.num_rows(), rows, [&](size_t i, size_t r) {
        int32_t code = c.codes[r];
        if (code >= 0 && static_cast<size_t>(code) < code_to_feature.size() &&
            code_to_feature[code] >= 0) {
          x(static_cast<Eigen::Index>(i), code_to_feature[code]) = 1.0;
        }
      });
      j = end;
      continue;
    }
    const bool want_bool = f.kind == DesignFeature::Kind::kBool;
    if (want_bool ? c.type != ColumnType::kBool : !IsNumeric(c.type)) {
      return absl::InvalidArgumentError(StrCat("column '", f.column, "' is ",
                                               ColumnTypeName(c.type), " but the model expects ",
                                               want_bool ? "bool" : "a number"));
    }
    const double center = want_bool ? 0.0 : f.mean;
    const double inv_scale = 1.0 / f.scale;
    const double impute = (f.mean - center) * inv_scale;
    auto out = x.col(static_cast<Eigen::Index>(j));
    absl::Status missing = absl::OkStatus();
    if (c.type == ColumnType::kFloat64 && rows.empty()) {
      // The common case, a dense float column, as one vectorised expression.
      out = (c.AsEigen().array() - center) * inv_scale;
      for (Eigen::Index i = 0; i < n; ++i) {
        if (std::isnan(out[i])) {
          if (missing_ == MissingPolicy::kError)
            return MissingError(frame, static_cast<size_t>(i), f.column);
          out[i] = impute;
        }
      }
    } else {
      ForRows(frame.num_rows(), rows, [&](size_t i, size_t r) {
        double v = ValueAt(c, r);
        if (std::isnan(v)) {
          if (missing_ == MissingPolicy::kError && missing.ok()) {
            missing = MissingError(frame, r, f.column);
          }
          out[static_cast<Eigen::Index>(i)] = impute;
        } else {
          out[static_cast<Eigen::Index>(i)] = (v - center) * inv_scale;
        }
      });
      if (!missing.ok()) return missing;
    }
    ++j;
  }
  return x;
}

absl::StatusOr<std::vector<uint8_t>> EncodeTarget(const AccountFrame& frame,
                                                  std::string_view target,
                                                  std::string_view positive) {
  absl::StatusOr<const Column*> col = frame.Get(target);
  if (!col.ok()) return col.status();
  const Column& c = **col;
  const size_t n = frame.num_rows();
  std::vector<uint8_t> y(n, 0);
  for (size_t r = 0; r < n; ++r) {
    if (c.IsMissing(r)) {
      return absl::InvalidArgumentError(
          StrCat("account '", frame.ids()[r], "': target column '", target, "' is missing"));
    }
  }
  switch (c.type) {
    case ColumnType::kCategorical: {
      if (positive.empty()) {
        return absl::InvalidArgumentError(
            StrCat("target column '", target, "' is categorical: name its positive value"));
      }
      int32_t code = c.CodeOf(positive);
      if (code < 0) {
        return absl::InvalidArgumentError(
            StrCat("target column '", target, "' never has the value '", positive, "'"));
      }
      for (size_t r = 0; r < n; ++r) y[r] = c.codes[r] == code;
      return y;
    }
    case ColumnType::kBool: {
      uint8_t want = 1;
      if (positive == "false") {
        want = 0;
      } else if (!positive.empty() && positive != "true") {
        return absl::InvalidArgumentError(StrCat("target column '", target,
                                                 "' is bool: positive value must be true or "
                                                 "false, not '",
                                                 positive, "'"));
      }
      for (size_t r = 0; r < n; ++r) y[r] = c.b[r] == want;
      return y;
    }
    case ColumnType::kFloat64:
    case ColumnType::kInt64: {
      double want = 1.0;
      if (!positive.empty()) {
        auto [ptr, ec] = std::from_chars(positive.data(), positive.data() + positive.size(), want);
        if (ec != std::errc() || ptr != positive.data() + positive.size()) {
          return absl::InvalidArgumentError(StrCat("target column '", target,
                                                   "' is numeric: positive value '", positive,
                                                   "' is not a number"));
        }
      }
      for (size_t r = 0; r < n; ++r) {
        double v = ValueAt(c, r);
        if (positive.empty() && v != 0.0 && v != 1.0) {
          return absl::InvalidArgumentError(
              StrCat("account '", frame.ids()[r], "': target column '", target,
                     "' must be 0 or 1 (or name a positive value), got ", v));
        }
        y[r] = v == want;
      }
      return y;
    }
    default:
      return absl::InvalidArgumentError(StrCat("target column '", target, "' has type ",
                                               ColumnTypeName(c.type),
                                               ", which cannot be an outcome"));
  }
}

absl::StatusOr<Split> StratifiedSplit(std::span<const uint8_t> outcome, double test_fraction,
                                      uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {
    return absl::InvalidArgumentError(
        StrCat("test fraction must be in [0, 1), got ", test_fraction));
  }
  std::mt19937_64 rng(seed);
  Split split;
  for (uint8_t cls : {uint8_t{0}, uint8_t{1}}) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < outcome.size(); ++i) {
      if ((outcome[i] != 0) == (cls != 0)) idx.push_back(i);
    }
    // Hand-rolled Fisher-Yates: std::shuffle's draws differ between standard libraries.
    for (size_t i = idx.size(); i > 1; --i) {
      size_t k = static_cast<size_t>(rng() % i);
      std::swap(idx[i - 1], idx[k]);
    }
    size_t n_test = static_cast<size_t>(std::llround(test_fraction * idx.size()));
    split.test.insert(split.test.end(), idx.begin(), idx.begin() + n_test);
    split.train.insert(split.train.end(), idx.begin() + n_test, idx.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

}  // namespace cscore
