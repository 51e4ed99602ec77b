// Runs cel-spec conformance cases (JSONL, see ../shared/conformance/cel/README.md) through
// the row evaluator and, for every case whose variables fit frame columns (all but those
// binding lists, maps, bytes or uints), through the frame evaluator too: the vector path,
// the vector path with selection vectors forced on, and the frame row path. Each must give
// the row evaluator's value. Prints one line per failure, a line counting the frame-path
// cases, and ends with "N passed, N failed, N skipped".
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/escaping.h"
#include "cscore/expr/cel.h"
#include "expr/program_impl.h"
#include "nlohmann/json.hpp"

namespace cel = cscore::cel;
using nlohmann::json;

namespace {

bool ParseValue(const json& j, cel::Value& out, std::string& err) {
  if (!j.is_object() || j.size() != 1) {
    err = "bad VALUE " + j.dump();
    return false;
  }
  const std::string tag = j.begin().key();
  const json& v = j.begin().value();
  if (tag == "int64") {
    out = cel::Value::Int(std::stoll(v.get<std::string>()));
  } else if (tag == "uint64") {
    out = cel::Value::Uint(std::stoull(v.get<std::string>()));
  } else if (tag == "double") {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      out = cel::Value::Double(s == "nan" ? NAN : s == "inf" ? INFINITY : -INFINITY);
    } else {
      out = cel::Value::Double(v.get<double>());
    }
  } else if (tag == "string") {
    out = cel::Value::String(v.get<std::string>());
  } else if (tag == "bytes") {
    std::string raw;
    absl::Base64Unescape(v.get<std::string>(), &raw);
    out = cel::Value::BytesOf(raw);
  } else if (tag == "bool") {
    out = cel::Value::Bool(v.get<bool>());
  } else if (tag == "null") {
    out = cel::Value::Null();
  } else if (tag == "type") {
    std::string t = v.get<std::string>();
    out = cel::Value::Type(t);
  } else if (tag == "list") {
    cel::ValueList l;
    for (const auto& e : v) {
      cel::Value x;
      if (!ParseValue(e, x, err)) return false;
      l.push_back(x);
    }
    out = cel::Value::List(std::move(l));
  } else if (tag == "map") {
    cel::ValueMap m;
    for (const auto& e : v) {
      cel::Value k, x;
      if (!ParseValue(e[0], k, err) || !ParseValue(e[1], x, err)) return false;
      m.emplace_back(k, x);
    }
    out = cel::Value::Map(std::move(m));
  } else {
    err = "unsupported VALUE tag '" + tag + "'";
    return false;
  }
  return true;
}

// Same kind and same value (NaN equals NaN here: the case expects a NaN result).
bool Same(const cel::Value& a, const cel::Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case cel::Kind::kDouble: {
      double x = a.double_value(), y = b.double_value();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    case cel::Kind::kList: {
      if (a.list_value().size() != b.list_value().size()) return false;
      for (size_t i = 0; i < a.list_value().size(); ++i) {
        if (!Same(a.list_value()[i], b.list_value()[i])) return false;
      }
      return true;
    }
    case cel::Kind::kMap: {
      if (a.map_value().size() != b.map_value().size()) return false;
      for (const auto& [k, v] : a.map_value()) {
        const cel::Value* o = b.Find(k);
        if (o == nullptr || !Same(v, *o)) return false;
      }
      return true;
    }
    case cel::Kind::kError:
      return true;
    default:
      return cel::Equal(a, b);
  }
}

cel::Kind KindOf(const std::string& t) {
  if (t == "int64") return cel::Kind::kInt;
  if (t == "uint64") return cel::Kind::kUint;
  if (t == "double") return cel::Kind::kDouble;
  if (t == "bool") return cel::Kind::kBool;
  if (t == "string") return cel::Kind::kString;
  if (t == "bytes") return cel::Kind::kBytes;
  return cel::Kind::kDyn;
}

