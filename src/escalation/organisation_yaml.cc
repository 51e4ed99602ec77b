#include "cscore/escalation/organisation_yaml.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/str_format.h"
#include "config/yaml_util.h"
#include "escalation/located.h"

namespace cscore {
namespace {

using config::AsDouble;
using config::AsInt;
using config::AsString;
using config::CheckKeys;
using config::ErrorAt;
using escalation_internal::LocatedError;

#define CSCORE_ESC_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(*lhs##_or)

#define CSCORE_ESC_RETURN_IF_ERROR(expr) \
  do {                                   \
    absl::Status s_ = (expr);            \
    if (!s_.ok()) return s_;             \
  } while (0)

SourceLoc Loc(const std::string& source, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return {source, m.line + 1, m.column + 1};
}

absl::StatusOr<std::vector<std::string>> StringList(const std::string& src, const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) return ErrorAt(src, n, "expected a string or a list of strings");
  for (const YAML::Node& item : n) {
    CSCORE_ESC_ASSIGN(s, AsString(src, item));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<absl::Weekday> ParseWeekday(const std::string& src, const YAML::Node& n) {
  CSCORE_ESC_ASSIGN(s, AsString(src, n));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, absl::Weekday> kDays[] = {
      {"monday", absl::Weekday::monday},       {"tuesday", absl::Weekday::tuesday},
      {"wednesday", absl::Weekday::wednesday}, {"thursday", absl::Weekday::thursday},
      {"friday", absl::Weekday::friday},       {"saturday", absl::Weekday::saturday},
      {"sunday", absl::Weekday::sunday}};
  for (const auto& [name, day] : kDays) {
    if (name == s) return day;
  }
  return ErrorAt(src, n, StrCat("unknown weekday '", s, "'"));
}

// "30m", "4h", "2d", "1w"; "none" for a last level that waits forever.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& src, const YAML::Node& n) {
  CSCORE_ESC_ASSIGN(s, AsString(src, n));
  if (s == "none") return absl::InfiniteDuration();
  double value = 0;
  char unit = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%lf%c%n", &value, &unit, &consumed) != 2 ||
      consumed != static_cast<int>(s.size()) || !std::isfinite(value)) {
    return ErrorAt(src, n, StrCat("timeout '", s, "': expected a number and a unit m, h, d or w"));
  }
  if (value <= 0) return ErrorAt(src, n, StrCat("timeout '", s, "' must be positive"));
  switch (unit) {
    case 'm':
      return absl::Minutes(value);
    case 'h':
      return absl::Hours(value);
    case 'd':
      return absl::Hours(24 * value);
    case 'w':
      return absl::Hours(24 * 7 * value);
    default:
      return ErrorAt(src, n, StrCat("timeout '", s, "': unknown unit (expected m, h, d or w)"));
  }
}

absl::StatusOr<absl::Time> ParseTime(const std::string& src, const YAML::Node& n) {
  CSCORE_ESC_ASSIGN(s, AsString(src, n));
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  absl::CivilDay day;
  if (absl::ParseCivilTime(s, &day)) return absl::FromCivil(day, absl::UTCTimeZone());
  return ErrorAt(src, n, StrCat("'", s, "' is not a date (YYYY-MM-DD) or an RFC 3339 time"));
}

absl::StatusOr<TargetDef> ParseTarget(const std::string& src, const YAML::Node& n) {
  TargetDef t;
  t.loc = Loc(src, n);
  if (n.IsScalar()) {
    if (n.Scalar() == "owner_manager") {
      t.kind = TargetDef::Kind::kOwnerManager;
    } else if (n.Scalar() == "domain_owner") {
      t.kind = TargetDef::Kind::kDomainOwner;
    } else {
      return ErrorAt(src, n,
                     StrCat("unknown target '", n.Scalar(),
                            "' (expected owner_manager, domain_owner, {person: id}, {team: id} "
                            "or {role: name})"));
    }
    return t;
  }
  if (!n.IsMap() || n.size() != 1) {
    return ErrorAt(src, n,
                   "a target is owner_manager, domain_owner, {person: id}, {team: id} or "
                   "{role: name}");
  }
  CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, n, {"person", "team", "role"}));
  const auto kv = *n.begin();
  const std::string key = kv.first.Scalar();
  t.kind = key == "person" ? TargetDef::Kind::kPerson
           : key == "team" ? TargetDef::Kind::kTeam
                           : TargetDef::Kind::kRole;
  CSCORE_ESC_ASSIGN(ref, AsString(src, kv.second));
  t.ref = std::move(ref);
  t.loc = Loc(src, kv.second);
  return t;
}

