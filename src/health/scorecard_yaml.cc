// YAML loader of scorecard sets, over the shared config layer.
#include "cscore/health/scorecard_yaml.h"

#include "absl/strings/str_format.h"
#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "cscore/frame/csv.h"

namespace cscore {
namespace {

using config::ErrorAt;

#define CSCORE_YAML_ASSIGN_IMPL(lhs, tmp, expr) \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return tmp.status();           \
  lhs = *std::move(tmp)
#define CSCORE_YAML_CAT2(a, b) a##b
#define CSCORE_YAML_CAT(a, b) CSCORE_YAML_CAT2(a, b)
#define ASSIGN_OR_RETURN(lhs, expr) \
  CSCORE_YAML_ASSIGN_IMPL(lhs, CSCORE_YAML_CAT(_st_, __LINE__), expr)
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (false)

class Loader {
 public:
  explicit Loader(std::string source) : src_(std::move(source)) {}

  absl::StatusOr<ScorecardSetDef> Load(const YAML::Node& root) {
    if (!root.IsMap()) return ErrorAt(src_, root, "expected a map with 'scorecards'");
    RETURN_IF_ERROR(config::CheckKeys(src_, root, {"scorecards", "overrides"}));
    ScorecardSetDef out;
    YAML::Node cards = root["scorecards"];
    if (!cards || !cards.IsSequence() || cards.size() == 0) {
      return ErrorAt(src_, cards ? cards : root, "'scorecards' must be a non-empty list");
    }
    for (const YAML::Node& c : cards) {
      ASSIGN_OR_RETURN(ScorecardChoice choice, Card(c));
      out.scorecards.push_back(std::move(choice));
    }
    if (YAML::Node ov = root["overrides"]) {
      if (!ov.IsSequence()) return ErrorAt(src_, ov, "'overrides' must be a list");
      for (const YAML::Node& o : ov) {
        ASSIGN_OR_RETURN(OverrideDef d, Override(o));
        out.overrides.push_back(std::move(d));
      }
    }
    return out;
  }

 private:
  std::string Loc(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    return absl::StrFormat("%s:%d:%d", src_, m.line + 1, m.column + 1);
  }

  absl::StatusOr<double> Num(const YAML::Node& n) { return config::AsDouble(src_, n); }

  absl::StatusOr<double> Weight(const YAML::Node& map) {
    YAML::Node w = map["weight"];
    if (!w) return 1.0;
    absl::StatusOr<double> v = config::AsDouble(src_, w);
    if (!v.ok()) {
      return ErrorAt(src_, w,
                     absl::StrFormat("weight must be a non-negative number, got '%s'",
                                     w.IsScalar() ? w.Scalar() : std::string("?")));
    }
    if (*v < 0) {
      return ErrorAt(src_, w, absl::StrFormat("weight must be a non-negative number, got %g", *v));
    }
    return *v;
  }

