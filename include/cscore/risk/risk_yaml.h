// Loading the risk scorecard definition from YAML (e.g. examples/demo/config/risk.yaml).
//
// The loader fills a RiskScorecardDef and records where each condition sits, so that a
// later RiskScorecard::Compile reports expression errors at the YAML character.
//
//   absl::StatusOr<cscore::RiskScorecardDef> def = cscore::LoadRiskScorecardFile("risk.yaml");
//   if (!def.ok()) std::cerr << def.status().message();   // "risk.yaml:7:15: ..."
//   auto card = cscore::RiskScorecard::Compile(*def, compile_cel, frame.schema(), metrics);
#ifndef CSCORE_RISK_RISK_YAML_H_
#define CSCORE_RISK_RISK_YAML_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cscore/risk/scorecard.h"

namespace cscore {

absl::StatusOr<RiskScorecardDef> LoadRiskScorecardFile(const std::string& path);
absl::StatusOr<RiskScorecardDef> ParseRiskScorecardYaml(std::string_view text,
                                                        std::string source = "<string>");

}  // namespace cscore

#endif  // CSCORE_RISK_RISK_YAML_H_
