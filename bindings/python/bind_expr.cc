// CEL from Python: compile an expression against declared variables or a frame's schema,
// evaluate it on one activation (Python values in, a Python value out) or over every account
// of a frame with the GIL released (numpy columns out, one status byte per row).
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cscore/expr/cel.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

using cel::Kind;
using cel::Value;

absl::StatusOr<Kind> ParseKind(const std::string& name) {
  static constexpr Kind kKinds[] = {Kind::kNull,   Kind::kBool,      Kind::kInt,      Kind::kUint,
                                    Kind::kDouble, Kind::kString,    Kind::kBytes,    Kind::kList,
                                    Kind::kMap,    Kind::kTimestamp, Kind::kDuration, Kind::kType,
                                    Kind::kDyn};
  for (Kind k : kKinds) {
    if (cel::KindName(k) == name) return k;
  }
  if (name == "float") return Kind::kDouble;
  if (name == "str") return Kind::kString;
  if (name == "null") return Kind::kNull;
  return absl::InvalidArgumentError("unknown CEL type '" + name +
                                    "' (expected bool, int, uint, double, string, bytes, list, "
                                    "map, timestamp, duration or dyn)");
}

// Python <-> CEL values. Times cross as integer microseconds so the Python side chooses the
// datetime type (pandas.Timestamp / datetime.timedelta), see cscore/cel.py.
Value ToValue(const py::handle& obj) {
  if (obj.is_none()) return Value::Null();
  if (py::isinstance<py::bool_>(obj)) return Value::Bool(obj.cast<bool>());
  py::module_ np = py::module_::import("numpy");
  if (py::isinstance(obj, np.attr("bool_"))) return Value::Bool(obj.cast<bool>());
  if (py::isinstance<py::int_>(obj) || py::isinstance(obj, np.attr("integer"))) {
    py::int_ i = py::reinterpret_borrow<py::object>(obj).attr("__int__")();
    // Beyond int64 but within uint64 reads as a CEL uint; anything else out of range fails
    // the cast with Python's OverflowError-style message.
    if (i > py::int_(std::numeric_limits<int64_t>::max())) return Value::Uint(i.cast<uint64_t>());
    return Value::Int(i.cast<int64_t>());
  }
  if (py::isinstance<py::float_>(obj) || py::isinstance(obj, np.attr("floating"))) {
    return Value::Double(obj.cast<double>());
  }
  if (py::isinstance<py::str>(obj)) return Value::String(obj.cast<std::string>());
  if (py::isinstance<py::bytes>(obj)) return Value::BytesOf(obj.cast<std::string>());
  py::module_ cel = py::module_::import("cscore.cel");
  if (py::isinstance(obj, cel.attr("Uint"))) return Value::Uint(obj.attr("value").cast<uint64_t>());
  py::object micros = cel.attr("_timestamp_micros")(obj);
  if (!micros.is_none()) {
    return Value::Timestamp(absl::FromUnixMicros(micros.cast<int64_t>()));
  }
  micros = cel.attr("_duration_micros")(obj);
  if (!micros.is_none()) return Value::Duration(absl::Microseconds(micros.cast<int64_t>()));
  if (py::isinstance<py::dict>(obj) || py::hasattr(obj, "keys")) {
    cel::ValueMap m;
    for (auto item : py::reinterpret_borrow<py::object>(obj).attr("items")()) {
      auto kv = item.cast<py::tuple>();
      m.emplace_back(ToValue(kv[0]), ToValue(kv[1]));
    }
    return Value::Map(std::move(m));
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj) ||
      py::isinstance(obj, np.attr("ndarray"))) {
    cel::ValueList l;
    for (py::handle item : obj) l.push_back(ToValue(item));
    return Value::List(std::move(l));
  }
  throw py::type_error("cannot convert a " +
                       py::str(obj.get_type().attr("__name__")).cast<std::string>() +
                       " to a CEL value");
}