absl::StatusOr<OrganisationConfig> ParseOrganisation(const config::YamlDoc& doc) {
  const std::string& src = doc.source;
  const YAML::Node& root = doc.root;
  if (!root.IsMap()) return ErrorAt(src, root, "expected a mapping with people, teams, ...");
  CSCORE_ESC_RETURN_IF_ERROR(
      CheckKeys(src, root, {"top_roles", "people", "teams", "domain_owners", "sponsors"}));
  OrganisationConfig out;
  OrganisationDef& org = out.organisation;
  org.loc = Loc(src, root);
  if (root["top_roles"]) {
    CSCORE_ESC_ASSIGN(roles, StringList(src, root["top_roles"]));
    org.top_roles = std::move(roles);
  }
  const YAML::Node people = root["people"];
  if (!people || !people.IsSequence()) return ErrorAt(src, root, "'people' must be a list");
  for (const YAML::Node& p : people) {
    CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, p, {"id", "name", "role", "manager", "teams"}));
    PersonDef def;
    def.loc = Loc(src, p);
    CSCORE_ESC_ASSIGN(id, config::RequiredString(src, p, "id"));
    def.id = std::move(id);
    CSCORE_ESC_ASSIGN(role, config::RequiredString(src, p, "role"));
    def.role = std::move(role);
    if (p["name"]) {
      CSCORE_ESC_ASSIGN(name, AsString(src, p["name"]));
      def.name = std::move(name);
    }
    if (p["manager"]) {
      CSCORE_ESC_ASSIGN(manager, AsString(src, p["manager"]));
      def.manager = std::move(manager);
      def.manager_loc = Loc(src, p["manager"]);
    }
    if (p["teams"]) {
      CSCORE_ESC_ASSIGN(teams, StringList(src, p["teams"]));
      def.teams = std::move(teams);
    }
    org.people.push_back(std::move(def));
  }
  if (const YAML::Node teams = root["teams"]) {
    if (!teams.IsSequence()) return ErrorAt(src, teams, "'teams' must be a list");
    for (const YAML::Node& t : teams) {
      CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, t, {"id", "name", "members", "review_day"}));
      TeamDef def;
      def.loc = Loc(src, t);
      CSCORE_ESC_ASSIGN(id, config::RequiredString(src, t, "id"));
      def.id = std::move(id);
      if (t["name"]) {
        CSCORE_ESC_ASSIGN(name, AsString(src, t["name"]));
        def.name = std::move(name);
      }
      if (t["members"]) {
        CSCORE_ESC_ASSIGN(members, StringList(src, t["members"]));
        def.members = std::move(members);
      }
      if (t["review_day"]) {
        CSCORE_ESC_ASSIGN(day, ParseWeekday(src, t["review_day"]));
        def.review_day = day;
      }
      org.teams.push_back(std::move(def));
    }
  }
  if (const YAML::Node owners = root["domain_owners"]) {
    if (!owners.IsMap()) return ErrorAt(src, owners, "'domain_owners' must map domain to team(s)");
    org.loc = Loc(src, owners);
    for (const auto& kv : owners) {
      DomainOwnerDef d;
      d.domain = kv.first.Scalar();
      d.loc = Loc(src, kv.first);
      CSCORE_ESC_ASSIGN(teams, StringList(src, kv.second));
      d.teams = std::move(teams);
      org.domain_owners.push_back(std::move(d));
    }
  }
  if (const YAML::Node sp = root["sponsors"]) {
    CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, sp, {"min_arr", "costs", "pool"}));
    SponsorPoolDef& pool = out.sponsors;
    pool.loc = Loc(src, sp);
    if (sp["min_arr"]) {
      CSCORE_ESC_ASSIGN(min_arr, AsDouble(src, sp["min_arr"]));
      if (min_arr < 0) return ErrorAt(src, sp["min_arr"], "min_arr must not be negative");
      pool.min_arr = min_arr;
    }
    if (const YAML::Node c = sp["costs"]) {
      CSCORE_ESC_RETURN_IF_ERROR(
          CheckKeys(src, c, {"break_relationship", "no_relationship", "imbalance", "bands"}));
      pool.loc = Loc(src, c);
      auto read = [&](const char* key, int64_t& field, int64_t min) -> absl::Status {
        if (!c[key]) return absl::OkStatus();
        absl::StatusOr<int64_t> v = AsInt(src, c[key]);
        if (!v.ok()) return v.status();
        if (*v < min)
          return ErrorAt(src, c[key], absl::StrFormat("%s must be at least %d", key, min));
        field = *v;
        return absl::OkStatus();
      };
      int64_t bands = pool.costs.bands;
      CSCORE_ESC_RETURN_IF_ERROR(read("break_relationship", pool.costs.break_relationship, 0));
      CSCORE_ESC_RETURN_IF_ERROR(read("no_relationship", pool.costs.no_relationship, 0));
      CSCORE_ESC_RETURN_IF_ERROR(read("imbalance", pool.costs.imbalance, 0));
      CSCORE_ESC_RETURN_IF_ERROR(read("bands", bands, 1));
      if (bands > 1000) return ErrorAt(src, c["bands"], "bands must be at most 1000");
      pool.costs.bands = static_cast<int>(bands);
    }
    const YAML::Node list = sp["pool"];
    if (!list || !list.IsSequence()) return ErrorAt(src, sp, "'sponsors.pool' must be a list");
    for (const YAML::Node& s : list) {
      CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, s, {"id", "capacity"}));
      SponsorDef def;
      def.loc = Loc(src, s);
      CSCORE_ESC_ASSIGN(id, config::RequiredString(src, s, "id"));
      def.id = std::move(id);
      if (!s["capacity"]) return ErrorAt(src, s, "missing field 'capacity' (check-ins a week)");
      CSCORE_ESC_ASSIGN(cap, AsDouble(src, s["capacity"]));
      if (!(cap >= 0)) {
        return ErrorAt(src, s["capacity"],
                       absl::StrFormat("sponsor '%s': capacity %g is below zero", def.id, cap));
      }
      def.capacity_per_week = cap;
      pool.sponsors.push_back(std::move(def));
    }
  }
  return out;
}

