// The Python-side CTA store, shared by the bindings that read or change it (rules,
// escalation, risk): the store plus the Python object its authority may view.
#ifndef CSCORE_BINDINGS_PYTHON_CTA_PY_H_
#define CSCORE_BINDINGS_PYTHON_CTA_PY_H_

#include <memory>

#include "cscore/cta/store.h"
#include "module.h"

namespace cscore::python {

struct PyCtaStore {
  // Declared first so it is destroyed last: the authority may view an organisation owned on
  // the Python side.
  py::object authority_owner;
  std::unique_ptr<CtaStore> store;
};

}  // namespace cscore::python

#endif  // CSCORE_BINDINGS_PYTHON_CTA_PY_H_