py::object FromValue(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull:
      return py::none();
    case Kind::kBool:
      return py::bool_(v.bool_value());
    case Kind::kInt:
      return py::int_(v.int_value());
    case Kind::kUint:
      return py::module_::import("cscore.cel").attr("Uint")(py::int_(v.uint_value()));
    case Kind::kDouble:
      return py::float_(v.double_value());
    case Kind::kString:
      return py::str(v.string_value());
    case Kind::kBytes:
      return py::bytes(v.bytes_value());
    case Kind::kList: {
      py::list out;
      for (const Value& e : v.list_value()) out.append(FromValue(e));
      return out;
    }
    case Kind::kMap: {
      py::dict out;
      for (const auto& [k, e] : v.map_value()) out[FromValue(k)] = FromValue(e);
      return out;
    }
    case Kind::kTimestamp:
      return py::module_::import("cscore.cel")
          .attr("_timestamp_of")(absl::ToUnixMicros(v.timestamp_value()));
    case Kind::kDuration:
      return py::module_::import("cscore.cel")
          .attr("_duration_of")(absl::ToInt64Microseconds(v.duration_value()));
    case Kind::kType:
      return py::module_::import("cscore.cel").attr("Type")(v.type_value());
    case Kind::kError:
      // An error value is the expression's outcome, not a failed call: it is raised with the
      // library's message through the one Status mapping.
      ThrowStatus(absl::InvalidArgumentError(v.error_message()));
    case Kind::kDyn:
      break;
  }
  return py::none();
}

struct PyProgram {
  cel::Program program;
  std::vector<std::string> variables;  // declared, for the Python repr
};

cel::Environment MakeEnvironment(const py::object& variables, const PyFrame* frame,
                                 const PyHistory* history, const std::vector<std::string>& metrics,
                                 bool check) {
  cel::Environment env;
  if (frame != nullptr) {
    env = cel::Environment::ForFrame(frame->frame, history ? &history->history : nullptr);
  } else if (history != nullptr) {
    for (std::string& m : history->history.metric_names()) env.DeclareMetric(std::move(m));
  }
  if (!variables.is_none()) {
    for (auto item : variables.attr("items")()) {
      auto kv = item.cast<py::tuple>();
      env.Declare(kv[0].cast<std::string>(), Unwrap(ParseKind(kv[1].cast<std::string>())));
    }
  }
  for (const std::string& m : metrics) env.DeclareMetric(m);
  env.DisableCheck(!check);
  return env;
}

std::unique_ptr<PyProgram> CompileProgram(const std::string& source, const py::object& variables,
                                          const PyFrame* frame, const PyHistory* history,
                                          const std::vector<std::string>& metrics, bool check,
                                          int max_depth, size_t max_nodes) {
  cel::Environment env = MakeEnvironment(variables, frame, history, metrics, check);
  cel::CompileOptions opt;
  opt.max_depth = max_depth;
  opt.max_nodes = max_nodes;
  auto out = std::make_unique<PyProgram>();
  out->program = Unwrap(cel::Compile(source, env, opt));
  for (const auto& [name, kind] : env.variables()) out->variables.emplace_back(name);
  return out;
}

py::object Evaluate(const PyProgram& p, const py::object& activation, int64_t now_us,
                    const PyHistory* history, size_t account) {
  cel::Activation act;
  if (!activation.is_none()) {
    for (auto item : activation.attr("items")()) {
      auto kv = item.cast<py::tuple>();
      act[kv[0].cast<std::string>()] = ToValue(kv[1]);
    }
  }
  cel::EvalContext ctx;
  ctx.now = absl::FromUnixMicros(now_us);
  if (history != nullptr) {
    if (account >= history->history.num_accounts()) {
      throw py::index_error("account row " + std::to_string(account) + " out of range");
    }
    ctx.history = &history->history;
    ctx.account = account;
  }
  return FromValue(p.program.Evaluate(act, ctx));
}

