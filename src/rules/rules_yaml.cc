#include "cscore/rules/rules_yaml.h"

#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "risk/yaml_common.h"

namespace cscore {
namespace {

using risk_internal::At;

SourceRef RefOf(std::string_view source, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return {std::string(source), m.line + 1, m.column + 1};
}

absl::Status OptString(std::string_view src, const YAML::Node& map, const char* key,
                       std::string& out) {
  if (!map[key]) return absl::OkStatus();
  absl::StatusOr<std::string> s = config::AsString(src, map[key]);
  if (!s.ok()) return s.status();
  out = *s;
  return absl::OkStatus();
}

absl::Status OptDays(std::string_view src, const YAML::Node& map, const char* key, int& out) {
  if (!map[key]) return absl::OkStatus();
  absl::StatusOr<int64_t> v = config::AsInt(src, map[key]);
  if (!v.ok()) return v.status();
  if (*v < 0 || *v > 3660) return config::ErrorAt(src, map[key], "days out of range 0..3660");
  out = static_cast<int>(*v);
  return absl::OkStatus();
}

absl::Status OptDomain(std::string_view src, const YAML::Node& map, RiskDomain& out) {
  if (!map["domain"]) return absl::OkStatus();
  absl::StatusOr<std::string> s = config::AsString(src, map["domain"]);
  if (!s.ok()) return s.status();
  absl::StatusOr<RiskDomain> d = ParseScorecardDomain(*s);
  if (!d.ok()) return At(src, map["domain"], d.status());
  out = *d;
  return absl::OkStatus();
}

#define CSCORE_RETURN_IF_ERROR(expr)          \
  do {                                        \
    if (absl::Status _s = (expr); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (0)

absl::StatusOr<RuleAction> ParseAction(std::string_view src, const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) {
    return config::ErrorAt(src, node,
                           "an action is a one-key map: open_cta, close_cta, set_measure or tag");
  }
  const auto kv = *node.begin();
  const std::string kind = kv.first.Scalar();
  const YAML::Node body = kv.second;
  if (kind == "open_cta") {
    CSCORE_RETURN_IF_ERROR(config::CheckKeys(
        src, body,
        {"type", "reason", "domain", "priority", "playbook", "owner_role", "due_in_days"}));
    OpenCtaAction a;
    CSCORE_RETURN_IF_ERROR(OptString(src, body, "type", a.type));
    absl::StatusOr<std::string> reason = config::RequiredString(src, body, "reason");
    if (!reason.ok()) return reason.status();
    a.reason = *reason;
    CSCORE_RETURN_IF_ERROR(OptDomain(src, body, a.domain));
    if (body["priority"]) {
      absl::StatusOr<std::string> p = config::AsString(src, body["priority"]);
      if (!p.ok()) return p.status();
      absl::StatusOr<int> pr = ParsePriority(*p);
      if (!pr.ok()) return At(src, body["priority"], pr.status());
      a.priority = *pr;
    }
    CSCORE_RETURN_IF_ERROR(OptString(src, body, "playbook", a.playbook));
    CSCORE_RETURN_IF_ERROR(OptString(src, body, "owner_role", a.owner_role));
    CSCORE_RETURN_IF_ERROR(OptDays(src, body, "due_in_days", a.due_in_days));
    if (a.type == "Risk" && a.domain == RiskDomain::kNone) {
      return config::ErrorAt(src, body, "a Risk CTA needs a 'domain'");
    }
    return a;
  }
  if (kind == "close_cta") {
    CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, body, {"type", "reason", "domain", "status"}));
    CloseCtaAction a;
    absl::StatusOr<std::string> type = config::RequiredString(src, body, "type");
    if (!type.ok()) return type.status();
    a.type = *type;
    CSCORE_RETURN_IF_ERROR(OptString(src, body, "reason", a.reason));
    CSCORE_RETURN_IF_ERROR(OptDomain(src, body, a.domain));
    absl::StatusOr<std::string> status = config::RequiredString(src, body, "status");
    if (!status.ok()) return status.status();
    a.status = *status;
    return a;
  }
  if (kind == "set_measure") {
    CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, body, {"measure", "value", "expires_in_days"}));
    SetMeasureAction a;
    absl::StatusOr<std::string> m = config::RequiredString(src, body, "measure");
    if (!m.ok()) return m.status();
    a.measure = *m;
    absl::StatusOr<double> v = config::RequiredDouble(src, body, "value");
    if (!v.ok()) return v.status();
    a.value = *v;
    CSCORE_RETURN_IF_ERROR(OptDays(src, body, "expires_in_days", a.expires_in_days));
    return a;
  }
  if (kind == "tag") {
    absl::StatusOr<std::string> t = config::AsString(src, body);
    if (!t.ok()) return t.status();
    if (t->empty()) return config::ErrorAt(src, body, "empty tag");
    return TagAction{*t};
  }
  return config::ErrorAt(
      src, kv.first,
      StrCat("unknown action '", kind, "' (expected open_cta, close_cta, set_measure or tag)"));
}

