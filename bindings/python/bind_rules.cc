// The rules engine from Python: rule definitions from YAML (the CLI's loader, so the same
// file:line:column messages), compiled against a frame's schema with CEL guards, evaluated
// over every account with the GIL released into intents, and applied to a CTA store; the
// re-entry state, schedules, and timed CTAs (milestones, QBRs, executive check-ins).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/civil_time.h"
#include "cscore/cta/store.h"
#include "cscore/expr/cel.h"
#include "cscore/risk/cel_predicate.h"
#include "cscore/rules/apply.h"
#include "cscore/rules/rules.h"
#include "cscore/rules/rules_yaml.h"
#include "cscore/rules/timed.h"
#include "cta_py.h"
#include "frame_py.h"
#include "history_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {

namespace {

absl::CivilDay Day(const std::string& text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    ThrowStatus(absl::InvalidArgumentError("bad date '" + text + "' (expected YYYY-MM-DD)"));
  }
  return day;
}

std::string DayString(absl::CivilDay d) { return absl::FormatCivilTime(d); }

// No CTA store: nothing is open.
class NoCtas final : public CtaLookup {
 public:
  std::optional<OpenCtaInfo> FindOpen(std::string_view, std::string_view,
                                      std::string_view) const override {
    return std::nullopt;
  }
  void OpenOfAccount(std::string_view, std::vector<OpenCtaInfo>&) const override {}
};

CtaStore* StoreOf(PyCtaStore* store) { return store ? store->store.get() : nullptr; }

struct PyRuleDefs {
  std::vector<RuleDef> defs;
};

struct PyRuleState {
  RuleState state;
};

struct PyRuleSet {
  RuleSet rules;
};

struct PyRuleRun {
  py::object frame_owner;  // intents' account views point into this frame
  std::shared_ptr<const PyRuleSet> rules;
  RuleRun run;
};

std::shared_ptr<PyRuleSet> Compile(const PyRuleDefs& defs, const PyFrame& frame,
                                   const PyHistory* history,
                                   const std::vector<std::string>& measures,
                                   const std::vector<std::string>& playbooks,
                                   const std::vector<std::string>& close_statuses,
                                   const std::vector<std::pair<std::string, std::string>>& owners) {
  RuleContext ctx;
  ctx.schema = frame.frame.schema();
  if (history != nullptr) ctx.history_metrics = history->history.metric_names();
  ctx.measures = measures;
  ctx.playbooks = playbooks;
  ctx.close_statuses = close_statuses;
  ctx.owner_columns = owners;
  PredicateCompiler compile = CelPredicateCompiler(
      cel::Environment::ForFrame(frame.frame, history ? &history->history : nullptr));
  auto out = std::make_shared<PyRuleSet>();
  out->rules = Unwrap(RuleSet::Compile(defs.defs, compile, ctx));
  return out;
}

std::unique_ptr<PyRuleRun> Evaluate(const std::shared_ptr<PyRuleSet>& rules,
                                    const py::object& frame_obj, const std::string& as_of,
                                    const PyHistory* history, PyCtaStore* store,
                                    const PyRuleState* state) {
  const PyFrame& frame = frame_obj.cast<const PyFrame&>();
  if (history != nullptr && history->history.num_accounts() != frame.frame.num_rows()) {
    throw py::value_error("history has " + std::to_string(history->history.num_accounts()) +
                          " accounts, the frame " + std::to_string(frame.frame.num_rows()));
  }
  absl::CivilDay day = Day(as_of);
  const CtaStore* cta_store = StoreOf(store);
  RuleState empty;
  const RuleState& st = state ? state->state : empty;
  absl::StatusOr<RuleRun> run;
  {
    py::gil_scoped_release release;
    NoCtas none;
    PredicateInput input{frame.frame, history ? &history->history : nullptr, day};
    if (cta_store != nullptr) {
      CtaStoreLookup lookup(*cta_store);
      run = rules->rules.Evaluate(input, lookup, st);
    } else {
      run = rules->rules.Evaluate(input, none, st);
    }
  }
  auto out = std::make_unique<PyRuleRun>();
  out->run = Unwrap(std::move(run));
  out->frame_owner = frame_obj;
  out->rules = rules;
  return out;
}

