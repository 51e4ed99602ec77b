// Account frames from numpy columns (zero-copy where the dtype and layout allow) and from
// CSV, and back to numpy views for pandas. The pandas-facing logic lives in cscore/frame.py.
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cscore/frame/csv.h"
#include "cscore/frame/frame.h"
#include "cscore/frame/history.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

// Returns `obj` itself when it already is a C-contiguous array of T (the zero-copy case),
// otherwise a converted copy; either way the result is kept by the frame.
template <typename T>
py::array_t<T> Contiguous(const py::handle& obj, const std::string& column) {
  auto arr = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr) {
    throw py::type_error("column '" + column + "': cannot convert values to " +
                         py::str(py::dtype::of<T>()).cast<std::string>());
  }
  if (arr.ndim() != 1) {
    throw py::value_error("column '" + column + "': expected a 1-D array, got " +
                          std::to_string(arr.ndim()) + " dimensions");
  }
  // numpy only guarantees contiguity here; a buffer unpickled out of band (as Dask ships
  // partitions) can start at any byte, and reading a T through it is undefined behaviour.
  if (reinterpret_cast<uintptr_t>(arr.data()) % alignof(T) != 0) {
    py::array_t<T> aligned(arr.size());
    std::memcpy(aligned.mutable_data(), arr.data(), static_cast<size_t>(arr.nbytes()));
    return aligned;
  }
  return arr;
}

template <typename T>
std::span<const T> Keep(PyFrame& f, const py::handle& obj, const std::string& column) {
  py::array_t<T> arr = Contiguous<T>(obj, column);
  std::span<const T> view(arr.data(), static_cast<size_t>(arr.size()));
  f.owners.push_back(std::move(arr));
  return view;
}

std::span<const uint8_t> KeepMask(PyFrame& f, py::object obj, const std::string& column) {
  if (obj.is_none()) return {};
  // numpy bool is one byte holding 0 or 1: view it as uint8 without a copy.
  py::array arr = py::array::ensure(obj);
  if (arr && arr.dtype().is(py::dtype::of<bool>())) obj = arr.attr("view")("uint8");
  return Keep<uint8_t>(f, obj, column);
}

// columns: [(name, kind, values, valid_or_None, categories_or_None)], where kind is one of
// float64/int64/bool/timestamp (numpy values) or categorical (int32 codes + categories).
std::unique_ptr<PyFrame> MakeFrame(const py::handle& ids, const py::list& columns) {
  auto f = std::make_unique<PyFrame>();
  FrameBuilder b(ToStrings(ids));
  for (py::handle item : columns) {
    auto spec = item.cast<py::tuple>();
    if (spec.size() != 5) throw py::value_error("column spec must have 5 fields");
    std::string name = spec[0].cast<std::string>();
    std::string kind = spec[1].cast<std::string>();
    ColumnType type = Unwrap(ParseColumnType(kind));
    switch (type) {
      case ColumnType::kFloat64:
        b.ViewFloat64(name, Keep<double>(*f, spec[2], name));
        break;
      case ColumnType::kInt64:
        b.ViewInt64(name, Keep<int64_t>(*f, spec[2], name),
                    KeepMask(*f, py::reinterpret_borrow<py::object>(spec[3]), name));
        break;
      case ColumnType::kTimestamp:
        b.ViewTimestamp(name, Keep<int64_t>(*f, spec[2], name),
                        KeepMask(*f, py::reinterpret_borrow<py::object>(spec[3]), name));
        break;
      case ColumnType::kBool:
        b.ViewBool(name, KeepMask(*f, py::reinterpret_borrow<py::object>(spec[2]), name),
                   KeepMask(*f, py::reinterpret_borrow<py::object>(spec[3]), name));
        break;
      case ColumnType::kCategorical: {
        py::array_t<int32_t> codes = Contiguous<int32_t>(spec[2], name);
        std::vector<int32_t> owned(codes.data(), codes.data() + codes.size());
        b.AddCategoricalCodes(name, std::move(owned), ToStrings(spec[4]));
        break;
      }
    }
  }
  f->frame = Unwrap(std::move(b).Build());
  return f;
}

std::unique_ptr<PyFrame> Wrap(AccountFrame frame) {
  auto f = std::make_unique<PyFrame>();
  f->frame = std::move(frame);
  return f;
}

