// The `_cscore` extension module. Each bind_*.cc adds one capability through a
// registrar, so the bindings grow module by module without touching this file.
#include "module.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "pybind11/eval.h"

namespace cscore::python {
namespace {

struct Entry {
  int order;
  Binder binder;
};

std::vector<Entry>& Binders() {
  static std::vector<Entry> binders;
  return binders;
}

// Exception classes live for the life of the interpreter; handles are deliberately leaked so
// no Python object is released after finalization.
struct Exceptions {
  PyObject* base = nullptr;
  PyObject* invalid = nullptr;
  PyObject* not_found = nullptr;
  PyObject* exists = nullptr;
  PyObject* permission = nullptr;
};

Exceptions& Errors() {
  static Exceptions e;
  return e;
}

constexpr const char* kExceptionSource = R"PY(
class Error(RuntimeError):
    """Base of every cscore error; str(e) is the library's message, e.code its status code."""
    code = "UNKNOWN"

class InvalidArgumentError(Error, ValueError):
    """Bad input: a definition, a config (file:line:column) or data (account and column)."""

class NotFoundError(Error, KeyError):
    """A named thing (column, measure, account, CTA...) does not exist."""
    def __str__(self):
        return str(self.args[0]) if self.args else ""

class AlreadyExistsError(Error, ValueError):
    """A name or id that must be unique is already taken."""

class PermissionDeniedError(Error, PermissionError):
    """The actor may not perform this transition or action."""
)PY";

void DefineExceptions(py::module_& m) {
  py::dict scope;
  scope["__name__"] = m.attr("__name__");
  scope["__builtins__"] = py::module_::import("builtins");
  py::exec(kExceptionSource, scope);
  Exceptions& e = Errors();
  auto take = [&](const char* name) {
    py::object cls = scope[name];
    cls.attr("__module__") = "cscore";
    m.attr(name) = cls;
    return cls.release().ptr();
  };
  e.base = take("Error");
  e.invalid = take("InvalidArgumentError");
  e.not_found = take("NotFoundError");
  e.exists = take("AlreadyExistsError");
  e.permission = take("PermissionDeniedError");
}

}  // namespace

BinderRegistrar::BinderRegistrar(Binder binder, int order) {
  Binders().push_back({order, std::move(binder)});
}

void ThrowStatus(const absl::Status& status) {
  const Exceptions& e = Errors();
  PyObject* cls = e.base;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      cls = e.invalid;
      break;
    case absl::StatusCode::kNotFound:
      cls = e.not_found;
      break;
    case absl::StatusCode::kAlreadyExists:
      cls = e.exists;
      break;
    case absl::StatusCode::kPermissionDenied:
      cls = e.permission;
      break;
    default:
      break;
  }
  py::object exc = py::reinterpret_borrow<py::object>(cls)(std::string(status.message()));
  exc.attr("code") = absl::StatusCodeToString(status.code());
  PyErr_SetObject(cls, exc.ptr());
  throw py::error_already_set();
}

std::vector<std::string> ToStrings(const py::handle& seq) {
  std::vector<std::string> out;
  out.reserve(py::len(seq));
  for (py::handle item : seq) out.push_back(py::str(item).cast<std::string>());
  return out;
}

}  // namespace cscore::python

PYBIND11_MODULE(_cscore, m) {
  m.doc() = "cscore: customer-success health scores, risk, CTAs and escalation";
  cscore::python::DefineExceptions(m);
  auto& binders = cscore::python::Binders();
  std::stable_sort(binders.begin(), binders.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& entry : binders) entry.binder(m);
}