absl::StatusOr<std::vector<PolicyDef>> ParsePolicies(const config::YamlDoc& doc) {
  const std::string& src = doc.source;
  const YAML::Node& root = doc.root;
  if (!root.IsMap()) return ErrorAt(src, root, "expected a mapping with 'policies'");
  CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, root, {"policies"}));
  const YAML::Node list = root["policies"];
  if (!list || !list.IsSequence()) return ErrorAt(src, root, "'policies' must be a list");
  std::vector<PolicyDef> out;
  for (const YAML::Node& p : list) {
    CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(
        src, p,
        {"id", "version", "effective_from", "stop_on", "repeat", "domains", "min_arr", "levels"}));
    PolicyDef def;
    def.loc = Loc(src, p);
    CSCORE_ESC_ASSIGN(id, config::RequiredString(src, p, "id"));
    def.id = std::move(id);
    if (p["version"]) {
      CSCORE_ESC_ASSIGN(v, AsInt(src, p["version"]));
      if (v < 1 || v > 1000000) return ErrorAt(src, p["version"], "version must be 1 or more");
      def.version = static_cast<int>(v);
    }
    if (p["effective_from"]) {
      CSCORE_ESC_ASSIGN(t, ParseTime(src, p["effective_from"]));
      def.effective_from = t;
    }
    if (p["stop_on"]) {
      CSCORE_ESC_ASSIGN(s, AsString(src, p["stop_on"]));
      if (s == "acknowledge") {
        def.stop_on = PolicyDef::StopOn::kAcknowledge;
      } else if (s == "resolve") {
        def.stop_on = PolicyDef::StopOn::kResolve;
      } else {
        return ErrorAt(src, p["stop_on"],
                       StrCat("stop_on '", s, "': expected acknowledge or resolve"));
      }
    }
    if (p["repeat"]) {
      CSCORE_ESC_ASSIGN(r, AsInt(src, p["repeat"]));
      if (r < 0 || r > PolicyDef::kMaxRepeat) {
        return ErrorAt(
            src, p["repeat"],
            absl::StrFormat("repeat %d is out of range 0..%d", r, PolicyDef::kMaxRepeat));
      }
      def.repeat = static_cast<int>(r);
    }
    if (p["domains"]) {
      CSCORE_ESC_ASSIGN(domains, StringList(src, p["domains"]));
      for (size_t i = 0; i < domains.size(); ++i) {
        if (RiskDomainIndex(domains[i]) < 0) {
          const YAML::Node at = p["domains"].IsSequence() ? p["domains"][i] : p["domains"];
          return ErrorAt(src, at, StrCat("unknown risk domain '", domains[i], "'"));
        }
      }
      def.domains = std::move(domains);
    }
    if (p["min_arr"]) {
      CSCORE_ESC_ASSIGN(m, AsDouble(src, p["min_arr"]));
      if (!(m >= 0)) return ErrorAt(src, p["min_arr"], "min_arr must not be negative");
      def.min_arr = m;
    }
    const YAML::Node levels = p["levels"];
    if (!levels || !levels.IsSequence() || levels.size() == 0) {
      return ErrorAt(src, p, "'levels' must be a non-empty list");
    }
    for (const YAML::Node& l : levels) {
      CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, l, {"targets", "timeout", "when"}));
      LevelDef level;
      level.loc = Loc(src, l);
      const YAML::Node targets = l["targets"];
      if (!targets || !targets.IsSequence() || targets.size() == 0) {
        return ErrorAt(src, l, "'targets' must be a non-empty list");
      }
      for (const YAML::Node& t : targets) {
        CSCORE_ESC_ASSIGN(target, ParseTarget(src, t));
        level.targets.push_back(std::move(target));
      }
      if (l["timeout"]) {
        CSCORE_ESC_ASSIGN(timeout, ParseTimeout(src, l["timeout"]));
        level.timeout = timeout;
      }
      if (const YAML::Node w = l["when"]) {
        CSCORE_ESC_RETURN_IF_ERROR(CheckKeys(src, w, {"any_flag", "min_arr", "tiers"}));
        if (w["any_flag"]) {
          CSCORE_ESC_ASSIGN(flags, StringList(src, w["any_flag"]));
          level.when.any_flag = std::move(flags);
        }
        if (w["min_arr"]) {
          CSCORE_ESC_ASSIGN(m, AsDouble(src, w["min_arr"]));
          level.when.min_arr = m;
        }
        if (w["tiers"]) {
          CSCORE_ESC_ASSIGN(tiers, StringList(src, w["tiers"]));
          level.when.tiers = std::move(tiers);
        }
      }
      def.levels.push_back(std::move(level));
    }
    out.push_back(std::move(def));
  }
  return out;
}

}  // namespace

