// Escalation from Python: the organisation (reporting lines, teams, domain owners; IsAbove,
// chains, DOT), the escalator built from organisation.yaml + escalation.yaml (the CLI's
// loaders and messages), chains / accountable / due steps / inboxes of flagged CTAs, firing
// due steps into a CTA store, and executive sponsor assignment.
//
// Times cross as integer microseconds since the epoch; cscore/escalation.py converts them.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "cscore/escalation/authority.h"
#include "cscore/escalation/organisation.h"
#include "cscore/escalation/organisation_yaml.h"
#include "cscore/escalation/policy.h"
#include "cscore/escalation/sponsors.h"
#include "cscore/escalation/timers.h"
#include "cta_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

absl::Time At(int64_t micros) { return absl::FromUnixMicros(micros); }

int64_t Micros(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  return absl::ToUnixMicros(t);
}

absl::CivilDay Day(const std::string& text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    ThrowStatus(absl::InvalidArgumentError("bad date '" + text + "' (expected YYYY-MM-DD)"));
  }
  return day;
}

struct PyOrganisation {
  OrganisationConfig config;
  std::shared_ptr<const Organisation> org;
};

std::unique_ptr<PyOrganisation> MakeOrganisation(OrganisationConfig config) {
  auto out = std::make_unique<PyOrganisation>();
  out->org = std::make_shared<const Organisation>(Unwrap(Organisation::Build(config.organisation)));
  out->config = std::move(config);
  return out;
}

// The store's authority from an organisation it shares: admins, or anyone above the owner.
class SharedOrganisationAuthority final : public Authority {
 public:
  explicit SharedOrganisationAuthority(std::shared_ptr<const Organisation> org)
      : org_(std::move(org)) {}
  bool IsAbove(const Actor& actor, std::string_view owner) const override {
    return OrganisationAuthority(*org_).IsAbove(actor, owner);
  }

 private:
  std::shared_ptr<const Organisation> org_;
};

PersonId Person(const Organisation& org, const std::string& id) {
  std::optional<PersonId> p = org.FindPerson(id);
  if (!p) ThrowStatus(absl::NotFoundError("unknown person '" + id + "'"));
  return *p;
}

TeamId Team(const Organisation& org, const std::string& id) {
  std::optional<TeamId> t = org.FindTeam(id);
  if (!t) ThrowStatus(absl::NotFoundError("unknown team '" + id + "'"));
  return *t;
}

py::list People(const PyOrganisation& o) {
  const Organisation& org = *o.org;
  py::list out;
  for (PersonId p = 0; p < org.num_people(); ++p) {
    const PersonDef& d = org.person(p);
    std::vector<std::string> teams;
    for (TeamId t : org.teams_of(p)) teams.push_back(org.team(t).id);
    out.append(
        py::make_tuple(d.id, d.name, d.role,
                       org.manager(p) == kNoId ? std::string() : org.person(org.manager(p)).id,
                       org.depth(p), teams));
  }
  return out;
}

py::list Teams(const PyOrganisation& o) {
  const Organisation& org = *o.org;
  static constexpr const char* kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                          "friday", "saturday", "sunday"};
  py::list out;
  for (TeamId t = 0; t < org.num_teams(); ++t) {
    const TeamDef& d = org.team(t);
    std::vector<std::string> members;
    for (PersonId p : org.members(t)) members.push_back(org.person(p).id);
    py::object review = py::none();
    if (d.review_day) review = py::str(kDays[static_cast<int>(*d.review_day)]);
    out.append(py::make_tuple(d.id, d.name, members, review));
  }
  return out;
}

py::dict DomainOwners(const PyOrganisation& o) {
  const Organisation& org = *o.org;
  py::dict d;
  for (size_t i = 0; i < kRiskDomains.size(); ++i) {
    std::vector<std::string> teams;
    for (TeamId t : org.domain_owners(static_cast<int>(i))) teams.push_back(org.team(t).id);
    d[py::str(std::string(kRiskDomains[i]))] = teams;
  }
  return d;
}