  absl::StatusOr<std::vector<std::string>> Names(const YAML::Node& n) {
    if (!n.IsSequence()) return ErrorAt(src_, n, "expected a list of names");
    std::vector<std::string> out;
    for (const YAML::Node& e : n) {
      ASSIGN_OR_RETURN(std::string s, config::AsString(src_, e));
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<Aggregation> Agg(const YAML::Node& n) {
    ASSIGN_OR_RETURN(std::string s, config::AsString(src_, n));
    if (s == "weighted_mean") return Aggregation::kWeightedMean;
    if (s == "worst_of") return Aggregation::kWorstOf;
    if (s == "points") return Aggregation::kPoints;
    return ErrorAt(src_, n,
                   absl::StrFormat("unknown aggregation '%s' (weighted_mean, worst_of, "
                                   "points)",
                                   s));
  }

  absl::StatusOr<ScorecardChoice> Card(const YAML::Node& c) {
    if (!c.IsMap()) return ErrorAt(src_, c, "a scorecard must be a map");
    RETURN_IF_ERROR(config::CheckKeys(
        src_, c,
        {"name", "default", "when", "aggregation", "base", "missing", "substitute", "min_coverage",
         "trend_threshold", "scheme", "groups", "measures", "members"}));
    ScorecardChoice out;
    ScorecardDef& d = out.def;
    d.location = Loc(c);
    ASSIGN_OR_RETURN(d.name, config::RequiredString(src_, c, "name"));
    if (YAML::Node n = c["default"]) {
      ASSIGN_OR_RETURN(out.is_default, config::AsBool(src_, n));
    }
    if (YAML::Node w = c["when"]) {
      if (!w.IsMap()) return ErrorAt(src_, w, "'when' must map columns to lists of values");
      for (const auto& kv : w) {
        ASSIGN_OR_RETURN(std::string col, config::AsString(src_, kv.first));
        std::vector<std::string> values;
        if (kv.second.IsScalar()) {
          values.push_back(kv.second.Scalar());
        } else {
          ASSIGN_OR_RETURN(values, Names(kv.second));
        }
        out.when.push_back({col, values});
      }
    }
    if (YAML::Node n = c["aggregation"]) {
      ASSIGN_OR_RETURN(d.aggregation, Agg(n));
    }
    if (YAML::Node n = c["base"]) {
      ASSIGN_OR_RETURN(d.base, Num(n));
    }
    if (YAML::Node n = c["missing"]) {
      ASSIGN_OR_RETURN(std::string s, config::AsString(src_, n));
      if (s == "renormalize") {
        d.missing = MissingPolicy::kRenormalize;
      } else if (s == "substitute") {
        d.missing = MissingPolicy::kSubstitute;
      } else {
        return ErrorAt(src_, n,
                       absl::StrFormat("unknown missing-data policy '%s' (renormalize, "
                                       "substitute)",
                                       s));
      }
    }
    if (YAML::Node n = c["substitute"]) {
      ASSIGN_OR_RETURN(d.substitute, Num(n));
    }
    if (YAML::Node n = c["min_coverage"]) {
      ASSIGN_OR_RETURN(d.min_coverage, Num(n));
      if (d.min_coverage < 0 || d.min_coverage > 1) {
        return ErrorAt(src_, n, "min_coverage must be within 0-1");
      }
    }
    if (YAML::Node n = c["trend_threshold"]) {
      ASSIGN_OR_RETURN(d.trend_threshold, Num(n));
    }
    if (YAML::Node s = c["scheme"]) {
      ASSIGN_OR_RETURN(d.scheme, Scheme(s));
    }
    YAML::Node ms = c["measures"];
    if (!ms || !ms.IsSequence() || ms.size() == 0) {
      return ErrorAt(src_, ms ? ms : c, "'measures' must be a non-empty list");
    }
    for (const YAML::Node& m : ms) {
      ASSIGN_OR_RETURN(MeasureDef md, Measure(m));
      d.measures.push_back(std::move(md));
    }
    StringSet listed;
    if (YAML::Node gs = c["groups"]) {
      if (!gs.IsSequence()) return ErrorAt(src_, gs, "'groups' must be a list");
      for (const YAML::Node& g : gs) {
        if (!g.IsMap()) return ErrorAt(src_, g, "a group must be a map");
        RETURN_IF_ERROR(
            config::CheckKeys(src_, g, {"name", "weight", "aggregation", "base", "members"}));
        GroupDef gd;
        gd.location = Loc(g);
        ASSIGN_OR_RETURN(gd.name, config::RequiredString(src_, g, "name"));
        ASSIGN_OR_RETURN(gd.weight, Weight(g));
        if (YAML::Node n = g["aggregation"]) {
          ASSIGN_OR_RETURN(gd.aggregation, Agg(n));
        }
        if (YAML::Node n = g["base"]) {
          ASSIGN_OR_RETURN(gd.base, Num(n));
        }
        if (YAML::Node n = g["members"]) {
          ASSIGN_OR_RETURN(gd.members, Names(n));
        }
        for (const std::string& m : gd.members) listed.insert(m);
        d.groups.push_back(std::move(gd));
      }
    }
    if (YAML::Node n = c["members"]) {
      ASSIGN_OR_RETURN(d.members, Names(n));
    } else {
      // By default the top level holds every group and measure that no group lists.
      for (const GroupDef& g : d.groups) {
        if (!listed.contains(g.name)) d.members.push_back(g.name);
      }
      for (const MeasureDef& m : d.measures) {
        if (!listed.contains(m.name)) d.members.push_back(m.name);
      }
    }
    return out;
  }

  absl::StatusOr<SchemeDef> Scheme(const YAML::Node& s) {
    if (!s.IsMap()) return ErrorAt(src_, s, "a scheme must be a map");
    RETURN_IF_ERROR(config::CheckKeys(src_, s, {"kind", "ranges"}));
    SchemeDef out;
    out.location = Loc(s);
    if (YAML::Node k = s["kind"]) {
      ASSIGN_OR_RETURN(std::string kind, config::AsString(src_, k));
      if (kind == "numeric") {
        out.kind = SchemeKind::kNumeric;
      } else if (kind == "color") {
        out.kind = SchemeKind::kColor;
      } else if (kind == "grade") {
        out.kind = SchemeKind::kGrade;
      } else {
        return ErrorAt(src_, k,
                       absl::StrFormat("unknown scheme kind '%s' (numeric, color, grade)", kind));
      }
    }
    YAML::Node rs = s["ranges"];
    if (!rs || !rs.IsSequence()) return ErrorAt(src_, rs ? rs : s, "'ranges' must be a list");
    out.location = Loc(rs);
    for (const YAML::Node& r : rs) {
      if (!r.IsMap()) return ErrorAt(src_, r, "a range must be a map");
      RETURN_IF_ERROR(config::CheckKeys(src_, r, {"from", "to", "label", "color"}));
      RangeDef rd;
      rd.location = Loc(r);
      ASSIGN_OR_RETURN(rd.from, config::RequiredDouble(src_, r, "from"));
      ASSIGN_OR_RETURN(rd.to, config::RequiredDouble(src_, r, "to"));
      ASSIGN_OR_RETURN(rd.label, config::RequiredString(src_, r, "label"));
      if (YAML::Node col = r["color"]) {
        ASSIGN_OR_RETURN(rd.color, config::AsString(src_, col));
      }
      out.ranges.push_back(std::move(rd));
    }
    return out;
  }

  absl::StatusOr<MeasureDef> Measure(const YAML::Node& m) {
    if (!m.IsMap()) return ErrorAt(src_, m, "a measure must be a map");
    RETURN_IF_ERROR(
        config::CheckKeys(src_, m,
                          {"name", "metric", "window", "weight", "ramp", "inverted_ramp", "bands",
                           "percentile", "boolean", "categories"}));
    MeasureDef d;
    d.location = Loc(m);
    ASSIGN_OR_RETURN(d.name, config::RequiredString(src_, m, "name"));
    ASSIGN_OR_RETURN(d.metric, config::RequiredString(src_, m, "metric"));
    ASSIGN_OR_RETURN(d.weight, Weight(m));
    if (YAML::Node w = m["window"]) {
      if (!w.IsMap()) return ErrorAt(src_, w, "'window' must be {op: ..., days: N}");
      RETURN_IF_ERROR(config::CheckKeys(src_, w, {"op", "days"}));
      ASSIGN_OR_RETURN(std::string op, config::RequiredString(src_, w, "op"));
      absl::StatusOr<WindowOp> wo = ParseWindowOp(op);
      if (!wo.ok()) return ErrorAt(src_, w["op"], ToStd(wo.status().message()));
      WindowSource ws;
      ws.op = *wo;
      if (YAML::Node days = w["days"]) {
        ASSIGN_OR_RETURN(int64_t dd, config::AsInt(src_, days));
        if (dd < 1 || dd > 100000) return ErrorAt(src_, days, "days must be a positive integer");
        ws.days = static_cast<int>(dd);
      }
      d.window = ws;
    }
    int kinds = 0;
    for (const char* k :
         {"ramp", "inverted_ramp", "bands", "percentile", "boolean", "categories"}) {
      if (m[k]) ++kinds;
    }
    if (kinds != 1) {
      return ErrorAt(src_, m,
                     absl::StrFormat("measure '%s' needs exactly one scoring function "
                                     "(ramp, inverted_ramp, bands, percentile, boolean, "
                                     "categories)",
                                     d.name));
    }
    if (YAML::Node r = m["ramp"] ? m["ramp"] : m["inverted_ramp"]) {
      d.kind = m["ramp"] ? MeasureKind::kRamp : MeasureKind::kInvertedRamp;
      if (!r.IsMap()) return ErrorAt(src_, r, "a ramp is {from: x, to: y}");
      RETURN_IF_ERROR(config::CheckKeys(src_, r, {"from", "to", "min", "max"}));
      ASSIGN_OR_RETURN(d.lo, config::RequiredDouble(src_, r, "from"));
      ASSIGN_OR_RETURN(d.hi, config::RequiredDouble(src_, r, "to"));
      if (!(d.lo < d.hi)) return ErrorAt(src_, r, "a ramp needs from < to");
      if (YAML::Node n = r["min"]) {
        ASSIGN_OR_RETURN(d.score_min, Num(n));
      }
      if (YAML::Node n = r["max"]) {
        ASSIGN_OR_RETURN(d.score_max, Num(n));
      }
    } else if (YAML::Node b = m["bands"]) {
      d.kind = MeasureKind::kBands;
      if (!b.IsSequence() || b.size() == 0) return ErrorAt(src_, b, "'bands' must be a list");
      for (size_t i = 0; i < b.size(); ++i) {
        const YAML::Node& e = b[i];
        if (!e.IsMap()) return ErrorAt(src_, e, "a band is {upto: x, score: s}");
        RETURN_IF_ERROR(config::CheckKeys(src_, e, {"upto", "score"}));
        Band band;
        ASSIGN_OR_RETURN(band.score, config::RequiredDouble(src_, e, "score"));
        if (YAML::Node u = e["upto"]) {
          ASSIGN_OR_RETURN(band.upper, Num(u));
          if (!d.bands.empty() && !(band.upper > d.bands.back().upper)) {
            return ErrorAt(src_, u,
                           absl::StrFormat("band bounds must ascend: %g after %g", band.upper,
                                           d.bands.back().upper));
          }
        } else if (i + 1 != b.size()) {
          return ErrorAt(src_, e, "only the last band may omit 'upto'");
        }
        d.bands.push_back(band);
      }
    } else if (YAML::Node p = m["percentile"]) {
      d.kind = MeasureKind::kPercentile;
      if (p.IsMap()) {
        RETURN_IF_ERROR(config::CheckKeys(src_, p, {"within"}));
        if (YAML::Node w = p["within"]) {
          ASSIGN_OR_RETURN(d.within, config::AsString(src_, w));
        }
      } else if (!(p.IsScalar() && p.Scalar() == "population")) {
        return ErrorAt(src_, p, "percentile is 'population' or {within: column}");
      }
    } else if (YAML::Node bo = m["boolean"]) {
      d.kind = MeasureKind::kBoolean;
      if (!bo.IsMap()) return ErrorAt(src_, bo, "boolean is {if_true: s, if_false: s}");
      RETURN_IF_ERROR(config::CheckKeys(src_, bo, {"if_true", "if_false"}));
      if (YAML::Node n = bo["if_true"]) {
        ASSIGN_OR_RETURN(d.if_true, Num(n));
      }
      if (YAML::Node n = bo["if_false"]) {
        ASSIGN_OR_RETURN(d.if_false, Num(n));
      }
    } else if (YAML::Node ca = m["categories"]) {
      d.kind = MeasureKind::kCategory;
      if (!ca.IsMap()) return ErrorAt(src_, ca, "categories is {map: {label: score}, other: s}");
      RETURN_IF_ERROR(config::CheckKeys(src_, ca, {"map", "other"}));
      YAML::Node mp = ca["map"];
      if (!mp || !mp.IsMap() || mp.size() == 0) {
        return ErrorAt(src_, mp ? mp : ca, "'map' must map labels to scores");
      }
      for (const auto& kv : mp) {
        ASSIGN_OR_RETURN(std::string label, config::AsString(src_, kv.first));
        ASSIGN_OR_RETURN(double s, Num(kv.second));
        for (const auto& [l, v] : d.categories) {
          if (l == label) return ErrorAt(src_, kv.first, "category listed twice");
        }
        d.categories.push_back({label, s});
      }
      if (YAML::Node o = ca["other"]) {
        ASSIGN_OR_RETURN(double s, Num(o));
        d.other_category = s;
      }
    }
    return d;
  }

  absl::StatusOr<OverrideDef> Override(const YAML::Node& o) {
    if (!o.IsMap()) return ErrorAt(src_, o, "an override must be a map");
    RETURN_IF_ERROR(
        config::CheckKeys(src_, o, {"account", "measure", "value", "reason", "author", "expires"}));
    OverrideDef d;
    d.location = Loc(o);
    ASSIGN_OR_RETURN(d.account_id, config::RequiredString(src_, o, "account"));
    if (YAML::Node m = o["measure"]) {
      ASSIGN_OR_RETURN(d.measure, config::AsString(src_, m));
    }
    ASSIGN_OR_RETURN(d.value, config::RequiredDouble(src_, o, "value"));
    ASSIGN_OR_RETURN(d.reason, config::RequiredString(src_, o, "reason"));
    ASSIGN_OR_RETURN(d.author, config::RequiredString(src_, o, "author"));
    if (d.reason.empty() || d.author.empty()) {
      return ErrorAt(src_, o, "an override needs a reason and an author");
    }
    if (YAML::Node e = o["expires"]) {
      ASSIGN_OR_RETURN(std::string text, config::AsString(src_, e));
      absl::StatusOr<int64_t> t = ParseTimestamp(text);
      if (!t.ok()) return ErrorAt(src_, e, absl::StrFormat("expires: %s", t.status().message()));
      d.expires = *t;
    }
    return d;
  }

  std::string src_;
};

}  // namespace

absl::StatusOr<ScorecardSetDef> ParseScorecardsYaml(std::string_view text, std::string source) {
  ASSIGN_OR_RETURN(config::YamlDoc doc, config::LoadYamlString(text, source));
  return Loader(doc.source).Load(doc.root);
}

absl::StatusOr<ScorecardSetDef> LoadScorecardsYaml(const std::string& path) {
  ASSIGN_OR_RETURN(config::YamlDoc doc, config::LoadYamlFile(path));
  return Loader(doc.source).Load(doc.root);
}

absl::StatusOr<ScorecardSet> LoadScorecardSet(const std::string& path) {
  ASSIGN_OR_RETURN(ScorecardSetDef def, LoadScorecardsYaml(path));
  return ScorecardSet::Compile(def);
}

}  // namespace cscore
