// A flat JSON object of string keys and string / integer / bool / null values: the `detail`
// column of the audit log. Written and read by hand because the daily run converts every
// CTA change (up to millions a day) and a general JSON library costs more than the change.
#ifndef CSCORE_SRC_ENGINE_FLAT_JSON_H_
#define CSCORE_SRC_ENGINE_FLAT_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cscore::engine_internal {

class FlatJsonWriter {
 public:
  FlatJsonWriter& Str(std::string_view key, std::string_view value);
  FlatJsonWriter& Int(std::string_view key, int64_t value);
  FlatJsonWriter& Bool(std::string_view key, bool value);
  FlatJsonWriter& Null(std::string_view key);
  std::string Finish() &&;

 private:
  void Key(std::string_view key);
  std::string out_ = "{";
};

struct FlatValue {
  enum Kind : uint8_t { kNull, kBool, kInt, kString } kind = kNull;
  int64_t i = 0;  // kInt, kBool (0 / 1)
  std::string s;  // kString
};

class FlatJson {
 public:
  // InvalidArgument naming the offset when `text` is not such an object.
  static absl::StatusOr<FlatJson> Parse(std::string_view text);

  const FlatValue* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // Typed reads: nullopt when absent or of another kind.
  std::optional<std::string_view> Str(std::string_view key) const;
  std::optional<int64_t> Int(std::string_view key) const;
  std::optional<bool> Bool(std::string_view key) const;
  bool IsNull(std::string_view key) const;

 private:
  std::vector<std::pair<std::string, FlatValue>> fields_;
};

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace cscore::engine_internal

#endif  // CSCORE_SRC_ENGINE_FLAT_JSON_H_