CsvOptions MakeCsvOptions(const std::string& id_column,
                          const std::map<std::string, std::string>& types,
                          const std::optional<std::vector<std::string>>& na_values,
                          const std::string& delimiter) {
  CsvOptions opt;
  opt.id_column = id_column;
  for (const auto& [name, type] : types) opt.types[name] = Unwrap(ParseColumnType(type));
  if (na_values) opt.na_values = *na_values;
  if (delimiter.size() != 1) throw py::value_error("delimiter must be one character");
  opt.delimiter = delimiter[0];
  return opt;
}

// (type, values, valid_or_None, categories_or_None); the arrays view the frame's memory.
py::tuple ColumnData(const py::object& self, const std::string& name) {
  const PyFrame& f = self.cast<const PyFrame&>();
  const Column* c = Unwrap(f.frame.Get(name));
  py::object values;
  py::object valid = py::none();
  py::object categories = py::none();
  switch (c->type) {
    case ColumnType::kFloat64:
      values = ViewNumpy(c->f64.data(), c->f64.size(), self);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      values = ViewNumpy(c->i64.data(), c->i64.size(), self);
      break;
    case ColumnType::kBool:
      values = ViewNumpy(c->b.data(), c->b.size(), self);
      break;
    case ColumnType::kCategorical: {
      values = ViewNumpy(c->codes.data(), c->codes.size(), self);
      py::list dict;
      for (const std::string& s : c->dictionary) dict.append(s);
      categories = dict;
      break;
    }
  }
  if (!c->valid.empty()) valid = ViewNumpy(c->valid.data(), c->valid.size(), self);
  return py::make_tuple(std::string(ColumnTypeName(c->type)), values, valid, categories);
}

// A column-major float64 matrix is viewed in place; any other layout is copied once.
void AddMetric(PyHistory& h, const std::string& name, const py::handle& values) {
  auto arr = py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(values);
  if (!arr) throw py::type_error("metric '" + name + "': values must be numeric");
  if (arr.ndim() != 2) {
    throw py::value_error("metric '" + name + "': expected an accounts x days matrix, got " +
                          std::to_string(arr.ndim()) + " dimensions");
  }
  if (static_cast<size_t>(arr.shape(0)) != h.history.num_accounts() ||
      static_cast<size_t>(arr.shape(1)) != h.history.num_days()) {
    throw py::value_error("metric '" + name + "': matrix is " + std::to_string(arr.shape(0)) +
                          " x " + std::to_string(arr.shape(1)) + ", expected " +
                          std::to_string(h.history.num_accounts()) + " accounts x " +
                          std::to_string(h.history.num_days()) + " days");
  }
  if (reinterpret_cast<uintptr_t>(arr.data()) % alignof(double) != 0) {  // see Contiguous
    py::array_t<double, py::array::f_style> aligned({arr.shape(0), arr.shape(1)});
    std::memcpy(aligned.mutable_data(), arr.data(), static_cast<size_t>(arr.nbytes()));
    arr = std::move(aligned);
  }
  Check(h.history.ViewMetric(name, {arr.data(), static_cast<size_t>(arr.size())}));
  h.owners.push_back(std::move(arr));
}

py::array_t<double> Window(const PyHistory& h, const std::string& metric, const std::string& op,
                           int days) {
  WindowOp parsed = Unwrap(ParseWindowOp(op));
  std::vector<double> out(h.history.num_accounts());
  absl::Status status;
  {
    py::gil_scoped_release release;
    status = h.history.Window(metric, parsed, days, out);
  }
  Check(status);
  return ToNumpy(std::move(out));
}

void BindHistory(py::module_& m) {
  py::class_<PyHistory>(m, "MetricHistory",
                        "Daily snapshots of float64 metrics: one accounts x days matrix per "
                        "metric, the last day being as_of (native; see cscore.History).")
      .def(py::init<size_t, size_t>(), py::arg("num_accounts"), py::arg("num_days"))
      .def_property_readonly("num_accounts",
                             [](const PyHistory& h) { return h.history.num_accounts(); })
      .def_property_readonly("num_days", [](const PyHistory& h) { return h.history.num_days(); })
      .def_property_readonly("metric_names",
                             [](const PyHistory& h) { return h.history.metric_names(); })
      .def("add_metric", &AddMetric, py::arg("name"), py::arg("values"),
           "Adds an accounts x days matrix (Fortran-order float64 is viewed, not copied).")
      .def(
          "matrix",
          [](const py::object& self, const std::string& metric) {
            const PyHistory& h = self.cast<const PyHistory&>();
            auto map = Unwrap(h.history.Get(metric));
            py::array_t<double> out(
                {static_cast<py::ssize_t>(map.rows()), static_cast<py::ssize_t>(map.cols())},
                {static_cast<py::ssize_t>(sizeof(double)),
                 static_cast<py::ssize_t>(sizeof(double) * map.rows())},
                map.data(), self);
            py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
            return out;
          },
          py::arg("metric"), "The accounts x days matrix of a metric (read-only view).")
      .def("window", &Window, py::arg("metric"), py::arg("op"), py::arg("days"),
           "One aggregate per account over the last `days` days: sum, mean, last, min, max, "
           "trend (slope per day) or pct_change.");
}

