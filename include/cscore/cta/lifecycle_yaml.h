// Loading CTA lifecycles from YAML. The document holds one lifecycle (statuses, events,
// transitions with their guards, timed events); it is compiled on load, and every error
// reads "file:line:column: message" pointing at the offending status, event, transition or
// guard character.
//
//   absl::StatusOr<cscore::Lifecycle> lc =
//       cscore::LoadLifecycleFile("examples/demo/config/lifecycles/default.yaml");
//   if (!lc.ok()) std::cerr << lc.status() << "\n";  // e.g. "default.yaml:12:7: ..."
#ifndef CSCORE_CTA_LIFECYCLE_YAML_H_
#define CSCORE_CTA_LIFECYCLE_YAML_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cscore/cta/lifecycle.h"

namespace cscore {

absl::StatusOr<Lifecycle> LoadLifecycleFile(const std::string& path);
absl::StatusOr<Lifecycle> LoadLifecycleString(std::string_view yaml,
                                              std::string source = "<string>");
// The YAML text of the built-in default lifecycle.
std::string_view DefaultLifecycleYaml();

}  // namespace cscore

#endif  // CSCORE_CTA_LIFECYCLE_YAML_H_
