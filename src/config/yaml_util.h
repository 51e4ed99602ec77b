// Shared helpers of the YAML loaders: reading a file or string into a node with parse
// errors located, and building "file:line:column: message" errors from a node's mark.
#ifndef CSCORE_SRC_CONFIG_YAML_UTIL_H_
#define CSCORE_SRC_CONFIG_YAML_UTIL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace cscore::config {

// A YAML document with the name used in its error messages.
struct YamlDoc {
  std::string source;  // file path, or a label such as "<string>"
  YAML::Node root;
};

absl::StatusOr<YamlDoc> LoadYamlFile(const std::string& path);
absl::StatusOr<YamlDoc> LoadYamlString(std::string_view text, std::string source = "<string>");

// InvalidArgument("source:line:column: message") at the node's position (1-based).
absl::Status ErrorAt(std::string_view source, const YAML::Node& node, std::string_view message);
absl::Status ErrorAt(std::string_view source, const YAML::Mark& mark, std::string_view message);

// Typed field access with located errors. `where` is the map node holding the field.
absl::StatusOr<std::string> RequiredString(std::string_view source, const YAML::Node& where,
                                           std::string_view key);
absl::StatusOr<double> RequiredDouble(std::string_view source, const YAML::Node& where,
                                      std::string_view key);
absl::StatusOr<double> AsDouble(std::string_view source, const YAML::Node& node);
absl::StatusOr<int64_t> AsInt(std::string_view source, const YAML::Node& node);
absl::StatusOr<bool> AsBool(std::string_view source, const YAML::Node& node);
absl::StatusOr<std::string> AsString(std::string_view source, const YAML::Node& node);

// Rejects keys of a map that are not in `allowed` (typos must not pass silently).
absl::Status CheckKeys(std::string_view source, const YAML::Node& map,
                       const std::vector<std::string_view>& allowed);

}  // namespace cscore::config

#endif  // CSCORE_SRC_CONFIG_YAML_UTIL_H_