// Intents as columns: one entry per intent, with the action's details.
py::dict Intents(const PyRuleRun& r) {
  const RuleSet& rules = r.rules->rules;
  std::vector<std::string> kind, rule, account, due, owner, type, reason, domain, playbook, status,
      measure, tag;
  std::vector<int64_t> action, row, cta, priority;
  std::vector<double> value;
  for (const Intent& in : r.run.intents) {
    kind.emplace_back(IntentKindName(in.kind));
    rule.push_back(rules.rule(in.rule).name);
    account.emplace_back(in.account);
    action.push_back(in.action);
    row.push_back(in.row);
    cta.push_back(in.cta);
    const bool dated = in.kind == IntentKind::kOpen || in.kind == IntentKind::kUpdate ||
                       in.kind == IntentKind::kSetMeasure;
    due.push_back(dated ? DayString(in.due) : "");
    owner.emplace_back(in.owner);
    std::string t, rs, dom, pb, stt, ms, tg;
    int64_t pr = -1;
    double v = 0;
    const RuleAction& a = rules.action(in);
    if (const auto* o = std::get_if<OpenCtaAction>(&a)) {
      t = o->type;
      rs = o->reason;
      dom = RiskDomainName(o->domain);
      pr = o->priority;
      pb = o->playbook;
      if (in.owner.empty()) owner.back() = o->owner_role;
    } else if (const auto* c = std::get_if<CloseCtaAction>(&a)) {
      t = c->type;
      rs = c->reason;
      dom = RiskDomainName(c->domain);
      stt = c->status;
    } else if (const auto* s = std::get_if<SetMeasureAction>(&a)) {
      ms = s->measure;
      v = s->value;
    } else if (const auto* g = std::get_if<TagAction>(&a)) {
      tg = g->tag;
    }
    type.push_back(t);
    reason.push_back(rs);
    domain.push_back(dom);
    priority.push_back(pr);
    playbook.push_back(pb);
    status.push_back(stt);
    measure.push_back(ms);
    value.push_back(v);
    tag.push_back(tg);
  }
  py::dict d;
  d["account_id"] = account;
  d["rule"] = rule;
  d["kind"] = kind;
  d["action"] = ToNumpy(std::move(action));
  d["row"] = ToNumpy(std::move(row));
  d["cta_id"] = ToNumpy(std::move(cta));
  d["due"] = due;
  d["type"] = type;
  d["reason"] = reason;
  d["domain"] = domain;
  d["priority"] = ToNumpy(std::move(priority));
  d["owner"] = owner;
  d["playbook"] = playbook;
  d["close_status"] = status;
  d["measure"] = measure;
  d["value"] = ToNumpy(std::move(value));
  d["tag"] = tag;
  return d;
}

py::dict RunStats(const PyRuleRun& r) {
  py::dict d;
  d["rules_run"] = r.run.rules_run;
  d["rows_matched"] = r.run.rows_matched;
  d["intents"] = r.run.intents.size();
  d["fired"] = r.run.fired.size();
  d["suppressed_snoozed"] = r.run.suppressed_snoozed;
  d["suppressed_reentry"] = r.run.suppressed_reentry;
  return d;
}

py::dict Apply(PyRuleRun& r, PyCtaStore* store, PyRuleState& state, const std::string& as_of) {
  CtaStore* cta_store = StoreOf(store);
  if (cta_store == nullptr) throw py::value_error("apply needs a CtaStore");
  absl::CivilDay day = Day(as_of);
  ApplyReport rep;
  {
    py::gil_scoped_release release;
    rep = ApplyIntents(r.rules->rules, r.run, day, *cta_store, state.state);
  }
  py::dict d;
  d["opened"] = rep.opened;
  d["updated"] = rep.updated;
  d["closed"] = rep.closed;
  d["unchanged"] = rep.unchanged;
  d["passed_on"] = rep.passed_on;
  std::vector<std::pair<size_t, std::string>> rejected;
  for (const auto& [i, st] : rep.rejected) rejected.emplace_back(i, std::string(st.message()));
  d["rejected"] = rejected;
  return d;
}

