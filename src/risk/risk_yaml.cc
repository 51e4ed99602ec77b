#include "cscore/risk/risk_yaml.h"

#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "risk/yaml_common.h"

namespace cscore {
namespace risk_internal {

SourceRef ExpressionRef(std::string_view source, const YAML::Node& node) {
  SourceRef ref;
  ref.source = std::string(source);
  const YAML::Mark m = node.Mark();
  ref.line = m.line + 1;
  ref.column = m.column + 1;
  // yaml-cpp tags non-plain scalars "!"; for a quoted one the text starts after the quote.
  if (node.Tag() == "!") ref.column += 1;
  return ref;
}

absl::Status At(std::string_view source, const YAML::Node& node, const absl::Status& status) {
  return config::ErrorAt(source, node, ToStd(status.message()));
}

absl::StatusOr<ThresholdDef> ParseThreshold(std::string_view source, const YAML::Node& node) {
  if (auto s = config::CheckKeys(source, node,
                                 {"column", "metric", "window", "days", "compare", "value"});
      !s.ok()) {
    return s;
  }
  ThresholdDef t;
  if (node["column"]) {
    absl::StatusOr<std::string> c = config::AsString(source, node["column"]);
    if (!c.ok()) return c.status();
    t.column = *c;
  }
  if (node["metric"]) {
    absl::StatusOr<std::string> m = config::AsString(source, node["metric"]);
    if (!m.ok()) return m.status();
    t.metric = *m;
  }
  if (t.column.empty() == t.metric.empty()) {
    return config::ErrorAt(source, node, "a threshold needs exactly one of 'column' or 'metric'");
  }
  if (node["window"]) {
    absl::StatusOr<std::string> w = config::AsString(source, node["window"]);
    if (!w.ok()) return w.status();
    absl::StatusOr<WindowOp> op = ParseWindowOp(*w);
    if (!op.ok()) return At(source, node["window"], op.status());
    t.op = *op;
  }
  if (node["days"]) {
    absl::StatusOr<int64_t> d = config::AsInt(source, node["days"]);
    if (!d.ok()) return d.status();
    if (*d < 1 || *d > 100000) return config::ErrorAt(source, node["days"], "days out of range");
    t.days = static_cast<int>(*d);
  }
  absl::StatusOr<std::string> cmp = config::RequiredString(source, node, "compare");
  if (!cmp.ok()) return cmp.status();
  absl::StatusOr<Comparison> c = ParseComparison(*cmp);
  if (!c.ok()) return At(source, node["compare"], c.status());
  t.compare = *c;
  absl::StatusOr<double> v = config::RequiredDouble(source, node, "value");
  if (!v.ok()) return v.status();
  t.value = *v;
  return t;
}

}  // namespace risk_internal

namespace {

using risk_internal::At;

absl::StatusOr<RiskSignalDef> ParseSignal(std::string_view source, const YAML::Node& node) {
  if (auto s = config::CheckKeys(source, node, {"name", "level", "when", "threshold"}); !s.ok()) {
    return s;
  }
  RiskSignalDef sig;
  absl::StatusOr<std::string> name = config::RequiredString(source, node, "name");
  if (!name.ok()) return name.status();
  sig.name = *name;
  if (node["level"]) {
    absl::StatusOr<std::string> l = config::AsString(source, node["level"]);
    if (!l.ok()) return l.status();
    absl::StatusOr<RiskStatus> st = ParseRiskStatus(*l);
    if (!st.ok()) return At(source, node["level"], st.status());
    if (*st == RiskStatus::kGreen) {
      return config::ErrorAt(source, node["level"], "a signal fires yellow or red, not green");
    }
    sig.level = *st;
  }
  if (node["when"].IsDefined() == node["threshold"].IsDefined()) {
    return config::ErrorAt(source, node, "a signal needs exactly one of 'when' or 'threshold'");
  }
  if (node["when"]) {
    absl::StatusOr<std::string> w = config::AsString(source, node["when"]);
    if (!w.ok()) return w.status();
    if (w->empty()) return config::ErrorAt(source, node["when"], "empty condition");
    sig.condition = *w;
    sig.at = risk_internal::ExpressionRef(source, node["when"]);
  } else {
    absl::StatusOr<ThresholdDef> t = risk_internal::ParseThreshold(source, node["threshold"]);
    if (!t.ok()) return t.status();
    sig.threshold = *t;
    sig.at = risk_internal::ExpressionRef(source, node["threshold"]);
  }
  return sig;
}

absl::StatusOr<RiskScorecardDef> ParseRoot(const config::YamlDoc& doc) {
  const std::string_view src = doc.source;
  const YAML::Node& root = doc.root;
  if (auto s = config::CheckKeys(src, root, {"risk_cta_type", "domains"}); !s.ok()) return s;
  RiskScorecardDef def;
  if (root["risk_cta_type"]) {
    absl::StatusOr<std::string> t = config::AsString(src, root["risk_cta_type"]);
    if (!t.ok()) return t.status();
    def.risk_cta_type = *t;
  }
  const YAML::Node domains = root["domains"];
  if (!domains) return def;
  if (!domains.IsMap()) return config::ErrorAt(src, domains, "'domains' must map domain names");
  for (const auto& kv : domains) {
    absl::StatusOr<RiskDomain> d = ParseScorecardDomain(kv.first.Scalar());
    if (!d.ok()) return At(src, kv.first, d.status());
    for (const RiskDomainDef& prev : def.domains) {
      if (prev.domain == *d) return config::ErrorAt(src, kv.first, "domain listed twice");
    }
    RiskDomainDef dd;
    dd.domain = *d;
    const YAML::Node& body = kv.second;
    if (body.IsNull()) {
      def.domains.push_back(std::move(dd));
      continue;
    }
    if (auto s = config::CheckKeys(src, body, {"owner", "signals"}); !s.ok()) return s;
    if (body["owner"]) {
      absl::StatusOr<std::string> o = config::AsString(src, body["owner"]);
      if (!o.ok()) return o.status();
      dd.owner_team = *o;
    }
    if (const YAML::Node sigs = body["signals"]) {
      if (!sigs.IsSequence()) return config::ErrorAt(src, sigs, "'signals' must be a list");
      for (const YAML::Node& s : sigs) {
        absl::StatusOr<RiskSignalDef> sig = ParseSignal(src, s);
        if (!sig.ok()) return sig.status();
        for (const RiskSignalDef& prev : dd.signals) {
          if (prev.name == sig->name) {
            return config::ErrorAt(src, s, StrCat("duplicate signal name '", sig->name, "'"));
          }
        }
        dd.signals.push_back(*std::move(sig));
      }
    }
    def.domains.push_back(std::move(dd));
  }
  return def;
}

}  // namespace

absl::StatusOr<RiskScorecardDef> LoadRiskScorecardFile(const std::string& path) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlFile(path);
  if (!doc.ok()) return doc.status();
  return ParseRoot(*doc);
}

absl::StatusOr<RiskScorecardDef> ParseRiskScorecardYaml(std::string_view text, std::string source) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlString(text, std::move(source));
  if (!doc.ok()) return doc.status();
  return ParseRoot(*doc);
}

}  // namespace cscore
