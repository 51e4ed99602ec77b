// Helpers shared by the risk and rules YAML loaders (internal).
#ifndef CSCORE_SRC_RISK_YAML_COMMON_H_
#define CSCORE_SRC_RISK_YAML_COMMON_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "config/yaml_util.h"
#include "cscore/risk/predicate.h"

namespace cscore::risk_internal {

// Where the text of an expression scalar starts (inside the quotes of a quoted scalar).
SourceRef ExpressionRef(std::string_view source, const YAML::Node& node);

// Re-locates a non-located error message at `node`.
absl::Status At(std::string_view source, const YAML::Node& node, const absl::Status& status);

// {column|metric, window, days, compare, value}
absl::StatusOr<ThresholdDef> ParseThreshold(std::string_view source, const YAML::Node& node);

}  // namespace cscore::risk_internal

#endif  // CSCORE_SRC_RISK_YAML_COMMON_H_
