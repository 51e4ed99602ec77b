#include "engine/flat_json.h"

#include <charconv>

#include "absl/strings/str_format.h"

namespace cscore::engine_internal {

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += absl::StrFormat("\\u%04x", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void FlatJsonWriter::Key(std::string_view key) {
  if (out_.size() > 1) out_.push_back(',');
  AppendJsonString(out_, key);
  out_.push_back(':');
}

FlatJsonWriter& FlatJsonWriter::Str(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(out_, value);
  return *this;
}

FlatJsonWriter& FlatJsonWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, end);
  return *this;
}

FlatJsonWriter& FlatJsonWriter::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

FlatJsonWriter& FlatJsonWriter::Null(std::string_view key) {
  Key(key);
  out_ += "null";
  return *this;
}

std::string FlatJsonWriter::Finish() && {
  out_.push_back('}');
  return std::move(out_);
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  absl::Status Fail(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("detail JSON at offset %d: %s", static_cast<int>(i_), what));
  }
  void Space() {
    while (i_ < t_.size() &&
           (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    Space();
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(uint32_t& v) {
    if (i_ + 4 > t_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = Hex(t_[i_ + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }
  static void Utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  absl::StatusOr<std::string> String() {
    if (!Eat('"')) return Fail("expected a string");
    std::string out;
    while (true) {
      if (i_ >= t_.size()) return Fail("unterminated string");
      const char c = t_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= t_.size()) return Fail("unterminated escape");
      const char e = t_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return Fail("bad \\u escape");
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo = 0;
            if (i_ + 2 > t_.size() || t_[i_] != '\\' || t_[i_ + 1] != 'u') {
              return Fail("unpaired surrogate");
            }
            i_ += 2;
            if (!Hex4(lo) || lo < 0xdc00 || lo >= 0xe000) return Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return Fail("unpaired surrogate");
          }
          Utf8(out, cp);
          break;
        }
        default:
          return Fail("unknown escape");
      }
    }
  }
  absl::StatusOr<FlatValue> Value() {
    Space();
    if (i_ >= t_.size()) return Fail("expected a value");
    FlatValue v;
    const char c = t_[i_];
    if (c == '"') {
      absl::StatusOr<std::string> s = String();
      if (!s.ok()) return s.status();
      v.kind = FlatValue::kString;
      v.s = *std::move(s);
      return v;
    }
    auto word = [&](std::string_view w) {
      if (t_.substr(i_, w.size()) != w) return false;
      i_ += w.size();
      return true;
    };
    if (word("null")) return v;
    if (word("true")) {
      v.kind = FlatValue::kBool;
      v.i = 1;
      return v;
    }
    if (word("false")) {
      v.kind = FlatValue::kBool;
      return v;
    }
    int64_t n = 0;
    auto [end, ec] = std::from_chars(t_.data() + i_, t_.data() + t_.size(), n);
    if (ec != std::errc() || end == t_.data() + i_) return Fail("expected a value");
    i_ = static_cast<size_t>(end - t_.data());
    v.kind = FlatValue::kInt;
    v.i = n;
    return v;
  }
  absl::StatusOr<std::vector<std::pair<std::string, FlatValue>>> Object() {
    std::vector<std::pair<std::string, FlatValue>> fields;
    if (!Eat('{')) return Fail("expected '{'");
    if (!Eat('}')) {
      do {
        Space();
        absl::StatusOr<std::string> key = String();
        if (!key.ok()) return key.status();
        if (!Eat(':')) return Fail("expected ':'");
        absl::StatusOr<FlatValue> value = Value();
        if (!value.ok()) return value.status();
        fields.emplace_back(*std::move(key), *std::move(value));
      } while (Eat(','));
      if (!Eat('}')) return Fail("expected ',' or '}'");
    }
    Space();
    if (i_ != t_.size()) return Fail("trailing characters");
    return fields;
  }

 private:
  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

absl::StatusOr<FlatJson> FlatJson::Parse(std::string_view text) {
  Parser p(text);
  absl::StatusOr<std::vector<std::pair<std::string, FlatValue>>> fields = p.Object();
  if (!fields.ok()) return fields.status();
  FlatJson j;
  j.fields_ = *std::move(fields);
  return j;
}

const FlatValue* FlatJson::Find(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::string_view> FlatJson::Str(std::string_view key) const {
  const FlatValue* v = Find(key);
  if (v == nullptr || v->kind != FlatValue::kString) return std::nullopt;
  return std::string_view(v->s);
}

std::optional<int64_t> FlatJson::Int(std::string_view key) const {
  const FlatValue* v = Find(key);
  if (v == nullptr || v->kind != FlatValue::kInt) return std::nullopt;
  return v->i;
}

std::optional<bool> FlatJson::Bool(std::string_view key) const {
  const FlatValue* v = Find(key);
  if (v == nullptr || v->kind != FlatValue::kBool) return std::nullopt;
  return v->i != 0;
}

bool FlatJson::IsNull(std::string_view key) const {
  const FlatValue* v = Find(key);
  return v != nullptr && v->kind == FlatValue::kNull;
}

}  // namespace cscore::engine_internal
