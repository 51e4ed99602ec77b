// CEL values: equality, map lookup, printing.
#include <cmath>

#include "absl/strings/str_format.h"
#include "cscore/expr/cel.h"

namespace cscore::cel {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kType:
      return "type";
    case Kind::kError:
      return "error";
    case Kind::kDyn:
      return "dyn";
  }
  return "dyn";
}

namespace {

bool IsNumber(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

// int and uint compare exactly; against a double they convert to double first, as cel-spec
// does (so 9223372036854775807 == 9223372036854775808.0).
int CompareNumbers(const Value& a, const Value& b, bool& unordered) {
  unordered = false;
  auto cmp_iu = [](int64_t x, uint64_t y) {
    if (x < 0) return -1;
    uint64_t ux = static_cast<uint64_t>(x);
    return ux < y ? -1 : ux > y ? 1 : 0;
  };
  auto as_double = [](const Value& v) {
    switch (v.kind()) {
      case Kind::kInt:
        return static_cast<double>(v.int_value());
      case Kind::kUint:
        return static_cast<double>(v.uint_value());
      default:
        return v.double_value();
    }
  };
  if (a.kind() == Kind::kInt && b.kind() == Kind::kInt) {
    return a.int_value() < b.int_value() ? -1 : a.int_value() > b.int_value() ? 1 : 0;
  }
  if (a.kind() == Kind::kUint && b.kind() == Kind::kUint) {
    return a.uint_value() < b.uint_value() ? -1 : a.uint_value() > b.uint_value() ? 1 : 0;
  }
  if (a.kind() == Kind::kInt && b.kind() == Kind::kUint)
    return cmp_iu(a.int_value(), b.uint_value());
  if (a.kind() == Kind::kUint && b.kind() == Kind::kInt)
    return -cmp_iu(b.int_value(), a.uint_value());
  double x = as_double(a), y = as_double(b);
  if (std::isnan(x) || std::isnan(y)) {
    unordered = true;
    return 0;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

void Quote(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

namespace internal {
// Shared with the evaluator's ordering operators.
bool NumericCompare(const Value& a, const Value& b, int& result) {
  bool unordered = false;
  result = CompareNumbers(a, b, unordered);
  return !unordered;
}
}  // namespace internal

bool Equal(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (IsNumber(ka) && IsNumber(kb)) {
    bool unordered = false;
    int c = CompareNumbers(a, b, unordered);
    return !unordered && c == 0;
  }
  if (ka != kb) return false;
  switch (ka) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.bool_value() == b.bool_value();
    case Kind::kString:
      return a.string_value() == b.string_value();
    case Kind::kBytes:
      return a.bytes_value() == b.bytes_value();
    case Kind::kTimestamp:
      return a.timestamp_value() == b.timestamp_value();
    case Kind::kDuration:
      return a.duration_value() == b.duration_value();
    case Kind::kType:
      return a.type_value() == b.type_value();
    case Kind::kList: {
      const ValueList& x = a.list_value();
      const ValueList& y = b.list_value();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      const ValueMap& x = a.map_value();
      if (x.size() != b.map_value().size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = b.Find(k);
        if (other == nullptr || !Equal(v, *other)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const Value* Value::Find(const Value& key) const {
  if (kind() != Kind::kMap) return nullptr;
  for (const auto& [k, v] : map_value()) {
    if (Equal(k, key)) return &v;
  }
  return nullptr;
}

std::string Value::DebugString() const {
  switch (kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return bool_value() ? "true" : "false";
    case Kind::kInt:
      return absl::StrFormat("%d", int_value());
    case Kind::kUint:
      return absl::StrFormat("%du", uint_value());
    case Kind::kDouble:
      return absl::StrFormat("%.17g", double_value());
    case Kind::kString: {
      std::string out;
      Quote(out, string_value());
      return out;
    }
    case Kind::kBytes: {
      std::string out = "b";
      Quote(out, bytes_value());
      return out;
    }
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < list_value().size(); ++i) {
        if (i > 0) out += ", ";
        out += list_value()[i].DebugString();
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : map_value()) {
        if (!first) out += ", ";
        first = false;
        out += k.DebugString() + ": " + v.DebugString();
      }
      return out + "}";
    }
    case Kind::kTimestamp:
      return "timestamp(\"" +
             absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", timestamp_value(), absl::UTCTimeZone()) +
             "\")";
    case Kind::kDuration:
      return "duration(\"" + absl::FormatDuration(duration_value()) + "\")";
    case Kind::kType:
      return type_value();
    case Kind::kError:
      return "error(" + error_message() + ")";
    case Kind::kDyn:
      break;
  }
  return "?";
}

}  // namespace cscore::cel
