// UTF-8 validation shared by the config and the data checks.
#ifndef CSCORE_SRC_ENGINE_UTF8_H_
#define CSCORE_SRC_ENGINE_UTF8_H_

#include <string_view>

namespace cscore::internal {

// Byte offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
// surrogates and truncated sequences included), or std::string_view::npos.
inline size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || c < 0xc2 || c > 0xf4 || i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    }
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace cscore::internal

#endif  // CSCORE_SRC_ENGINE_UTF8_H_