py::dict PoolDict(const SponsorPoolDef& pool) {
  py::dict d;
  std::vector<std::pair<std::string, double>> sponsors;
  for (const SponsorDef& s : pool.sponsors) sponsors.emplace_back(s.id, s.capacity_per_week);
  d["sponsors"] = sponsors;
  d["min_arr"] = pool.min_arr;
  py::dict costs;
  costs["break_relationship"] = pool.costs.break_relationship;
  costs["no_relationship"] = pool.costs.no_relationship;
  costs["imbalance"] = pool.costs.imbalance;
  costs["bands"] = pool.costs.bands;
  d["costs"] = costs;
  return d;
}

// ---------------------------------------------------------------------------------------
// Escalator.

struct PyEscalator {
  std::shared_ptr<const EscalationSetup> setup;
  const Escalator& esc() const { return setup->escalator; }
  const Organisation& org() const { return setup->escalator.organisation(); }
};

CtaEscalationInput InputOf(const py::dict& d) {
  CtaEscalationInput in;
  auto get = [&](const char* key) -> py::object {
    return d.contains(key) ? py::reinterpret_borrow<py::object>(d[key]) : py::object(py::none());
  };
  auto str = [&](const char* key) {
    py::object v = get(key);
    return v.is_none() ? std::string() : py::str(v).cast<std::string>();
  };
  auto flag = [&](const char* key) {
    py::object v = get(key);
    return !v.is_none() && v.cast<bool>();
  };
  auto time = [&](const char* key, absl::Time fallback) {
    py::object v = get(key);
    return v.is_none() ? fallback : At(v.cast<int64_t>());
  };
  if (!d.contains("id")) throw py::key_error("a CTA needs 'id'");
  in.id = d["id"].cast<int64_t>();
  in.account_id = str("account_id");
  in.owner = str("owner");
  in.domain = str("domain");
  py::object arr = get("arr");
  in.arr = arr.is_none() ? 0.0 : arr.cast<double>();
  in.tier = str("tier");
  in.renewal_at_risk = flag("renewal_at_risk");
  in.adoption_red = flag("adoption_red");
  in.edm_left = flag("edm_left");
  if (get("raised_at").is_none()) {
    throw py::value_error("CTA " + std::to_string(in.id) + " needs 'raised_at'");
  }
  in.raised_at = time("raised_at", absl::InfinitePast());
  in.acknowledged_at = time("acknowledged_at", absl::InfiniteFuture());
  in.resolved_at = time("resolved_at", absl::InfiniteFuture());
  in.policy_id = str("policy_id");
  py::object version = get("policy_version");
  in.policy_version = version.is_none() ? 0 : version.cast<int>();
  return in;
}

py::dict InputDict(const CtaEscalationInput& in) {
  py::dict d;
  d["id"] = in.id;
  d["account_id"] = in.account_id;
  d["owner"] = in.owner;
  d["domain"] = in.domain;
  d["arr"] = in.arr;
  d["tier"] = in.tier;
  d["renewal_at_risk"] = in.renewal_at_risk;
  d["adoption_red"] = in.adoption_red;
  d["edm_left"] = in.edm_left;
  auto opt = [](absl::Time t) -> py::object {
    if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return py::none();
    return py::int_(absl::ToUnixMicros(t));
  };
  d["raised_at"] = opt(in.raised_at);
  d["acknowledged_at"] = opt(in.acknowledged_at);
  d["resolved_at"] = opt(in.resolved_at);
  d["policy_id"] = in.policy_id;
  d["policy_version"] = in.policy_version;
  return d;
}

std::vector<CtaEscalationInput> Inputs(const std::vector<py::dict>& ctas) {
  std::vector<CtaEscalationInput> out;
  out.reserve(ctas.size());
  for (const py::dict& d : ctas) out.push_back(InputOf(d));
  return out;
}

using StateTuple = std::tuple<std::string, int, int>;

