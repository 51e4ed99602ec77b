// The configuration directory of a daily run, checked as a whole.
//
// A config directory holds the YAML definitions of every module: scorecards.yaml,
// risk.yaml, rules.yaml, lifecycles/*.yaml, organisation.yaml, escalation.yaml. CheckConfigDir
// reads every *.yaml / *.yml file under it, reports every problem it finds (not only the
// first) as "file:line:column: message", and is what `cscore validate` prints. Each file is
// checked by its module's loader; the CEL conditions of rules and risk signals, which a run
// compiles against the day's snapshot, are also parsed here (columns are not known yet, so
// identifiers are not checked) and each one that cannot compile is reported at its
// character in the YAML file. Lifecycle guards are compiled, and checked, on load.
//
//   cscore::ConfigCheck check = cscore::CheckConfigDir("examples/demo/config");
//   for (const absl::Status& e : check.errors) std::cerr << e.message() << "\n";
//   if (!check.ok()) return 1;
#ifndef CSCORE_ENGINE_CONFIG_DIR_H_
#define CSCORE_ENGINE_CONFIG_DIR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cscore {

struct ConfigCheck {
  std::vector<std::string> files;    // the YAML files read, sorted
  std::vector<absl::Status> errors;  // in file order
  bool ok() const { return errors.empty(); }
};

// Each file must be non-empty UTF-8 YAML whose top level is a mapping, and mean what its
// loader expects.
ConfigCheck CheckConfigDir(const std::string& dir);
// The same checks for one file.
absl::Status CheckConfigFile(const std::string& path);

}  // namespace cscore

#endif  // CSCORE_ENGINE_CONFIG_DIR_H_
