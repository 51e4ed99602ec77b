// Scorecards in YAML: one file holds the scorecards of a ScorecardSet (criteria, default,
// groups, measures, scheme, missing-data policy) and the standing overrides. Everything the
// C++ definitions can say, the YAML can say; every error reads "file:line:column: message",
// including errors found later while scoring (an unknown metric names its measure's line).
//
//   absl::StatusOr<cscore::ScorecardSet> set = cscore::LoadScorecardSet("scorecards.yaml");
//   if (!set.ok()) std::cerr << set.status().message();  // scorecards.yaml:12:9: ...
//   absl::StatusOr<cscore::SetBatch> b = set->Score(frame, nullptr, {.as_of = t});
//
// Shape (see examples/demo/config/scorecards.yaml):
//   scorecards:
//     - name: enterprise
//       when: {segment: [enterprise, strategic]}   # or `default: true`
//       aggregation: weighted_mean | worst_of | points   (base: N for points)
//       missing: renormalize | substitute   (substitute: N), min_coverage: 0.5
//       scheme: {kind: color, ranges: [{from: 0, to: 50, label: Poor, color: red}, ...]}
//       groups: [{name: usage, weight: 40, members: [logins, adoption]}]
//       measures:
//         - {name: logins, metric: logins_30d, weight: 20, ramp: {from: 0, to: 40}}
//       members: [usage, ...]   # optional: by default whatever no group lists
//   overrides:
//     - {account: A-1, measure: nps, value: 80, reason: ..., author: ..., expires: 2026-01-31}
#ifndef CSCORE_HEALTH_SCORECARD_YAML_H_
#define CSCORE_HEALTH_SCORECARD_YAML_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cscore/health/scorecard.h"

namespace cscore {

absl::StatusOr<ScorecardSetDef> LoadScorecardsYaml(const std::string& path);
absl::StatusOr<ScorecardSetDef> ParseScorecardsYaml(std::string_view text,
                                                    std::string source = "<string>");
// Load and compile.
absl::StatusOr<ScorecardSet> LoadScorecardSet(const std::string& path);

}  // namespace cscore

#endif  // CSCORE_HEALTH_SCORECARD_YAML_H_
