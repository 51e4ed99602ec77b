// The `_cscore` extension module. Each bind_*.cc adds one capability through a
// registrar, so the bindings grow module by module without touching this file.
#include "module.h"

#include <vector>

namespace cscore::python {

std::vector<Binder>& Binders() {
  static std::vector<Binder> binders;
  return binders;
}

BinderRegistrar::BinderRegistrar(Binder binder) { Binders().push_back(std::move(binder)); }

}  // namespace cscore::python

PYBIND11_MODULE(_cscore, m) {
  m.doc() = "cscore: customer-success health scores, risk, CTAs and escalation";
  for (const auto& bind : cscore::python::Binders()) bind(m);
}
