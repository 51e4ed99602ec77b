// LoadEngineOptions: every definition of a configuration directory, checked across files.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/engine/engine.h"
#include "cscore/escalation/authority.h"
#include "cscore/escalation/organisation_yaml.h"
#include "cscore/health/scorecard_yaml.h"
#include "cscore/risk/risk_yaml.h"
#include "cscore/rules/rules_yaml.h"
#include "engine/options_internal.h"
#include "engine/status_macros.h"

namespace cscore {
namespace {

namespace fs = std::filesystem;
using config::ErrorAt;

constexpr std::string_view kBuiltinTypes[] = {"Risk", "Lifecycle", "Expansion", "Activity",
                                              "Objective"};

// The organisation's authority, kept alive with the escalator that owns the organisation.
class EscalatorAuthority final : public Authority {
 public:
  explicit EscalatorAuthority(std::shared_ptr<const Escalator> escalator)
      : escalator_(std::move(escalator)), inner_(escalator_->organisation()) {}
  bool IsAbove(const Actor& actor, std::string_view owner) const override {
    return inner_.IsAbove(actor, owner);
  }

 private:
  std::shared_ptr<const Escalator> escalator_;
  OrganisationAuthority inner_;
};

absl::Status StringField(std::string_view src, const YAML::Node& map, const char* key,
                         std::string& out) {
  if (!map[key]) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(out, config::AsString(src, map[key]));
  return absl::OkStatus();
}

absl::Status IntField(std::string_view src, const YAML::Node& map, const char* key, int lo, int hi,
                      int& out) {
  if (!map[key]) return absl::OkStatus();
  CSCORE_ASSIGN_OR_RETURN(int64_t v, config::AsInt(src, map[key]));
  if (v < lo || v > hi) {
    return ErrorAt(src, map[key], absl::StrFormat("'%s' must be in %d..%d", key, lo, hi));
  }
  out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StringList(std::string_view src, const YAML::Node& n) {
  if (!n.IsSequence()) return ErrorAt(src, n, "expected a list");
  std::vector<std::string> out;
  for (const YAML::Node& item : n) {
    CSCORE_ASSIGN_OR_RETURN(std::string s, config::AsString(src, item));
    if (s.empty()) return ErrorAt(src, item, "empty name");
    out.push_back(std::move(s));
  }
  return out;
}

// engine.yaml
absl::Status LoadEngineFile(const std::string& path, EngineOptions& o,
                            engine_internal::ConfigLocations& at) {
  CSCORE_ASSIGN_OR_RETURN(config::YamlDoc doc, config::LoadYamlFile(path));
  const std::string_view src = doc.source;
  const YAML::Node& root = doc.root;
  if (!root.IsMap()) return ErrorAt(src, root, "expected a mapping at the top level");
  CSCORE_RETURN_IF_ERROR(config::CheckKeys(
      src, root, {"history_days", "columns", "owner_columns", "admins", "cta_types"}));
  CSCORE_RETURN_IF_ERROR(IntField(src, root, "history_days", 1, 3660, o.history_days));
  if (const YAML::Node c = root["columns"]) {
    CSCORE_RETURN_IF_ERROR(
        config::CheckKeys(src, c, {"arr", "tier", "renewal_at_risk", "edm_left", "sale_sponsor"}));
    CSCORE_RETURN_IF_ERROR(StringField(src, c, "arr", o.columns.arr));
    CSCORE_RETURN_IF_ERROR(StringField(src, c, "tier", o.columns.tier));
    CSCORE_RETURN_IF_ERROR(StringField(src, c, "renewal_at_risk", o.columns.renewal_at_risk));
    CSCORE_RETURN_IF_ERROR(StringField(src, c, "edm_left", o.columns.edm_left));
    CSCORE_RETURN_IF_ERROR(StringField(src, c, "sale_sponsor", o.columns.sale_sponsor));
  }
  if (const YAML::Node oc = root["owner_columns"]) {
    if (!oc.IsMap()) return ErrorAt(src, oc, "'owner_columns' maps an owner role to a column");
    for (const auto& kv : oc) {
      CSCORE_ASSIGN_OR_RETURN(std::string role, config::AsString(src, kv.first));
      CSCORE_ASSIGN_OR_RETURN(std::string column, config::AsString(src, kv.second));
      if (role.empty() || column.empty()) return ErrorAt(src, kv.first, "empty role or column");
      o.owner_columns.emplace_back(std::move(role), std::move(column));
    }
  }
  if (const YAML::Node a = root["admins"]) {
    CSCORE_ASSIGN_OR_RETURN(o.admins, StringList(src, a));
    at.admins = std::string(config::ErrorAt(src, a, "").message());
  }
  if (const YAML::Node t = root["cta_types"]) {
    CSCORE_ASSIGN_OR_RETURN(o.cta_types, StringList(src, t));
    for (const std::string& type : o.cta_types) {
      if (std::find(std::begin(kBuiltinTypes), std::end(kBuiltinTypes), type) !=
          std::end(kBuiltinTypes)) {
        return ErrorAt(src, t, StrCat("'", type, "' is a built-in CTA type"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TimedCtaTemplate> ParseTemplate(std::string_view src, const YAML::Node& n,
                                               TimedCtaTemplate t) {
  if (!n) return t;
  CSCORE_RETURN_IF_ERROR(
      config::CheckKeys(src, n, {"type", "reason", "priority", "playbook", "owner_role"}));
  CSCORE_RETURN_IF_ERROR(StringField(src, n, "type", t.type));
  CSCORE_RETURN_IF_ERROR(StringField(src, n, "reason", t.reason));
  CSCORE_RETURN_IF_ERROR(StringField(src, n, "playbook", t.playbook));
  CSCORE_RETURN_IF_ERROR(StringField(src, n, "owner_role", t.owner_role));
  if (n["priority"]) {
    CSCORE_ASSIGN_OR_RETURN(std::string p, config::AsString(src, n["priority"]));
    absl::StatusOr<int> pr = ParsePriority(p);
    if (!pr.ok()) return ErrorAt(src, n["priority"], ToStd(pr.status().message()));
    t.priority = *pr;
  }
  if (t.type.empty() || t.reason.empty())
    return ErrorAt(src, n, "a timed CTA needs a type and a reason");
  return t;
}

// rules.yaml: `playbooks` and `timed`, beside the `rules` the rules module reads.
absl::Status LoadRulesExtras(const std::string& path, EngineOptions& o,
                             engine_internal::ConfigLocations& at) {
  CSCORE_ASSIGN_OR_RETURN(config::YamlDoc doc, config::LoadYamlFile(path));
  const std::string_view src = doc.source;
  const YAML::Node& root = doc.root;
  if (const YAML::Node pbs = root["playbooks"]) {
    if (!pbs.IsSequence()) return ErrorAt(src, pbs, "'playbooks' must be a list");
    for (const YAML::Node& p : pbs) {
      CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, p, {"name", "tasks"}));
      PlaybookDef def;
      CSCORE_ASSIGN_OR_RETURN(def.name, config::RequiredString(src, p, "name"));
      for (const PlaybookDef& prev : o.playbooks) {
        if (prev.name == def.name) {
          return ErrorAt(src, p["name"], StrCat("playbook '", def.name, "' is defined twice"));
        }
      }
      const YAML::Node tasks = p["tasks"];
      if (tasks && !tasks.IsSequence()) return ErrorAt(src, tasks, "'tasks' must be a list");
      if (tasks) {
        for (const YAML::Node& t : tasks) {
          CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, t, {"title", "due_in_days", "owner_role"}));
          PlaybookTaskDef task;
          CSCORE_ASSIGN_OR_RETURN(task.title, config::RequiredString(src, t, "title"));
          int days = 0;
          CSCORE_RETURN_IF_ERROR(IntField(src, t, "due_in_days", 0, 3660, days));
          task.due_offset = absl::Hours(24) * days;
          if (t["owner_role"]) {
            CSCORE_ASSIGN_OR_RETURN(std::string role, config::AsString(src, t["owner_role"]));
            absl::StatusOr<Role> r = ParseRole(role);
            if (!r.ok()) return ErrorAt(src, t["owner_role"], ToStd(r.status().message()));
            task.owner_role = *r;
          }
          def.tasks.push_back(std::move(task));
        }
      }
      at.playbooks.push_back(std::string(ErrorAt(src, p, "").message()));
      o.playbooks.push_back(std::move(def));
    }
  }
  const YAML::Node timed = root["timed"];
  if (!timed) return absl::OkStatus();
  CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, timed, {"milestones", "qbrs", "check_ins"}));
  if (const YAML::Node ms = timed["milestones"]) {
    if (!ms.IsSequence()) return ErrorAt(src, ms, "'milestones' must be a list");
    for (const YAML::Node& m : ms) {
      CSCORE_RETURN_IF_ERROR(
          config::CheckKeys(src, m, {"name", "start_column", "days", "lead_days", "cta"}));
      MilestoneDef def;
      CSCORE_ASSIGN_OR_RETURN(def.name, config::RequiredString(src, m, "name"));
      CSCORE_ASSIGN_OR_RETURN(def.start_column, config::RequiredString(src, m, "start_column"));
      if (const YAML::Node days = m["days"]) {
        if (!days.IsSequence() || days.size() == 0) {
          return ErrorAt(src, days, "'days' must be a non-empty list of day offsets");
        }
        def.days.clear();
        for (const YAML::Node& d : days) {
          CSCORE_ASSIGN_OR_RETURN(int64_t v, config::AsInt(src, d));
          if (v < 1 || v > 3660) return ErrorAt(src, d, "a milestone day must be in 1..3660");
          def.days.push_back(static_cast<int>(v));
        }
      }
      CSCORE_RETURN_IF_ERROR(IntField(src, m, "lead_days", 0, 365, def.lead_days));
      CSCORE_ASSIGN_OR_RETURN(def.cta, ParseTemplate(src, m["cta"], def.cta));
      at.timed.push_back(std::string(ErrorAt(src, m, "").message()));
      o.timed.milestones.push_back(std::move(def));
    }
  }
  if (const YAML::Node qs = timed["qbrs"]) {
    if (!qs.IsSequence()) return ErrorAt(src, qs, "'qbrs' must be a list");
    for (const YAML::Node& q : qs) {
      CSCORE_RETURN_IF_ERROR(
          config::CheckKeys(src, q, {"name", "start_column", "every_months", "lead_days", "cta"}));
      QbrDef def;
      CSCORE_RETURN_IF_ERROR(StringField(src, q, "name", def.name));
      CSCORE_ASSIGN_OR_RETURN(def.start_column, config::RequiredString(src, q, "start_column"));
      CSCORE_RETURN_IF_ERROR(IntField(src, q, "every_months", 1, 24, def.every_months));
      CSCORE_RETURN_IF_ERROR(IntField(src, q, "lead_days", 0, 365, def.lead_days));
      CSCORE_ASSIGN_OR_RETURN(def.cta, ParseTemplate(src, q["cta"], def.cta));
      at.timed.push_back(std::string(ErrorAt(src, q, "").message()));
      o.timed.qbrs.push_back(std::move(def));
    }
  }
  if (const YAML::Node ci = timed["check_ins"]) {
    CSCORE_RETURN_IF_ERROR(config::CheckKeys(src, ci, {"name", "cta"}));
    CheckInDef def;
    CSCORE_RETURN_IF_ERROR(StringField(src, ci, "name", def.name));
    CSCORE_ASSIGN_OR_RETURN(def.cta, ParseTemplate(src, ci["cta"], def.cta));
    at.check_ins = std::string(ErrorAt(src, ci, "").message());
    o.timed.check_ins = std::move(def);
  }
  return absl::OkStatus();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string WhereOf(const SourceRef& r) {
  if (r.source.empty() && r.line == 0) return "";
  return StrCat(r.source, ":", r.line, ":", r.column, ": ");
}

}  // namespace

namespace engine_internal {

absl::Status CheckAcrossFiles(const EngineOptions& o, const ConfigLocations& at) {
  std::vector<std::string> types(std::begin(kBuiltinTypes), std::end(kBuiltinTypes));
  types.insert(types.end(), o.cta_types.begin(), o.cta_types.end());
  for (const Lifecycle& lc : o.lifecycles) {
    for (const std::string& t : lc.types()) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  auto known_type = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) != types.end();
  };
  auto known_playbook = [&](const std::string& p) {
    return p.empty() || std::any_of(o.playbooks.begin(), o.playbooks.end(),
                                    [&](const PlaybookDef& d) { return d.name == p; });
  };
  std::vector<std::string> closed;
  const std::vector<Lifecycle> defaults = {Lifecycle::Default()};
  for (const Lifecycle& lc : o.lifecycles.empty() ? defaults : o.lifecycles) {
    for (int s = 0; s < lc.status_count(); ++s) {
      if (IsClosed(lc.category(s))) closed.push_back(lc.status_name(s));
    }
  }
  const std::string type_list = Join(types);
  if (o.rules) {
    for (const RuleDef& r : *o.rules) {
      for (size_t i = 0; i < r.actions.size(); ++i) {
        const std::string where = i < r.action_at.size() && r.action_at[i].line > 0
                                      ? WhereOf(r.action_at[i])
                                      : WhereOf(r.at);
        const std::string label = StrCat(where, "rule '", r.name, "', action ", i + 1, ": ");
        if (const auto* open = std::get_if<OpenCtaAction>(&r.actions[i])) {
          if (!known_type(open->type)) {
            return absl::InvalidArgumentError(
                StrCat(label, "unknown CTA type '", open->type, "' (known: ", type_list,
                       "; declare others in engine.yaml cta_types or a lifecycle's types)"));
          }
          if (!known_playbook(open->playbook)) {
            return absl::InvalidArgumentError(StrCat(label, "unknown playbook '", open->playbook,
                                                     "' (define it under rules.yaml playbooks)"));
          }
        } else if (const auto* close = std::get_if<CloseCtaAction>(&r.actions[i])) {
          if (!known_type(close->type)) {
            return absl::InvalidArgumentError(
                StrCat(label, "unknown CTA type '", close->type, "' (known: ", type_list, ")"));
          }
          if (std::find(closed.begin(), closed.end(), close->status) == closed.end()) {
            return absl::InvalidArgumentError(StrCat(label, "'", close->status,
                                                     "' is not a closed status of any lifecycle (",
                                                     Join(closed), ")"));
          }
        }
      }
    }
  }
  auto check_template = [&](const std::string& where, const std::string& name,
                            const TimedCtaTemplate& t) -> absl::Status {
    if (!known_type(t.type)) {
      return absl::InvalidArgumentError(StrCat(where, "timed CTA '", name, "': unknown CTA type '",
                                               t.type, "' (known: ", type_list, ")"));
    }
    if (!known_playbook(t.playbook)) {
      return absl::InvalidArgumentError(
          StrCat(where, "timed CTA '", name, "': unknown playbook '", t.playbook, "'"));
    }
    return absl::OkStatus();
  };
  size_t k = 0;
  for (const MilestoneDef& m : o.timed.milestones) {
    CSCORE_RETURN_IF_ERROR(check_template(k < at.timed.size() ? at.timed[k] : "", m.name, m.cta));
    ++k;
  }
  for (const QbrDef& q : o.timed.qbrs) {
    CSCORE_RETURN_IF_ERROR(check_template(k < at.timed.size() ? at.timed[k] : "", q.name, q.cta));
    ++k;
  }
  if (o.timed.check_ins) {
    CSCORE_RETURN_IF_ERROR(
        check_template(at.check_ins, o.timed.check_ins->name, o.timed.check_ins->cta));
    if (!o.sponsors || o.sponsors->sponsors.empty()) {
      return absl::InvalidArgumentError(
          StrCat(at.check_ins,
                 "executive check-ins need a sponsor pool (organisation.yaml "
                 "sponsors.pool)"));
    }
  }
  if (!o.admins.empty()) {
    for (const std::string& a : o.admins) {
      if (!o.escalator) {
        return absl::InvalidArgumentError(
            StrCat(at.admins, "admins need an organisation (organisation.yaml)"));
      }
      if (!o.escalator->organisation().FindPerson(a)) {
        return absl::InvalidArgumentError(
            StrCat(at.admins, "admin '", a, "' is not a person of the organisation"));
      }
    }
  }
  // The CTA store must accept the lifecycles, types and playbooks together.
  absl::StatusOr<std::unique_ptr<CtaStore>> store = CtaStore::Create(o.CtaOptions());
  if (!store.ok()) {
    return absl::InvalidArgumentError(
        StrCat(at.lifecycles, "CTA configuration: ", std::string(store.status().message())));
  }
  return absl::OkStatus();
}

}  // namespace engine_internal

CtaStoreOptions EngineOptions::CtaOptions() const {
  CtaStoreOptions o;
  o.lifecycles = lifecycles;
  o.playbooks = playbooks;
  std::vector<std::string> types = cta_types;
  for (const Lifecycle& lc : lifecycles) {
    for (const std::string& t : lc.types()) {
      const bool builtin = std::find(std::begin(kBuiltinTypes), std::end(kBuiltinTypes), t) !=
                           std::end(kBuiltinTypes);
      if (!builtin && std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  o.custom_types = std::move(types);
  if (escalator) o.authority = std::make_shared<const EscalatorAuthority>(escalator);
  return o;
}

absl::StatusOr<EngineOptions> LoadEngineOptions(const std::string& config_dir) {
  std::error_code ec;
  if (!fs::is_directory(config_dir, ec)) {
    return absl::NotFoundError(absl::StrFormat("%s: not a configuration directory", config_dir));
  }
  const fs::path dir(config_dir);
  auto present = [&](const char* name) {
    std::error_code e;
    return fs::is_regular_file(dir / name, e);
  };
  EngineOptions o;
  engine_internal::ConfigLocations at;
  if (present("engine.yaml")) {
    CSCORE_RETURN_IF_ERROR(LoadEngineFile((dir / "engine.yaml").string(), o, at));
  }
  if (present("scorecards.yaml")) {
    CSCORE_ASSIGN_OR_RETURN(ScorecardSet set, LoadScorecardSet((dir / "scorecards.yaml").string()));
    o.scorecards = std::make_shared<const ScorecardSet>(std::move(set));
  }
  if (present("risk.yaml")) {
    CSCORE_ASSIGN_OR_RETURN(RiskScorecardDef risk,
                            LoadRiskScorecardFile((dir / "risk.yaml").string()));
    o.risk = std::move(risk);
  }
  if (present("rules.yaml")) {
    const std::string path = (dir / "rules.yaml").string();
    const std::string_view extra[] = {"playbooks", "timed"};
    CSCORE_ASSIGN_OR_RETURN(std::vector<RuleDef> rules, LoadRulesFile(path, extra));
    o.rules = std::move(rules);
    CSCORE_RETURN_IF_ERROR(LoadRulesExtras(path, o, at));
  }
  if (fs::is_directory(dir / "lifecycles", ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir / "lifecycles", ec)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      CSCORE_ASSIGN_OR_RETURN(Lifecycle lc, LoadLifecycleFile(f));
      o.lifecycles.push_back(std::move(lc));
    }
    at.lifecycles = (dir / "lifecycles").string() + ": ";
  }
  const bool has_org = present("organisation.yaml"), has_policies = present("escalation.yaml");
  if (has_policies && !has_org) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: escalation policies need the organisation (organisation.yaml is missing)",
        (dir / "escalation.yaml").string()));
  }
  if (has_org) {
    CSCORE_ASSIGN_OR_RETURN(OrganisationConfig org,
                            LoadOrganisationFile((dir / "organisation.yaml").string()));
    std::vector<PolicyDef> policies;
    if (has_policies) {
      CSCORE_ASSIGN_OR_RETURN(policies, LoadPoliciesFile((dir / "escalation.yaml").string()));
    }
    CSCORE_ASSIGN_OR_RETURN(EscalationSetup setup, BuildEscalation(org, std::move(policies)));
    o.escalator = std::make_shared<const Escalator>(std::move(setup.escalator));
    if (!setup.sponsors.sponsors.empty()) o.sponsors = std::move(setup.sponsors);
  }
  CSCORE_RETURN_IF_ERROR(engine_internal::CheckAcrossFiles(o, at));
  return o;
}

}  // namespace cscore
