#include "yaml_util.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace cscore::config {

absl::Status ErrorAt(std::string_view source, const YAML::Mark& mark, std::string_view message) {
  if (mark.is_null()) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", source, message));
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d:%d: %s", source, mark.line + 1, mark.column + 1, message));
}

absl::Status ErrorAt(std::string_view source, const YAML::Node& node, std::string_view message) {
  return ErrorAt(source, node ? node.Mark() : YAML::Mark::null_mark(), message);
}

absl::StatusOr<YamlDoc> LoadYamlString(std::string_view text, std::string source) {
  try {
    return YamlDoc{std::move(source), YAML::Load(std::string(text))};
  } catch (const YAML::Exception& e) {
    return ErrorAt(std::string_view(source), e.mark, e.msg);
  }
}

absl::StatusOr<YamlDoc> LoadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadYamlString(buffer.str(), path);
}

absl::StatusOr<std::string> AsString(std::string_view source, const YAML::Node& node) {
  if (!node.IsScalar()) return ErrorAt(source, node, "expected a string");
  return node.Scalar();
}

absl::StatusOr<double> AsDouble(std::string_view source, const YAML::Node& node) {
  if (!node.IsScalar()) return ErrorAt(source, node, "expected a number");
  const std::string& s = node.Scalar();
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  return ErrorAt(source, node, absl::StrCat("expected a finite number, got '", s, "'"));
}

absl::StatusOr<int64_t> AsInt(std::string_view source, const YAML::Node& node) {
  if (!node.IsScalar()) return ErrorAt(source, node, "expected an integer");
  const std::string& s = node.Scalar();
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size()) return static_cast<int64_t>(v);
  } catch (const std::exception&) {
  }
  return ErrorAt(source, node, absl::StrCat("expected an integer, got '", s, "'"));
}

absl::StatusOr<bool> AsBool(std::string_view source, const YAML::Node& node) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
  }
  return ErrorAt(source, node, "expected true or false");
}

absl::StatusOr<std::string> RequiredString(std::string_view source, const YAML::Node& where,
                                           std::string_view key) {
  YAML::Node n = where[std::string(key)];
  if (!n) return ErrorAt(source, where, absl::StrFormat("missing required field '%s'", key));
  return AsString(source, n);
}

absl::StatusOr<double> RequiredDouble(std::string_view source, const YAML::Node& where,
                                      std::string_view key) {
  YAML::Node n = where[std::string(key)];
  if (!n) return ErrorAt(source, where, absl::StrFormat("missing required field '%s'", key));
  return AsDouble(source, n);
}

absl::Status CheckKeys(std::string_view source, const YAML::Node& map,
                       const std::vector<std::string_view>& allowed) {
  if (!map.IsMap()) return ErrorAt(source, map, "expected a mapping");
  for (const auto& kv : map) {
    const std::string& key = kv.first.Scalar();
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || a == key;
    if (!ok) {
      return ErrorAt(
          source, kv.first,
          absl::StrFormat("unknown field '%s' (expected one of: %s)", key,
                          absl::StrJoin(allowed, ", ", [](std::string* out, std::string_view a) {
                            out->append(a);
                          })));
    }
  }
  return absl::OkStatus();
}

}  // namespace cscore::config
