// Registration of binding groups into the `_cscore` extension, the one mapping from
// absl::Status to Python exceptions that every bound function uses, and the numpy glue the
// binding files share.
//
//   static cscore::python::BinderRegistrar reg([](py::module_& m) {
//     m.def("load", [](const std::string& p) { return Unwrap(cscore::Load(p)); });
//   });
#ifndef CSCORE_BINDINGS_PYTHON_MODULE_H_
#define CSCORE_BINDINGS_PYTHON_MODULE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pybind11/numpy.h"
#include "pybind11/pybind11.h"

namespace cscore::python {

namespace py = pybind11;
using Binder = std::function<void(py::module_&)>;

// Binders run in registration order; a binder that needs another's types (every binder
// needs AccountFrame) registers with a later `order`.
struct BinderRegistrar {
  explicit BinderRegistrar(Binder binder, int order = 100);
};

// The single Status -> exception mapping. Every exception derives from cscore.Error and
// carries the status message unchanged (str(e) == message) and the code name in e.code:
//   InvalidArgument, FailedPrecondition, OutOfRange -> cscore.InvalidArgumentError (ValueError)
//   NotFound                                        -> cscore.NotFoundError (KeyError)
//   AlreadyExists                                   -> cscore.AlreadyExistsError (ValueError)
//   PermissionDenied                                -> cscore.PermissionDeniedError
//   (PermissionError) anything else                                   -> cscore.Error
//   (RuntimeError)
[[noreturn]] void ThrowStatus(const absl::Status& status);

inline void Check(const absl::Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  if (!result.ok()) ThrowStatus(result.status());
  return *std::move(result);
}

// A numpy array that owns a moved-in std::vector: results go to Python without a copy.
template <typename T>
py::array_t<T> ToNumpy(std::vector<T>&& values) {
  auto* heap = new std::vector<T>(std::move(values));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {sizeof(T)}, heap->data(), owner);
}

// A read-only numpy view of memory owned by `base` (kept alive by the array).
template <typename T>
py::array_t<T> ViewNumpy(const T* data, size_t size, py::handle base) {
  py::array_t<T> out({static_cast<py::ssize_t>(size)}, {sizeof(T)}, data, base);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

std::vector<std::string> ToStrings(const py::handle& seq);

}  // namespace cscore::python

#endif  // CSCORE_BINDINGS_PYTHON_MODULE_H_