// ---------------------------------------------------------------------------------------
// Timed CTAs. Definitions arrive as dicts (cscore/rules.py validates their keys).

TimedCtaTemplate Template(const py::dict& d, TimedCtaTemplate t) {
  if (d.contains("type")) t.type = d["type"].cast<std::string>();
  if (d.contains("reason")) t.reason = d["reason"].cast<std::string>();
  if (d.contains("priority")) t.priority = d["priority"].cast<int>();
  if (d.contains("playbook")) t.playbook = d["playbook"].cast<std::string>();
  if (d.contains("owner_role")) t.owner_role = d["owner_role"].cast<std::string>();
  return t;
}

struct PyTimed {
  TimedCtas timed;
};

struct PyTimedRun {
  py::object frame_owner;
  std::shared_ptr<const PyTimed> timed;
  std::vector<TimedIntent> intents;
};

std::shared_ptr<PyTimed> CompileTimed(const std::vector<py::dict>& milestones,
                                      const std::vector<py::dict>& qbrs,
                                      const std::optional<py::dict>& check_ins,
                                      const PyFrame& frame) {
  TimedCtaDefs defs;
  for (const py::dict& m : milestones) {
    MilestoneDef def;
    def.name = m["name"].cast<std::string>();
    def.start_column = m["start_column"].cast<std::string>();
    if (m.contains("days")) def.days = m["days"].cast<std::vector<int>>();
    if (m.contains("lead_days")) def.lead_days = m["lead_days"].cast<int>();
    def.cta = Template(m.contains("cta") ? m["cta"].cast<py::dict>() : py::dict(), def.cta);
    defs.milestones.push_back(std::move(def));
  }
  for (const py::dict& q : qbrs) {
    QbrDef def;
    if (q.contains("name")) def.name = q["name"].cast<std::string>();
    def.start_column = q["start_column"].cast<std::string>();
    if (q.contains("every_months")) def.every_months = q["every_months"].cast<int>();
    if (q.contains("lead_days")) def.lead_days = q["lead_days"].cast<int>();
    def.cta = Template(q.contains("cta") ? q["cta"].cast<py::dict>() : py::dict(), def.cta);
    defs.qbrs.push_back(std::move(def));
  }
  if (check_ins) {
    CheckInDef def;
    if (check_ins->contains("name")) def.name = (*check_ins)["name"].cast<std::string>();
    def.cta = Template(
        check_ins->contains("cta") ? (*check_ins)["cta"].cast<py::dict>() : py::dict(), def.cta);
    defs.check_ins = std::move(def);
  }
  std::vector<ColumnSpec> schema = frame.frame.schema();
  auto out = std::make_shared<PyTimed>();
  out->timed = Unwrap(TimedCtas::Compile(std::move(defs), schema));
  return out;
}

std::unique_ptr<PyTimedRun> EvaluateTimed(
    const std::shared_ptr<PyTimed>& timed, const py::object& frame_obj,
    const std::vector<std::tuple<std::string, std::string, int>>& sponsors,
    const std::string& as_of, PyCtaStore* store, const PyRuleState* state) {
  const PyFrame& frame = frame_obj.cast<const PyFrame&>();
  std::vector<SponsorCadence> cadences;
  for (const auto& [account, sponsor, months] : sponsors) {
    cadences.push_back({account, sponsor, months});
  }
  absl::CivilDay day = Day(as_of);
  const CtaStore* cta_store = StoreOf(store);
  RuleState empty;
  const RuleState& st = state ? state->state : empty;
  absl::StatusOr<std::vector<TimedIntent>> intents;
  {
    py::gil_scoped_release release;
    NoCtas none;
    if (cta_store != nullptr) {
      CtaStoreLookup lookup(*cta_store);
      intents = timed->timed.Evaluate(frame.frame, cadences, day, lookup, st);
    } else {
      intents = timed->timed.Evaluate(frame.frame, cadences, day, none, st);
    }
  }
  auto out = std::make_unique<PyTimedRun>();
  out->intents = Unwrap(std::move(intents));
  out->frame_owner = frame_obj;
  out->timed = timed;
  return out;
}