// {"kind", "status" (0 ok, 1 error, 2 null), "values", "num_errors", "first_error"}.
py::dict EvaluateFrame(const PyProgram& p, const PyFrame& frame, const PyHistory* history,
                       int64_t now_us, int threads, size_t batch_size, bool rowwise) {
  if (history != nullptr && history->history.num_accounts() != frame.frame.num_rows()) {
    throw py::value_error("history has " + std::to_string(history->history.num_accounts()) +
                          " accounts, the frame " + std::to_string(frame.frame.num_rows()));
  }
  cel::EvalContext ctx;
  ctx.now = absl::FromUnixMicros(now_us);
  ctx.history = history ? &history->history : nullptr;
  cel::FrameOptions opt;
  opt.threads = threads;
  opt.batch_size = batch_size;
  absl::StatusOr<cel::ResultColumn> r;
  {
    py::gil_scoped_release release;
    const MetricHistory* h = history ? &history->history : nullptr;
    r = rowwise ? p.program.EvaluateFrameRowwise(frame.frame, h, ctx, opt)
                : p.program.EvaluateFrame(frame.frame, h, ctx, opt);
  }
  cel::ResultColumn col = Unwrap(std::move(r));
  py::dict d;
  d["kind"] = std::string(cel::KindName(col.kind));
  std::vector<uint8_t> status(col.status.size());
  for (size_t i = 0; i < status.size(); ++i) status[i] = static_cast<uint8_t>(col.status[i]);
  switch (col.kind) {
    case Kind::kBool:
      d["values"] = ToNumpy(std::move(col.b));
      break;
    case Kind::kInt:
    case Kind::kTimestamp:
      d["values"] = ToNumpy(std::move(col.i64));
      break;
    case Kind::kDouble:
      d["values"] = ToNumpy(std::move(col.f64));
      break;
    default: {
      py::list values;
      for (size_t i = 0; i < col.size(); ++i) {
        const Value v = col.ValueAt(i);
        values.append(v.is_error() || !col.ok(i) ? py::object(py::none()) : FromValue(v));
      }
      d["values"] = values;
      break;
    }
  }
  d["status"] = ToNumpy(std::move(status));
  d["num_errors"] = col.num_errors;
  d["first_error"] = col.first_error;
  return d;
}

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<PyProgram>(m, "CelProgram",
                            "A compiled CEL expression (immutable, thread-safe; see cscore.cel).")
          .def_property_readonly(
              "source", [](const PyProgram& p) { return p.program.source(); },
              "The expression text.")
          .def_property_readonly(
              "result_kind",
              [](const PyProgram& p) {
                return std::string(cel::KindName(p.program.result_kind()));
              },
              "Static result type from the checker ('dyn' when only known at run time).")
          .def_property_readonly(
              "vectorized", [](const PyProgram& p) { return p.program.vectorized(); },
              "True when frame evaluation runs column-at-a-time.")
          .def_readonly("variables", &PyProgram::variables, "Declared variable names.")
          .def("evaluate", &Evaluate, py::arg("activation") = py::none(), py::arg("now_us") = 0,
               py::arg("history") = nullptr, py::arg("account") = 0,
               "Evaluates on one activation (name -> Python value); an error value raises.")
          .def("evaluate_frame", &EvaluateFrame, py::arg("frame"), py::arg("history") = nullptr,
               py::arg("now_us") = 0, py::arg("threads") = 1, py::arg("batch_size") = 4096,
               py::arg("rowwise") = false, "Evaluates every row of a frame with the GIL released.");
      m.def("cel_compile", &CompileProgram, py::arg("source"), py::arg("variables") = py::none(),
            py::arg("frame") = nullptr, py::arg("history") = nullptr,
            py::arg("metrics") = std::vector<std::string>{}, py::arg("check") = true,
            py::arg("max_depth") = 250, py::arg("max_nodes") = 100000,
            "Parses and checks a CEL expression; errors read 'line:column: message'.");
    },
    /*order=*/5);

}  // namespace
}  // namespace cscore::python