absl::StatusOr<RuleDef> ParseRule(std::string_view src, const YAML::Node& node) {
  CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, node,
                                           {"name", "when", "threshold", "schedule", "actions",
                                            "once_every_days", "cooldown_after_close_days"}));
  RuleDef r;
  absl::StatusOr<std::string> name = config::RequiredString(src, node, "name");
  if (!name.ok()) return name.status();
  r.name = *name;
  if (node["when"].IsDefined() == node["threshold"].IsDefined()) {
    return config::ErrorAt(
        src, node, StrCat("rule '", r.name, "' needs exactly one of 'when' or 'threshold'"));
  }
  if (node["when"]) {
    absl::StatusOr<std::string> w = config::AsString(src, node["when"]);
    if (!w.ok()) return w.status();
    if (w->empty()) return config::ErrorAt(src, node["when"], "empty condition");
    r.when = *w;
    r.at = risk_internal::ExpressionRef(src, node["when"]);
  } else {
    absl::StatusOr<ThresholdDef> t = risk_internal::ParseThreshold(src, node["threshold"]);
    if (!t.ok()) return t.status();
    r.threshold = *t;
    r.at = RefOf(src, node["threshold"]);
  }
  if (node["schedule"]) {
    absl::StatusOr<std::string> s = config::AsString(src, node["schedule"]);
    if (!s.ok()) return s.status();
    absl::StatusOr<Schedule> sched = ParseSchedule(*s);
    if (!sched.ok()) return At(src, node["schedule"], sched.status());
    r.schedule = *sched;
  }
  CSCORE_RETURN_IF_ERROR(OptDays(src, node, "once_every_days", r.once_every_days));
  CSCORE_RETURN_IF_ERROR(
      OptDays(src, node, "cooldown_after_close_days", r.cooldown_after_close_days));
  const YAML::Node actions = node["actions"];
  if (!actions || !actions.IsSequence() || actions.size() == 0) {
    return config::ErrorAt(src, actions ? actions : node,
                           StrCat("rule '", r.name, "' needs a non-empty 'actions' list"));
  }
  for (const YAML::Node& a : actions) {
    absl::StatusOr<RuleAction> action = ParseAction(src, a);
    if (!action.ok()) return action.status();
    r.actions.push_back(*std::move(action));
    r.action_at.push_back(RefOf(src, a));
  }
  return r;
}

absl::StatusOr<std::vector<RuleDef>> ParseRoot(
    const config::YamlDoc& doc, std::span<const std::string_view> also_allowed = {}) {
  const std::string_view src = doc.source;
  std::vector<std::string_view> allowed = {"rules"};
  allowed.insert(allowed.end(), also_allowed.begin(), also_allowed.end());
  CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, doc.root, allowed));
  const YAML::Node rules = doc.root["rules"];
  if (!rules || !rules.IsSequence()) {
    return config::ErrorAt(src, rules ? rules : doc.root, "'rules' must be a list");
  }
  std::vector<RuleDef> defs;
  for (const YAML::Node& node : rules) {
    absl::StatusOr<RuleDef> r = ParseRule(src, node);
    if (!r.ok()) return r.status();
    for (const RuleDef& prev : defs) {
      if (prev.name == r->name) {
        return config::ErrorAt(src, node["name"], StrCat("duplicate rule name '", r->name, "'"));
      }
    }
    defs.push_back(*std::move(r));
  }
  return defs;
}

}  // namespace

absl::StatusOr<std::vector<RuleDef>> LoadRulesFile(const std::string& path) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlFile(path);
  if (!doc.ok()) return doc.status();
  return ParseRoot(*doc);
}

absl::StatusOr<std::vector<RuleDef>> LoadRulesFile(const std::string& path,
                                                   std::span<const std::string_view> also_allowed) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlFile(path);
  if (!doc.ok()) return doc.status();
  return ParseRoot(*doc, also_allowed);
}

absl::StatusOr<std::vector<RuleDef>> ParseRulesYaml(std::string_view text, std::string source) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlString(text, std::move(source));
  if (!doc.ok()) return doc.status();
  return ParseRoot(*doc);
}

}  // namespace cscore
