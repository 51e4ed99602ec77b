// Registration of binding groups into the `_cscore` extension, and the one mapping
// from absl::Status to Python exceptions that every bound function uses.
#ifndef CSCORE_BINDINGS_PYTHON_MODULE_H_
#define CSCORE_BINDINGS_PYTHON_MODULE_H_

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pybind11/pybind11.h"

namespace cscore::python {

namespace py = pybind11;
using Binder = std::function<void(py::module_&)>;

struct BinderRegistrar {
  explicit BinderRegistrar(Binder binder);
};

// InvalidArgument/FailedPrecondition/OutOfRange -> ValueError, NotFound -> KeyError,
// PermissionDenied -> PermissionError, anything else -> RuntimeError; the message is the status
// message, unchanged.
[[noreturn]] inline void ThrowStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      throw py::value_error(std::string(status.message()));
    case absl::StatusCode::kNotFound:
      throw py::key_error(std::string(status.message()));
    case absl::StatusCode::kPermissionDenied:
      PyErr_SetString(PyExc_PermissionError, std::string(status.message()).c_str());
      throw py::error_already_set();
    default:
      throw std::runtime_error(std::string(status.message()));
  }
}

inline void Check(const absl::Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  if (!result.ok()) ThrowStatus(result.status());
  return *std::move(result);
}

}  // namespace cscore::python

#endif  // CSCORE_BINDINGS_PYTHON_MODULE_H_