EscalationState StateOf(const StateTuple& t) {
  EscalationState s;
  s.policy_id = std::get<0>(t);
  s.policy_version = std::get<1>(t);
  s.next_step = std::get<2>(t);
  return s;
}

StateTuple TupleOf(const EscalationState& s) {
  return {s.policy_id, s.policy_version, s.next_step};
}

// (kind, id, review_on or None) per target, with people and teams by their config ids.
py::list TargetList(const Organisation& org, const Targets& targets) {
  py::list out;
  for (const ResolvedTarget& t : targets) {
    std::string id;
    if (t.id != kNoId) id = t.is_team ? org.team(t.id).id : org.person(t.id).id;
    py::object review = py::none();
    if (t.review_on.year() > 0) review = py::str(absl::FormatCivilTime(t.review_on));
    out.append(py::make_tuple(t.is_team ? "team" : "person", id, review));
  }
  return out;
}

py::dict StepDict(const Organisation& org, const EscalationStep& s) {
  py::dict d;
  d["flat"] = s.flat;
  d["repeat"] = s.repeat;
  d["level"] = s.level;
  d["fire_at"] = Micros(s.fire_at);
  d["fired"] = s.fired;
  d["targets"] = TargetList(org, s.targets);
  return d;
}

py::dict ChainDict(const Organisation& org, const EscalationChain& c) {
  py::dict d;
  d["cta_id"] = c.cta_id;
  d["policy_id"] = std::string(c.policy_id);
  d["policy_version"] = c.policy_version;
  py::list steps;
  for (const EscalationStep& s : c.steps) steps.append(StepDict(org, s));
  d["steps"] = steps;
  d["stopped_at"] = c.stopped_at == absl::InfiniteFuture()
                        ? py::object(py::none())
                        : py::object(py::int_(Micros(c.stopped_at)));
  d["accountable"] = TargetList(org, c.accountable);
  return d;
}

struct PyDueBatch {
  std::shared_ptr<const EscalationSetup> setup;
  DueBatch batch;
};

py::list Events(const PyDueBatch& b) {
  const Organisation& org = b.setup->escalator.organisation();
  py::list out;
  for (const EscalationEvent& e : b.batch.events) {
    py::dict d = StepDict(org, e.step);
    d["cta_id"] = e.cta_id;
    d["account_id"] = e.account_id;
    d["policy_id"] = e.policy_id;
    d["policy_version"] = e.policy_version;
    d["reason"] = EscalationReason(e, org);
    out.append(d);
  }
  return out;
}

