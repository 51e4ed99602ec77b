// The Python-side metric history: a MetricHistory plus the numpy matrices it views.
#ifndef CSCORE_BINDINGS_PYTHON_HISTORY_PY_H_
#define CSCORE_BINDINGS_PYTHON_HISTORY_PY_H_

#include <utility>
#include <vector>

#include "cscore/frame/history.h"
#include "module.h"

namespace cscore::python {

struct PyHistory {
  PyHistory(size_t accounts, size_t days) : history(accounts, days) {}
  explicit PyHistory(MetricHistory h) : history(std::move(h)) {}
  // Declared first so it is destroyed last: the history may view these buffers.
  std::vector<py::object> owners;
  MetricHistory history;
};

}  // namespace cscore::python

#endif  // CSCORE_BINDINGS_PYTHON_HISTORY_PY_H_