py::dict TimedColumns(const PyTimedRun& r) {
  std::vector<std::string> source, account, type, reason, playbook, owner, due, window;
  std::vector<int64_t> priority;
  for (const TimedIntent& t : r.intents) {
    source.push_back(t.source);
    account.emplace_back(t.account);
    type.emplace_back(t.type);
    reason.push_back(t.reason);
    playbook.emplace_back(t.playbook);
    owner.push_back(t.owner);
    due.push_back(DayString(t.due));
    window.push_back(DayString(t.window_start));
    priority.push_back(t.priority);
  }
  py::dict d;
  d["account_id"] = account;
  d["source"] = source;
  d["type"] = type;
  d["reason"] = reason;
  d["priority"] = ToNumpy(std::move(priority));
  d["playbook"] = playbook;
  d["owner"] = owner;
  d["due"] = due;
  d["window_start"] = window;
  return d;
}

void BindRules(py::module_& m) {
  py::class_<PyRuleState>(m, "RuleStateCore", "Re-entry bookkeeping (see cscore.RuleState).")
      .def(py::init<>())
      .def(
          "record_fired",
          [](PyRuleState& s, const std::string& rule, const std::string& account,
             const std::string& day) { s.state.RecordFired(rule, account, Day(day)); },
          py::arg("rule"), py::arg("account"), py::arg("day"))
      .def(
          "record_close",
          [](PyRuleState& s, const std::string& account, const std::string& type,
             const std::string& reason,
             const std::string& day) { s.state.RecordClose(account, type, reason, Day(day)); },
          py::arg("account"), py::arg("type"), py::arg("reason"), py::arg("day"))
      .def(
          "last_fired",
          [](const PyRuleState& s, const std::string& rule,
             const std::string& account) -> std::optional<std::string> {
            auto d = s.state.LastFired(rule, account);
            if (!d) return std::nullopt;
            return DayString(*d);
          },
          py::arg("rule"), py::arg("account"))
      .def(
          "last_close",
          [](const PyRuleState& s, const std::string& account, const std::string& type,
             const std::string& reason) -> std::optional<std::string> {
            auto d = s.state.LastClose(account, type, reason);
            if (!d) return std::nullopt;
            return DayString(*d);
          },
          py::arg("account"), py::arg("type"), py::arg("reason"))
      .def("fired", [](const PyRuleState& s) {
        std::vector<std::tuple<std::string, std::string, std::string>> out;
        s.state.ForEachFired(
            [&](std::string_view rule, std::string_view account, absl::CivilDay day) {
              out.emplace_back(std::string(rule), std::string(account), DayString(day));
            });
        return out;
      });

  py::class_<PyRuleDefs>(m, "RuleDefsCore", "Parsed rule definitions (see cscore.RuleSet).")
      .def_static(
          "from_yaml",
          [](const std::string& text, const std::string& source) {
            PyRuleDefs d;
            d.defs = Unwrap(ParseRulesYaml(text, source));
            return d;
          },
          py::arg("text"), py::arg("source") = "<string>")
      .def_static(
          "load",
          [](const std::string& path, const std::vector<std::string>& also_allowed) {
            std::vector<std::string_view> allowed(also_allowed.begin(), also_allowed.end());
            PyRuleDefs d;
            d.defs = Unwrap(LoadRulesFile(path, allowed));
            return d;
          },
          py::arg("path"), py::arg("also_allowed") = std::vector<std::string>{})
      .def_property_readonly("rules",
                             [](const PyRuleDefs& d) {
                               py::list out;
                               for (const RuleDef& r : d.defs) {
                                 py::dict rd;
                                 rd["name"] = r.name;
                                 rd["when"] = r.when;
                                 rd["threshold"] = r.threshold.has_value();
                                 rd["schedule"] = FormatSchedule(r.schedule);
                                 rd["actions"] = r.actions.size();
                                 rd["once_every_days"] = r.once_every_days;
                                 rd["cooldown_after_close_days"] = r.cooldown_after_close_days;
                                 rd["location"] =
                                     r.at.line > 0 ? r.at.source + ":" + std::to_string(r.at.line) +
                                                         ":" + std::to_string(r.at.column)
                                                   : std::string();
                                 out.append(rd);
                               }
                               return out;
                             })
      .def("compile", &Compile, py::arg("frame"), py::arg("history") = nullptr,
           py::arg("measures") = std::vector<std::string>{},
           py::arg("playbooks") = std::vector<std::string>{},
           py::arg("close_statuses") = std::vector<std::string>{},
           py::arg("owner_columns") = std::vector<std::pair<std::string, std::string>>{},
           "Compiles against the frame's schema (CEL guards); errors read file:line:column.");

  py::class_<PyRuleSet, std::shared_ptr<PyRuleSet>>(m, "RuleSetCore", "A compiled rule set.")
      .def_property_readonly("size", [](const PyRuleSet& r) { return r.rules.size(); })
      .def("evaluate", &Evaluate, py::arg("frame"), py::arg("as_of"), py::arg("history") = nullptr,
           py::arg("store") = nullptr, py::arg("state") = nullptr,
           "Every rule due on as_of over every account; the GIL is released.");

  py::class_<PyRuleRun>(m, "RuleRunCore", "Intents of one evaluation (nothing applied yet).")
      .def("intents", &Intents)
      .def("stats", &RunStats)
      .def("fired",
           [](const PyRuleRun& r) {
             std::vector<std::pair<std::string, std::string>> out;
             for (const RuleRun::Fired& f : r.run.fired) {
               out.emplace_back(r.rules->rules.rule(f.rule).name, std::string(f.account));
             }
             return out;
           })
      .def("apply", &Apply, py::arg("store"), py::arg("state"), py::arg("as_of"),
           "Opens, updates and closes through the store; records the run in state.")
      .def(
          "record",
          [](const PyRuleRun& r, PyRuleState& state, const std::string& as_of) {
            state.state.Record(r.rules->rules, r.run, Day(as_of));
          },
          py::arg("state"), py::arg("as_of"));

  py::class_<PyTimed, std::shared_ptr<PyTimed>>(m, "TimedCtasCore", "Compiled timed CTAs.")
      .def_static("compile", &CompileTimed, py::arg("milestones"), py::arg("qbrs"),
                  py::arg("check_ins"), py::arg("frame"))
      .def("evaluate", &EvaluateTimed, py::arg("frame"), py::arg("sponsors"), py::arg("as_of"),
           py::arg("store") = nullptr, py::arg("state") = nullptr);

  py::class_<PyTimedRun>(m, "TimedRunCore", "Timed intents of one day (nothing applied yet).")
      .def("intents", &TimedColumns)
      .def(
          "apply",
          [](PyTimedRun& r, PyCtaStore* store, PyRuleState& state, const std::string& as_of) {
            CtaStore* cta_store = StoreOf(store);
            if (cta_store == nullptr) throw py::value_error("apply needs a CtaStore");
            absl::CivilDay day = Day(as_of);
            std::vector<std::pair<size_t, absl::Status>> rejected;
            int64_t opened;
            {
              py::gil_scoped_release release;
              opened = ApplyTimedIntents(r.intents, day, *cta_store, state.state, &rejected);
            }
            std::vector<std::pair<size_t, std::string>> why;
            for (const auto& [i, st] : rejected) why.emplace_back(i, std::string(st.message()));
            return py::make_tuple(opened, why);
          },
          py::arg("store"), py::arg("state"), py::arg("as_of"));

  m.def(
      "parse_schedule",
      [](const std::string& text) { return FormatSchedule(Unwrap(ParseSchedule(text))); },
      py::arg("text"), "The canonical form of a schedule ('weekly on monday', ...).");
  m.def(
      "schedule_runs_on",
      [](const std::string& text, const std::string& day) {
        return Unwrap(ParseSchedule(text)).RunsOn(Day(day));
      },
      py::arg("schedule"), py::arg("day"), "Whether a schedule runs on a day (YYYY-MM-DD).");
  m.def(
      "parse_priority", [](const std::string& text) { return Unwrap(ParsePriority(text)); },
      py::arg("text"), "0 (highest) .. 255 from urgent / high / medium / low or a number.");
}

BinderRegistrar reg([](py::module_& m) { BindRules(m); }, /*order=*/35);

}  // namespace
}  // namespace cscore::python