py::list InboxList(const std::vector<InboxItem>& items) {
  py::list out;
  for (const InboxItem& i : items) {
    out.append(py::make_tuple(i.cta_id, Micros(i.waiting_since), i.level));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Sponsors.

SponsorPoolDef PoolOf(const py::dict& d) {
  SponsorPoolDef pool;
  if (d.contains("sponsors")) {
    for (auto item : d["sponsors"]) {
      auto t = item.cast<py::tuple>();
      SponsorDef s;
      s.id = t[0].cast<std::string>();
      s.capacity_per_week = t[1].cast<double>();
      pool.sponsors.push_back(std::move(s));
    }
  }
  if (d.contains("min_arr")) pool.min_arr = d["min_arr"].cast<double>();
  if (d.contains("costs")) {
    py::dict c = d["costs"].cast<py::dict>();
    if (c.contains("break_relationship"))
      pool.costs.break_relationship = c["break_relationship"].cast<int64_t>();
    if (c.contains("no_relationship"))
      pool.costs.no_relationship = c["no_relationship"].cast<int64_t>();
    if (c.contains("imbalance")) pool.costs.imbalance = c["imbalance"].cast<int64_t>();
    if (c.contains("bands")) pool.costs.bands = c["bands"].cast<int>();
  }
  return pool;
}

struct PySponsorPlan {
  SponsorPlan plan;
};

using AccountTuple = std::tuple<std::string, double, std::string, std::string, std::string>;

std::unique_ptr<PySponsorPlan> Assign(const py::dict& pool_dict,
                                      const std::vector<AccountTuple>& accounts) {
  SponsorPoolDef pool = PoolOf(pool_dict);
  std::vector<SponsorAccount> in;
  in.reserve(accounts.size());
  for (const auto& [id, arr, tier, current, sale] : accounts) {
    in.push_back({id, arr, tier, current, sale});
  }
  absl::StatusOr<SponsorPlan> plan;
  {
    py::gil_scoped_release release;
    plan = AssignSponsors(pool, in);
  }
  auto out = std::make_unique<PySponsorPlan>();
  out->plan = Unwrap(std::move(plan));
  return out;
}

void BindOrganisation(py::module_& m) {
  py::class_<PyOrganisation>(m, "OrganisationCore",
                             "A built organisation (see cscore.Organisation).")
      .def_static(
          "load",
          [](const std::string& path) {
            return MakeOrganisation(Unwrap(LoadOrganisationFile(path)));
          },
          py::arg("path"), "Loads organisation.yaml; errors read file:line:column.")
      .def_static(
          "from_yaml",
          [](const std::string& text, const std::string& source) {
            return MakeOrganisation(Unwrap(LoadOrganisationString(text, source)));
          },
          py::arg("text"), py::arg("source") = "<string>")
      .def_property_readonly("num_people",
                             [](const PyOrganisation& o) { return o.org->num_people(); })
      .def_property_readonly("num_teams",
                             [](const PyOrganisation& o) { return o.org->num_teams(); })
      .def("people", &People, "(id, name, role, manager, depth, teams) per person.")
      .def("teams", &Teams, "(id, name, members, review_day) per team.")
      .def("domain_owners", &DomainOwners, "Risk domain -> owning team ids.")
      .def("sponsor_pool", [](const PyOrganisation& o) { return PoolDict(o.config.sponsors); })
      .def(
          "is_above",
          [](const PyOrganisation& o, const std::string& actor, const std::string& owner) {
            return o.org->IsAbove(actor, owner);
          },
          py::arg("actor"), py::arg("owner"))
      .def(
          "reporting_chain",
          [](const PyOrganisation& o, const std::string& person) {
            std::vector<std::string> out;
            for (PersonId p : o.org->ReportingChain(Person(*o.org, person)))
              out.push_back(o.org->person(p).id);
            return out;
          },
          py::arg("person"))
      .def(
          "nearest_with_role",
          [](const PyOrganisation& o, const std::string& person, const std::string& role,
             bool include_self) -> std::optional<std::string> {
            PersonId p = o.org->NearestWithRole(Person(*o.org, person), role, include_self);
            if (p == kNoId) return std::nullopt;
            return o.org->person(p).id;
          },
          py::arg("person"), py::arg("role"), py::arg("include_self") = false)
      .def(
          "first_with_role",
          [](const PyOrganisation& o, const std::string& role) -> std::optional<std::string> {
            PersonId p = o.org->FirstWithRole(role);
            if (p == kNoId) return std::nullopt;
            return o.org->person(p).id;
          },
          py::arg("role"))
      .def(
          "team_members",
          [](const PyOrganisation& o, const std::string& team) {
            std::vector<std::string> out;
            for (PersonId p : o.org->members(Team(*o.org, team)))
              out.push_back(o.org->person(p).id);
            return out;
          },
          py::arg("team"))
      .def("to_dot", [](const PyOrganisation& o) { return o.org->ToDot(); })
      .def(
          "authority",
          [](const PyOrganisation& o) -> std::shared_ptr<Authority> {
            return std::make_shared<SharedOrganisationAuthority>(o.org);
          },
          "The CTA store's authority: admins, or anyone above the CTA's owner.");
}

void BindEscalator(py::module_& m) {
  py::class_<PyDueBatch>(m, "DueBatchCore", "Escalation steps due by a time, and the new states.")
      .def("events", &Events)
      .def("states",
           [](const PyDueBatch& b) {
             std::vector<StateTuple> out;
             for (const EscalationState& s : b.batch.states) out.push_back(TupleOf(s));
             return out;
           })
      .def(
          "fire",
          [](const PyDueBatch& b, PyCtaStore& store) {
            EscalationFireReport r;
            {
              py::gil_scoped_release release;
              r = FireEscalations(b.batch, b.setup->escalator, *store.store);
            }
            std::vector<std::pair<size_t, std::string>> rejected;
            for (const auto& [i, st] : r.rejected)
              rejected.emplace_back(i, std::string(st.message()));
            return py::make_tuple(r.fired, rejected);
          },
          py::arg("store"), "Fires each due step's escalation event on its CTA in the store.");

  py::class_<PyEscalator>(m, "EscalatorCore",
                          "Compiled escalation policies (see cscore.Escalator).")
      .def_static(
          "build",
          [](const PyOrganisation& org, const std::string& policies_text,
             const std::string& policies_source, bool from_file) {
            std::vector<PolicyDef> policies =
                Unwrap(from_file ? LoadPoliciesFile(policies_source)
                                 : LoadPoliciesString(policies_text, policies_source));
            auto out = std::make_unique<PyEscalator>();
            out->setup = std::make_shared<const EscalationSetup>(
                Unwrap(BuildEscalation(org.config, std::move(policies))));
            return out;
          },
          py::arg("organisation"), py::arg("policies_text"), py::arg("policies_source"),
          py::arg("from_file"),
          "Builds from an organisation and escalation.yaml (a path when from_file).")
      .def_static(
          "load",
          [](const std::string& organisation_path, const std::string& policies_path) {
            auto out = std::make_unique<PyEscalator>();
            out->setup = std::make_shared<const EscalationSetup>(
                Unwrap(LoadEscalation(organisation_path, policies_path)));
            return out;
          },
          py::arg("organisation_path"), py::arg("policies_path"),
          "LoadEscalation: organisation.yaml + escalation.yaml, checked together.")
      .def("sponsor_pool", [](const PyEscalator& e) { return PoolDict(e.setup->sponsors); })
      .def(
          "chain",
          [](const PyEscalator& e, const py::dict& cta, int64_t at_us,
             const std::optional<StateTuple>& state) {
            CtaEscalationInput in = InputOf(cta);
            std::optional<EscalationState> st;
            if (state) st = StateOf(*state);
            return ChainDict(e.org(), Unwrap(e.esc().Chain(in, At(at_us), st ? &*st : nullptr)));
          },
          py::arg("cta"), py::arg("at_us"), py::arg("state") = std::nullopt)
      .def(
          "accountable",
          [](const PyEscalator& e, const py::dict& cta, int64_t at_us,
             const std::optional<StateTuple>& state) {
            CtaEscalationInput in = InputOf(cta);
            std::optional<EscalationState> st;
            if (state) st = StateOf(*state);
            return TargetList(e.org(),
                              Unwrap(e.esc().Accountable(in, At(at_us), st ? &*st : nullptr)));
          },
          py::arg("cta"), py::arg("at_us"), py::arg("state") = std::nullopt)
      .def(
          "due",
          [](const PyEscalator& e, const std::vector<py::dict>& ctas,
             const std::vector<StateTuple>& states, int64_t as_of_us) {
            std::vector<CtaEscalationInput> in = Inputs(ctas);
            std::vector<EscalationState> st;
            for (const StateTuple& t : states) st.push_back(StateOf(t));
            absl::StatusOr<DueBatch> due;
            {
              py::gil_scoped_release release;
              due = e.esc().Due(in, st, At(as_of_us));
            }
            auto out = std::make_unique<PyDueBatch>();
            out->setup = e.setup;
            out->batch = Unwrap(std::move(due));
            return out;
          },
          py::arg("ctas"), py::arg("states"), py::arg("as_of_us"))
      .def(
          "inbox",
          [](const PyEscalator& e, const std::vector<py::dict>& ctas,
             const std::optional<std::string>& person, const std::optional<std::string>& team,
             int64_t as_of_us) {
            if (person.has_value() == team.has_value()) {
              throw py::value_error("give exactly one of person= or team=");
            }
            std::vector<CtaEscalationInput> in = Inputs(ctas);
            return InboxList(Unwrap(person ? e.esc().InboxOfPerson(in, *person, At(as_of_us))
                                           : e.esc().InboxOfTeam(in, *team, At(as_of_us))));
          },
          py::arg("ctas"), py::arg("person") = std::nullopt, py::arg("team") = std::nullopt,
          py::arg("as_of_us") = 0)
      .def(
          "path_dot",
          [](const PyEscalator& e, const py::dict& cta, int64_t at_us) {
            return Unwrap(e.esc().PathDot(InputOf(cta), At(at_us)));
          },
          py::arg("cta"), py::arg("at_us"));

  m.def(
      "escalation_inputs",
      [](const PyCtaStore& store) {
        py::list out;
        for (const CtaEscalationInput& in : EscalationInputs(*store.store))
          out.append(InputDict(in));
        return out;
      },
      py::arg("store"), "Every flagged open CTA of the store as escalation input dicts.");
  m.def(
      "escalation_input_of",
      [](const PyCtaStore& store, int64_t id) {
        return InputDict(Unwrap(EscalationInputOf(*store.store, static_cast<CtaId>(id))));
      },
      py::arg("store"), py::arg("cta_id"), "One flagged open CTA as an escalation input dict.");
}

void BindSponsors(py::module_& m) {
  py::class_<PySponsorPlan>(m, "SponsorPlanCore", "An executive sponsor assignment.")
      .def("assigned",
           [](const PySponsorPlan& p) {
             std::vector<std::tuple<std::string, std::string, int, int, bool>> out;
             for (const SponsorAssignment& a : p.plan.assigned) {
               out.emplace_back(a.account_id, a.sponsor_id, a.cadence_months, a.checkin_minutes,
                                a.kept);
             }
             return out;
           })
      .def_property_readonly("unassigned", [](const PySponsorPlan& p) { return p.plan.unassigned; })
      .def_property_readonly("unassigned_reason",
                             [](const PySponsorPlan& p) { return p.plan.unassigned_reason; })
      .def_property_readonly("not_eligible",
                             [](const PySponsorPlan& p) { return p.plan.not_eligible; })
      .def_property_readonly("load", [](const PySponsorPlan& p) { return p.plan.load; })
      .def_property_readonly("relationship_cost",
                             [](const PySponsorPlan& p) { return p.plan.relationship_cost; })
      .def_property_readonly("imbalance_cost",
                             [](const PySponsorPlan& p) { return p.plan.imbalance_cost; })
      .def("cadences", [](const PySponsorPlan& p) {
        std::vector<std::tuple<std::string, std::string, int>> out;
        for (const SponsorCadence& c : CheckInCadences(p.plan)) {
          out.emplace_back(c.account, c.sponsor, c.every_months);
        }
        return out;
      });
  m.def("assign_sponsors", &Assign, py::arg("pool"), py::arg("accounts"),
        "Optimal sponsor assignment (min-cost flow); the GIL is released.");
  m.def(
      "next_checkin",
      [](const std::string& since, int cadence_months, const std::string& as_of) {
        return absl::FormatCivilTime(NextCheckin(Day(since), cadence_months, Day(as_of)));
      },
      py::arg("since"), py::arg("cadence_months"), py::arg("as_of"));
  m.def("quarterly_capacity", &QuarterlyCapacity, py::arg("capacity_per_week"));
  m.def(
      "load_cost",
      [](int units, int quarterly_capacity, const py::dict& costs) {
        py::dict pool;
        pool["costs"] = costs;
        return LoadCost(units, quarterly_capacity, PoolOf(pool).costs);
      },
      py::arg("units"), py::arg("quarterly_capacity"), py::arg("costs") = py::dict());
}

BinderRegistrar reg(
    [](py::module_& m) {
      BindOrganisation(m);
      BindEscalator(m);
      BindSponsors(m);
    },
    /*order=*/40);

}  // namespace
}  // namespace cscore::python
