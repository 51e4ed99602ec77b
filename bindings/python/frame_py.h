// The Python-side account frame: an AccountFrame plus the numpy arrays it views, so the
// arrays live exactly as long as the frame that reads them. Every binding that evaluates
// over accounts takes a `PyFrame`.
#ifndef CSCORE_BINDINGS_PYTHON_FRAME_PY_H_
#define CSCORE_BINDINGS_PYTHON_FRAME_PY_H_

#include <vector>

#include "cscore/frame/frame.h"
#include "module.h"

namespace cscore::python {

struct PyFrame {
  // Declared first so it is destroyed last: the frame below may view these buffers.
  std::vector<py::object> owners;
  AccountFrame frame;
};

}  // namespace cscore::python

#endif  // CSCORE_BINDINGS_PYTHON_FRAME_PY_H_