absl::StatusOr<OrganisationConfig> LoadOrganisationFile(const std::string& path) {
  CSCORE_ESC_ASSIGN(doc, config::LoadYamlFile(path));
  return ParseOrganisation(doc);
}

absl::StatusOr<OrganisationConfig> LoadOrganisationString(std::string_view text,
                                                          std::string source) {
  CSCORE_ESC_ASSIGN(doc, config::LoadYamlString(text, std::move(source)));
  return ParseOrganisation(doc);
}

absl::StatusOr<std::vector<PolicyDef>> LoadPoliciesFile(const std::string& path) {
  CSCORE_ESC_ASSIGN(doc, config::LoadYamlFile(path));
  return ParsePolicies(doc);
}

absl::StatusOr<std::vector<PolicyDef>> LoadPoliciesString(std::string_view text,
                                                          std::string source) {
  CSCORE_ESC_ASSIGN(doc, config::LoadYamlString(text, std::move(source)));
  return ParsePolicies(doc);
}

absl::StatusOr<EscalationSetup> BuildEscalation(const OrganisationConfig& organisation,
                                                std::vector<PolicyDef> policies) {
  CSCORE_ESC_ASSIGN(org, Organisation::Build(organisation.organisation));
  for (const SponsorDef& s : organisation.sponsors.sponsors) {
    if (!org.FindPerson(s.id)) {
      return LocatedError(s.loc,
                          StrCat("sponsor '", s.id, "' is not a person of the organisation"));
    }
  }
  CSCORE_ESC_ASSIGN(esc, Escalator::Build(std::move(org), std::move(policies)));
  return EscalationSetup{std::move(esc), organisation.sponsors};
}

absl::StatusOr<EscalationSetup> LoadEscalation(const std::string& organisation_path,
                                               const std::string& policies_path) {
  CSCORE_ESC_ASSIGN(org, LoadOrganisationFile(organisation_path));
  CSCORE_ESC_ASSIGN(policies, LoadPoliciesFile(policies_path));
  return BuildEscalation(org, std::move(policies));
}

}  // namespace cscore
