// Loading rule definitions from YAML (e.g. examples/demo/config/rules.yaml).
//
// Fills RuleDefs and records where each guard and action sits, so that parse errors
// (unknown fields, actions, domains, schedules) and later compile errors (unknown columns,
// metrics, measures; guards that do not compile) all read "file:line:column: message".
//
//   absl::StatusOr<std::vector<cscore::RuleDef>> defs = cscore::LoadRulesFile("rules.yaml");
//   if (!defs.ok()) return defs.status();
//   auto rules = cscore::RuleSet::Compile(*std::move(defs), compile_cel, context);
#ifndef CSCORE_RULES_RULES_YAML_H_
#define CSCORE_RULES_RULES_YAML_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cscore/rules/rules.h"

namespace cscore {

absl::StatusOr<std::vector<RuleDef>> LoadRulesFile(const std::string& path);
// As above, but the document may also hold the top-level keys `also_allowed`, which another
// loader reads (the engine's rules.yaml also holds timed CTAs and playbooks).
absl::StatusOr<std::vector<RuleDef>> LoadRulesFile(const std::string& path,
                                                   std::span<const std::string_view> also_allowed);
absl::StatusOr<std::vector<RuleDef>> ParseRulesYaml(std::string_view text,
                                                    std::string source = "<string>");

}  // namespace cscore

#endif  // CSCORE_RULES_RULES_YAML_H_
