// libFuzzer target: the YAML configuration loaders. The first input byte picks the loader
// (scorecards, rules, lifecycle, risk, organisation, escalation policies); the rest is the
// document. Each must return a value or an error naming file:line:column, never crash. What
// loads is compiled as far as it goes without a data set.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/escalation/organisation_yaml.h"
#include "cscore/health/scorecard_yaml.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/rules/rules_yaml.h"

namespace {

// An error from a loader must say where: "<fuzz>:line:column: ..." (or the file alone for
// whole-file problems).
void CheckError(const absl::Status& s) {
  if (s.ok()) return;
  if (s.message().empty()) std::abort();
}

const std::vector<cscore::ColumnSpec>& Schema() {
  static const auto* schema =
      new std::vector<cscore::ColumnSpec>{{"segment", cscore::ColumnType::kCategorical},
                                          {"nps", cscore::ColumnType::kFloat64},
                                          {"open_tickets", cscore::ColumnType::kFloat64},
                                          {"champion_left", cscore::ColumnType::kBool},
                                          {"renewal_date", cscore::ColumnType::kTimestamp},
                                          {"champion_changed_at", cscore::ColumnType::kTimestamp},
                                          {"seats_purchased", cscore::ColumnType::kFloat64}};
  return *schema;
}

cscore::cel::Environment Env() {
  cscore::cel::Environment env;
  env.Declare("segment", cscore::cel::Kind::kString)
      .Declare("nps", cscore::cel::Kind::kDouble)
      .Declare("open_tickets", cscore::cel::Kind::kDouble)
      .Declare("champion_left", cscore::cel::Kind::kBool)
      .Declare("renewal_date", cscore::cel::Kind::kTimestamp)
      .Declare("champion_changed_at", cscore::cel::Kind::kTimestamp)
      .Declare("seats_purchased", cscore::cel::Kind::kDouble)
      .DeclareMetric("logins")
      .DeclareMetric("seats_used");
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string source = "<fuzz>";
  static const std::vector<std::string> metrics = {"logins", "seats_used"};
  switch (data[0] % 6) {
    case 0: {
      auto def = cscore::ParseScorecardsYaml(text, source);
      CheckError(def.status());
      if (def.ok()) CheckError(cscore::ScorecardSet::Compile(*def).status());
      break;
    }
    case 1: {
      auto defs = cscore::ParseRulesYaml(text, source);
      CheckError(defs.status());
      if (defs.ok()) {
        cscore::RuleContext ctx;
        ctx.schema = Schema();
        ctx.history_metrics = metrics;
        ctx.close_statuses = {"closed_success", "closed_lost"};
        auto rules =
            cscore::RuleSet::Compile(*std::move(defs), cscore::CelPredicateCompiler(Env()), ctx);
        CheckError(rules.status());
      }
      break;
    }
    case 2:
      CheckError(cscore::LoadLifecycleString(text, source).status());
      break;
    case 3: {
      auto def = cscore::ParseRiskScorecardYaml(text, source);
      CheckError(def.status());
      if (def.ok()) {
        CheckError(cscore::RiskScorecard::Compile(*def, cscore::CelPredicateCompiler(Env()),
                                                  Schema(), metrics)
                       .status());
      }
      break;
    }
    case 4: {
      auto org = cscore::LoadOrganisationString(text, source);
      CheckError(org.status());
      if (org.ok()) CheckError(cscore::BuildEscalation(*org, {}).status());
      break;
    }
    default:
      CheckError(cscore::LoadPoliciesString(text, source).status());
      break;
  }
  return 0;
}
