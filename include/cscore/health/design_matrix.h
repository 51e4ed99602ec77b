// Design matrix: turns an AccountFrame into the numeric matrix a churn model is fitted on.
//
// DesignEncoding::Fit learns the encoding from training rows: numeric columns (float64,
// int64) are standardised with the training mean and population standard deviation
// (ddof = 0, as scikit-learn's StandardScaler), bools become 0/1, and categoricals are
// one-hot encoded with one column per category seen in training, sorted by value, none
// dropped. Keeping every category (instead of dropping the first) means an unseen or
// missing category maps to all zeros, the neutral point, rather than silently to the
// first category; the L2 penalty keeps the fit unique despite the redundant columns. The
// encoding is stored in the model, so scoring new data applies exactly the same transform.
//
//   cscore::DesignOptions opt{.exclude = {"Churn"}};
//   auto enc = cscore::DesignEncoding::Fit(frame, opt);
//   absl::StatusOr<Eigen::MatrixXd> x = enc->Transform(frame);  // accounts x features
#ifndef CSCORE_HEALTH_DESIGN_MATRIX_H_
#define CSCORE_HEALTH_DESIGN_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "cscore/frame/frame.h"

namespace cscore {

// What to do with a missing numeric or bool value.
enum class MissingPolicy : uint8_t {
  kError,       // fail, naming the account id and the column
  kImputeMean,  // use the training mean (0 after standardisation)
};

struct DesignOptions {
  // Columns left out of the design (the target, free-text fields, ...).
  std::vector<std::string> exclude = {};
  MissingPolicy missing = MissingPolicy::kError;
};

// One column of the design matrix.
struct DesignFeature {
  enum class Kind : uint8_t { kNumeric, kBool, kCategory };
  std::string column = {};  // source column of the frame
  Kind kind = Kind::kNumeric;
  std::string category = {};  // kCategory only
  double mean = 0.0;          // training mean (kNumeric, kBool); used for imputation
  double scale = 1.0;         // kNumeric: training std (1 for a constant column)

  // "tenure", "Contract=One year".
  std::string Name() const;
};

class DesignEncoding {
 public:
  // Learns the encoding from `rows` of `frame` (all rows when empty). Timestamp columns
  // must be excluded (derive a numeric feature from them instead).
  static absl::StatusOr<DesignEncoding> Fit(const AccountFrame& frame, const DesignOptions& options,
                                            std::span<const size_t> rows = {});
  // Rebuilds a stored encoding, validating it (unique names, positive scales, ...).
  static absl::StatusOr<DesignEncoding> FromFeatures(std::vector<DesignFeature> features,
                                                     MissingPolicy missing);

  // The design matrix of `rows` (all rows when empty), one row per account. Every source
  // column must be present with a compatible type; categories never seen in training
  // encode as all zeros.
  absl::StatusOr<Eigen::MatrixXd> Transform(const AccountFrame& frame,
                                            std::span<const size_t> rows = {}) const;

  const std::vector<DesignFeature>& features() const { return features_; }
  size_t num_features() const { return features_.size(); }
  MissingPolicy missing() const { return missing_; }

 private:
  std::vector<DesignFeature> features_;
  MissingPolicy missing_ = MissingPolicy::kError;
};

// 0/1 outcome of each row from a target column: a categorical equal to `positive`, a bool
// (true, or the row equal to `positive` when given as "true"/"false"), or a numeric 0/1
// column (or equal to `positive` parsed as a number). Missing targets are an error naming
// the account.
absl::StatusOr<std::vector<uint8_t>> EncodeTarget(const AccountFrame& frame,
                                                  std::string_view target,
                                                  std::string_view positive);

// Train / test row indices (each sorted ascending).
struct Split {
  std::vector<size_t> train;
  std::vector<size_t> test;
};

// Stratified split: each outcome class keeps round(test_fraction * class size) rows in the
// test set, picked by a Fisher-Yates shuffle driven by std::mt19937_64(seed) with modulo
// draws, so the split is the same on every platform and in every tool that calls this.
absl::StatusOr<Split> StratifiedSplit(std::span<const uint8_t> outcome, double test_fraction,
                                      uint64_t seed);

}  // namespace cscore

#endif  // CSCORE_HEALTH_DESIGN_MATRIX_H_
