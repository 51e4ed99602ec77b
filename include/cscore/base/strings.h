// String glue shared by every module.
//
// Debian's Abseil is built with its own absl::string_view (not std::string_view), so
// absl::StrCat, absl::StrJoin and heterogeneous flat_hash_map lookups do not accept a
// std::string_view. cscore's APIs use std::string_view; these helpers bridge the two.
//
//   cscore::StringMap<int> index;                  // find(std::string_view) works
//   std::string m = cscore::StrCat("column '", name, "'");  // name: std::string_view
//   std::string_view msg = cscore::ToStd(status.message());
#ifndef CSCORE_BASE_STRINGS_H_
#define CSCORE_BASE_STRINGS_H_

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cscore {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

// Transparent hashing so maps keyed by std::string can be probed with std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

namespace strings_internal {
template <typename T>
decltype(auto) AlphaNumArg(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_convertible_v<const T&, absl::string_view>) {
    return ToAbsl(std::string_view(v));
  } else {
    return (v);
  }
}
}  // namespace strings_internal

// absl::StrCat that also takes std::string_view arguments.
template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(strings_internal::AlphaNumArg(args)...);
}

template <typename V>
using StringMap = absl::flat_hash_map<std::string, V, StringHash, StringEq>;
using StringSet = absl::flat_hash_set<std::string, StringHash, StringEq>;

}  // namespace cscore

#endif  // CSCORE_BASE_STRINGS_H_
