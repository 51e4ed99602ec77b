#include "cscore/engine/config_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/strings/str_format.h"
#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/cta/store.h"
#include "cscore/engine/engine.h"
#include "cscore/escalation/organisation_yaml.h"
#include "cscore/expr/cel.h"
#include "cscore/health/scorecard_yaml.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/rules/rules_yaml.h"
#include "engine/utf8.h"

namespace cscore {
namespace {

// Rule and risk conditions are compiled only against a day's snapshot, by `cscore run`.
// Compiling them here with identifiers unchecked (their columns are not known yet) refuses
// what no snapshot could make valid: syntax errors, wrong metric-function arity, a result
// that cannot be a bool. The message reads as the run's would, at the expression's character.
class ConditionChecker {
 public:
  ConditionChecker() : compile_(CelPredicateCompiler(cel::Environment().DisableCheck())) {}

  void Check(const std::string& condition, const SourceRef& at, std::string_view what,
             std::vector<absl::Status>& errors) const {
    if (condition.empty()) return;  // a threshold, checked against the snapshot's schema
    absl::StatusOr<std::shared_ptr<const BatchPredicate>> p = compile_(condition);
    if (p.ok()) return;
    errors.push_back(absl::InvalidArgumentError(
        ToAbsl(StrCat(LocateExpressionError(at, ToStd(p.status().message())), " (", what, ")"))));
  }

 private:
  PredicateCompiler compile_;
};

void CheckRuleConditions(const std::vector<RuleDef>& rules, std::vector<absl::Status>& errors) {
  const ConditionChecker checker;
  for (const RuleDef& r : rules) checker.Check(r.when, r.at, StrCat("rule '", r.name, "'"), errors);
}

void CheckRiskConditions(const RiskScorecardDef& risk, std::vector<absl::Status>& errors) {
  const ConditionChecker checker;
  for (const RiskDomainDef& d : risk.domains) {
    for (const RiskSignalDef& s : d.signals) {
      checker.Check(s.condition, s.at,
                    StrCat("domain ", RiskDomainName(d.domain), ", signal '", s.name, "'"), errors);
    }
  }
}

}  // namespace

absl::Status CheckConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("%s: cannot open file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (size_t bad = internal::FirstInvalidUtf8(text); bad != std::string_view::npos) {
    size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    size_t nl = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    size_t column = nl == std::string::npos || bad == 0 ? bad + 1 : bad - nl;
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: invalid UTF-8 byte 0x%02x", path,
                                                      line, column,
                                                      static_cast<unsigned char>(text[bad])));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("%s:1:1: file is empty", path));
  }
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlString(text, path);
  if (!doc.ok()) {
    // LoadYamlString moves its source name into the document before parsing, so a parse
    // error arrives without the file name; put it back.
    std::string msg(doc.status().message());
    if (!msg.empty() && msg[0] == ':') return absl::InvalidArgumentError(path + msg);
    return doc.status();
  }
  // A second document would be silently ignored by every loader: refuse it.
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: holds %d YAML documents; a config file holds one", path, docs.size()));
    }
  } catch (const YAML::Exception& e) {
    return config::ErrorAt(path, e.mark, e.msg);
  }
  if (!doc->root.IsMap()) {
    return config::ErrorAt(path, doc->root, "expected a mapping at the top level");
  }
  return absl::OkStatus();
}

ConfigCheck CheckConfigDir(const std::string& dir) {
  ConfigCheck check;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    check.errors.push_back(
        absl::NotFoundError(absl::StrFormat("%s: not a configuration directory", dir)));
    return check;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    if (ext == ".yaml" || ext == ".yml") check.files.push_back(it->path().string());
  }
  if (ec) {
    check.errors.push_back(absl::UnavailableError(
        absl::StrFormat("%s: cannot list the directory: %s", dir, ec.message())));
  }
  std::sort(check.files.begin(), check.files.end());
  if (check.files.empty() && check.errors.empty()) {
    check.errors.push_back(
        absl::NotFoundError(absl::StrFormat("%s: no YAML files (*.yaml, *.yml)", dir)));
  }
  std::string organisation, policies;
  bool organisation_ok = false, policies_ok = false;
  for (const std::string& f : check.files) {
    if (absl::Status s = CheckConfigFile(f); !s.ok()) {
      check.errors.push_back(std::move(s));
      continue;
    }
    // Well-formed YAML: now each module's loader checks what the file means.
    const std::filesystem::path p(f);
    const std::string name = p.filename().string();
    absl::Status s;
    if (p.parent_path().filename() == "lifecycles") {
      s = LoadLifecycleFile(f).status();
    } else if (name == "scorecards.yaml") {
      s = LoadScorecardSet(f).status();
    } else if (name == "risk.yaml") {
      absl::StatusOr<RiskScorecardDef> risk = LoadRiskScorecardFile(f);
      s = risk.status();
      if (risk.ok()) CheckRiskConditions(*risk, check.errors);
    } else if (name == "rules.yaml") {
      const std::string_view extra[] = {"playbooks", "timed"};
      absl::StatusOr<std::vector<RuleDef>> rules = LoadRulesFile(f, extra);
      s = rules.status();
      if (rules.ok()) CheckRuleConditions(*rules, check.errors);
    } else if (name == "organisation.yaml") {
      organisation = f;
      s = LoadOrganisationFile(f).status();
      organisation_ok = s.ok();
    } else if (name == "escalation.yaml") {
      policies = f;
      s = LoadPoliciesFile(f).status();
      policies_ok = s.ok();
    }
    if (!s.ok()) check.errors.push_back(std::move(s));
  }
  // Policies name people and teams of the organisation: check the two together.
  if (organisation_ok && policies_ok) {
    if (absl::Status s = LoadEscalation(organisation, policies).status(); !s.ok()) {
      check.errors.push_back(std::move(s));
    }
  }
  // Each file is sound: now what the engine reads across them (engine.yaml, rules.yaml's
  // playbooks and timed CTAs, CTA types and playbooks named by rules, admins...).
  if (check.ok()) {
    if (absl::Status s = LoadEngineOptions(dir).status(); !s.ok()) {
      check.errors.push_back(std::move(s));
    }
  }
  return check;
}

}  // namespace cscore