BinderRegistrar reg(
    [](py::module_& m) {
      py::class_<PyFrame>(m, "AccountFrame",
                          "Native columnar account table (use cscore.Frame from Python).")
          .def(py::init(&MakeFrame), py::arg("ids"), py::arg("columns"),
               "Builds a frame from account ids and (name, kind, values, valid, categories) "
               "column specs; float64/int64/bool columns view the arrays without copying.")
          .def_property_readonly(
              "num_rows", [](const PyFrame& f) { return f.frame.num_rows(); },
              "Number of accounts.")
          .def("__len__", [](const PyFrame& f) { return f.frame.num_rows(); })
          .def_property_readonly(
              "ids",
              [](const PyFrame& f) {
                py::list out;
                for (const std::string& id : f.frame.ids()) out.append(py::str(id));
                return out;
              },
              "Account ids, in row order.")
          .def_property_readonly(
              "schema",
              [](const PyFrame& f) {
                std::vector<std::pair<std::string, std::string>> out;
                for (const ColumnSpec& s : f.frame.schema())
                  out.emplace_back(s.name, std::string(ColumnTypeName(s.type)));
                return out;
              },
              "[(column name, type name)] in column order.")
          .def("column_data", &ColumnData, py::arg("name"),
               "(type, values, valid, categories) of a column as read-only numpy views.")
          .def(
              "row_of",
              [](const PyFrame& f, const std::string& id) -> std::optional<size_t> {
                return f.frame.RowOf(id);
              },
              py::arg("account_id"), "Row index of an account id, or None.")
          .def(
              "take",
              [](const PyFrame& f, const std::vector<size_t>& rows) {
                for (size_t r : rows) {
                  if (r >= f.frame.num_rows())
                    throw py::index_error("row " + std::to_string(r) + " out of range");
                }
                return Wrap(f.frame.Take(rows));
              },
              py::arg("rows"), "A frame of the given rows, in that order (values copied).");

      m.def(
          "read_csv",
          [](const std::string& path, const std::string& id_column,
             const std::map<std::string, std::string>& types,
             const std::optional<std::vector<std::string>>& na_values,
             const std::string& delimiter) {
            CsvOptions opt = MakeCsvOptions(id_column, types, na_values, delimiter);
            AccountFrame frame;
            {
              py::gil_scoped_release release;
              absl::StatusOr<AccountFrame> r = ReadCsv(path, opt);
              if (!r.ok()) {
                py::gil_scoped_acquire acquire;
                ThrowStatus(r.status());
              }
              frame = *std::move(r);
            }
            return Wrap(std::move(frame));
          },
          py::arg("path"), py::arg("id_column") = "",
          py::arg("types") = std::map<std::string, std::string>{},
          py::arg("na_values") = std::nullopt, py::arg("delimiter") = ",",
          "Reads a CSV file into a native AccountFrame (errors carry file:line:column).");
      m.def(
          "parse_csv",
          [](const std::string& text, const std::string& source_name, const std::string& id_column,
             const std::map<std::string, std::string>& types,
             const std::optional<std::vector<std::string>>& na_values,
             const std::string& delimiter) {
            CsvOptions opt = MakeCsvOptions(id_column, types, na_values, delimiter);
            return Wrap(Unwrap(ParseCsv(text, source_name, opt)));
          },
          py::arg("text"), py::arg("source_name") = "<string>", py::arg("id_column") = "",
          py::arg("types") = std::map<std::string, std::string>{},
          py::arg("na_values") = std::nullopt, py::arg("delimiter") = ",",
          "Parses CSV text into a native AccountFrame.");
      BindHistory(m);
    },
    /*order=*/0);

}  // namespace
}  // namespace cscore::python
