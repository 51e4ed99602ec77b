// Checks of a configuration directory that span files (engine internal).
#ifndef CSCORE_SRC_ENGINE_OPTIONS_INTERNAL_H_
#define CSCORE_SRC_ENGINE_OPTIONS_INTERNAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cscore/engine/engine.h"

namespace cscore::engine_internal {

// "file:line:column: " prefixes of definitions whose structs do not carry a location.
struct ConfigLocations {
  std::vector<std::string> playbooks;  // one per playbook
  std::vector<std::string> timed;      // milestones, then QBRs
  std::string check_ins;
  std::string admins;
  std::string lifecycles;  // the lifecycles directory
};

// Rules and timed CTAs against the CTA types, playbooks and closed statuses; check-ins
// against the sponsor pool; admins against the organisation; the CTA store's options.
absl::Status CheckAcrossFiles(const EngineOptions& options, const ConfigLocations& at);

}  // namespace cscore::engine_internal

#endif  // CSCORE_SRC_ENGINE_OPTIONS_INTERNAL_H_