// Builds a one-row frame from the bindings when every variable maps to a frame column.
bool OneRowFrame(const json& c, const cel::Activation& act, cscore::AccountFrame& frame) {
  cscore::FrameBuilder fb(std::vector<std::string>{"a1"});
  for (const auto& d : c["type_env"]) {
    std::string name = d["name"];
    auto it = act.find(name);
    if (it == act.end()) return false;
    const cel::Value& v = it->second;
    switch (v.kind()) {
      case cel::Kind::kInt:
        fb.AddInt64(name, {v.int_value()});
        break;
      case cel::Kind::kDouble:
        if (std::isnan(v.double_value())) return false;  // NaN reads as missing in frames
        fb.AddFloat64(name, {v.double_value()});
        break;
      case cel::Kind::kBool:
        fb.AddBool(name, {static_cast<uint8_t>(v.bool_value())});
        break;
      case cel::Kind::kString: {
        std::vector<std::string> s{v.string_value()};
        fb.AddCategorical(name, s);
        break;
      }
      default:
        return false;
    }
  }
  auto f = std::move(fb).Build();
  if (!f.ok()) return false;
  frame = *std::move(f);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int passed = 0, failed = 0, skipped = 0, framed = 0, vectorized = 0;
  for (int f = 1; f < argc; ++f) {
    std::ifstream in(argv[f]);
    if (!in) {
      std::cout << argv[f] << ": cannot open\n";
      ++failed;
      continue;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json c = json::parse(line, nullptr, false);
      if (c.is_discarded()) {
        std::cout << argv[f] << ": malformed line\n";
        ++failed;
        continue;
      }
      std::string where =
          c.value("file", "") + "/" + c.value("section", "") + "/" + c.value("name", "");
      std::string expr = c.value("expr", "");
      auto fail = [&](const std::string& expected, const std::string& got) {
        ++failed;
        std::cout << "FAIL " << argv[f] << " " << where << " expr: " << expr
                  << " expected: " << expected << " got: " << got << "\n";
      };
      cel::Environment env;
      if (c.value("disable_check", false)) env.DisableCheck();
      for (const auto& d : c["type_env"]) env.Declare(d["name"], KindOf(d["type"]));
      cel::Activation act;
      std::string err;
      bool bad = false;
      const json& bindings = c["bindings"];
      for (auto it = bindings.begin(); it != bindings.end(); ++it) {
        cel::Value x;
        if (!ParseValue(it.value(), x, err)) bad = true;
        act[it.key()] = x;
      }
      const json& expect = c["expect"];
      bool want_error = expect.contains("error");
      cel::Value want;
      if (!want_error && !ParseValue(expect, want, err)) bad = true;
      if (bad) {
        ++skipped;
        std::cout << "SKIP " << where << ": " << err << "\n";
        continue;
      }
      std::string expected =
          want_error ? "error(" + expect["error"].get<std::string>() + ")" : want.DebugString();
      auto prog = cel::Compile(expr, env);
      if (!prog.ok()) {
        if (want_error) {
          ++passed;
        } else {
          fail(expected, "compile error: " + std::string(prog.status().message()));
        }
        continue;
      }
      cel::Value got = prog->Evaluate(act);
      bool ok = want_error ? got.is_error() : (!got.is_error() && Same(want, got));
      if (!ok) {
        fail(expected, got.DebugString());
        continue;
      }
      cscore::AccountFrame frame;
      if (OneRowFrame(c, act, frame)) {
        ++framed;
        vectorized += prog->vectorized();
        std::string bad_path;
        for (int path = 0; path < 3 && bad_path.empty(); ++path) {
          cscore::cel::internal::SetForceSelection(path == 1);
          auto col = path == 2 ? prog->EvaluateFrameRowwise(frame, nullptr, {})
                               : prog->EvaluateFrame(frame, nullptr, {});
          cscore::cel::internal::SetForceSelection(false);
          const char* name[] = {"vector", "vector with selections", "frame rows"};
          if (!col.ok()) {
            bad_path = std::string(name[path]) + ": " + std::string(col.status().message());
            break;
          }
          cel::Value fv = col->ValueAt(0);
          bool same = got.is_error() ? fv.is_error() : (!fv.is_error() && Same(got, fv));
          if (!same) bad_path = std::string(name[path]) + " evaluation gave " + fv.DebugString();
        }
        if (!bad_path.empty()) {
          fail(expected, bad_path);
          continue;
        }
      }
      ++passed;
    }
  }
  std::cout << "frame paths: " << framed << " cases (" << vectorized
            << " column-at-a-time), the others bind lists, maps, bytes or uints\n";
  std::cout << passed << " passed, " << failed << " failed";
  if (skipped > 0) std::cout << ", " << skipped << " skipped";
  std::cout << "\n";
  return failed == 0 ? 0 : 1;
}
