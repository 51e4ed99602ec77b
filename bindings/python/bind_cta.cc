// CTAs from Python: lifecycles (YAML, the CLI's loader and messages), the columnar CTA store
// and every lifecycle call on it (open, update, fire, close, tasks, comments, timed events),
// its columns for pandas, and its audit log (48-byte records, replayable).
//
// Times cross as integer microseconds since the epoch; cscore/cta.py converts datetimes.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cscore/cta/lifecycle.h"
#include "cscore/cta/lifecycle_yaml.h"
#include "cscore/cta/store.h"
#include "cta_py.h"
#include "module.h"
#include "pybind11/stl.h"

namespace cscore::python {
namespace {

absl::Time At(int64_t micros) { return absl::FromUnixMicros(micros); }

// The role is parsed before anything is looked up, so a bad role changes nothing.
Actor MakeActor(const std::string& id, const std::string& role) {
  return Actor{id, Unwrap(ParseRole(role))};
}

RiskDomain Domain(const std::optional<std::string>& name) {
  if (!name || name->empty()) return RiskDomain::kNone;
  return Unwrap(ParseRiskDomain(*name));
}

// Playbooks: [(name, [(title, due_offset_us, owner_role)])].
using PlaybookSpec = std::vector<
    std::tuple<std::string, std::vector<std::tuple<std::string, int64_t, std::string>>>>;

CtaStoreOptions MakeOptions(const std::vector<Lifecycle>& lifecycles,
                            const std::vector<std::string>& custom_types,
                            const PlaybookSpec& playbooks, const py::object& authority,
                            bool audit) {
  CtaStoreOptions opt;
  opt.lifecycles = lifecycles;
  opt.custom_types = custom_types;
  for (const auto& [name, tasks] : playbooks) {
    PlaybookDef p;
    p.name = name;
    for (const auto& [title, offset, role] : tasks) {
      p.tasks.push_back({title, absl::Microseconds(offset), Unwrap(ParseRole(role))});
    }
    opt.playbooks.push_back(std::move(p));
  }
  if (!authority.is_none()) opt.authority = authority.cast<std::shared_ptr<Authority>>();
  opt.audit = audit;
  return opt;
}

std::unique_ptr<PyCtaStore> Create(const std::vector<Lifecycle>& lifecycles,
                                   const std::vector<std::string>& custom_types,
                                   const PlaybookSpec& playbooks, const py::object& authority,
                                   bool audit) {
  auto out = std::make_unique<PyCtaStore>();
  out->store =
      Unwrap(CtaStore::Create(MakeOptions(lifecycles, custom_types, playbooks, authority, audit)));
  out->authority_owner = authority;
  return out;
}

std::unique_ptr<PyCtaStore> Replay(const std::vector<Lifecycle>& lifecycles,
                                   const std::vector<std::string>& custom_types,
                                   const PlaybookSpec& playbooks, const py::object& authority,
                                   const py::buffer& records,
                                   const std::vector<std::string>& strings) {
  py::buffer_info info = records.request();
  const size_t bytes = static_cast<size_t>(info.size * info.itemsize);
  if (info.itemsize != sizeof(AuditRecord) && bytes % sizeof(AuditRecord) != 0) {
    throw py::value_error("audit records must be " + std::to_string(sizeof(AuditRecord)) +
                          "-byte records (cscore.cta.AUDIT_DTYPE)");
  }
  // Copied once into aligned records: the buffer may be any Python object.
  std::vector<AuditRecord> log(bytes / sizeof(AuditRecord));
  if (!log.empty()) std::memcpy(log.data(), info.ptr, bytes);
  auto out = std::make_unique<PyCtaStore>();
  out->store = Unwrap(CtaStore::Replay(
      MakeOptions(lifecycles, custom_types, playbooks, authority, true), log, strings));
  out->authority_owner = authority;
  return out;
}

CtaStore& S(PyCtaStore& s) { return *s.store; }
const CtaStore& S(const PyCtaStore& s) { return *s.store; }

CtaId CheckedId(const CtaStore& store, int64_t id) {
  if (id < 0 || id >= store.size()) {
    ThrowStatus(absl::NotFoundError("no CTA " + std::to_string(id)));
  }
  return static_cast<CtaId>(id);
}

template <typename T>
py::array_t<T> Copy(std::span<const T> s) {
  return ToNumpy(std::vector<T>(s.begin(), s.end()));
}

// Every column of the store, one entry per CTA id, for cscore.cta.CtaTable.
py::dict Columns(const PyCtaStore& py_store) {
  const CtaStore& s = S(py_store);
  const int64_t n = s.size();
  py::list account, type, reason, owner, source, status, category, domain, snooze_reason;
  std::vector<uint8_t> flagged(n), snoozed(n), breached(n), manual(n);
  std::vector<int64_t> tasks(n), tasks_done(n);
  for (CtaId id = 0; id < n; ++id) {
    account.append(py::str(std::string(s.account(id))));
    type.append(py::str(std::string(s.type_name(id))));
    reason.append(py::str(std::string(s.reason(id))));
    owner.append(py::str(std::string(s.owner(id))));
    source.append(py::str(std::string(s.source(id))));
    status.append(py::str(std::string(s.status_name(id))));
    category.append(py::str(std::string(CategoryName(s.category(id)))));
    domain.append(py::str(std::string(RiskDomainName(s.domain(id)))));
    snooze_reason.append(py::str(std::string(s.snooze_reason(id))));
    flagged[id] = s.flagged(id);
    snoozed[id] = s.snoozed(id);
    breached[id] = s.breached(id);
    manual[id] = s.manual(id);
    tasks[id] = s.task_count(id);
    int64_t done = 0;
    for (int t = 0; t < s.task_count(id); ++t) done += s.task_done(id, t) ? 1 : 0;
    tasks_done[id] = done;
  }
  py::dict d;
  d["account_id"] = account;
  d["type"] = type;
  d["reason"] = reason;
  d["domain"] = domain;
  d["priority"] = Copy(s.priority_column());
  d["owner"] = owner;
  d["source"] = source;
  d["manual"] = ToNumpy(std::move(manual));
  d["status"] = status;
  d["category"] = category;
  d["flagged"] = ToNumpy(std::move(flagged));
  d["snoozed"] = ToNumpy(std::move(snoozed));
  d["breached"] = ToNumpy(std::move(breached));
  d["snooze_reason"] = snooze_reason;
  d["created"] = Copy(s.created_column());
  d["due"] = Copy(s.due_column());
  d["started"] = Copy(s.started_column());
  d["closed"] = Copy(s.closed_column());
  d["flagged_at"] = Copy(s.flagged_at_column());
  d["snooze_until"] = Copy(s.snooze_until_column());
  d["updated"] = Copy(s.updated_column());
  d["tasks"] = ToNumpy(std::move(tasks));
  d["tasks_done"] = ToNumpy(std::move(tasks_done));
  return d;
}

py::list Ids(const std::vector<CtaId>& ids) {
  py::list out;
  for (CtaId id : ids) out.append(id);
  return out;
}

py::list Transitions(const Lifecycle& lc) {
  // (from, event, to, who, roles, actions, reopen_within_us, guarded), table order.
  py::list out;
  for (int s = 0; s < lc.status_count(); ++s) {
    for (int e = 0; e < lc.event_count(); ++e) {
      const Lifecycle::Edge* edge = lc.Find(s, e);
      if (edge == nullptr) continue;
      py::list who;
      if (edge->who & Lifecycle::kWhoOwner) who.append("owner");
      if (edge->who & Lifecycle::kWhoEscalationChain) who.append("escalation_chain");
      if (edge->who & Lifecycle::kWhoSystem) who.append("system");
      for (int r = 0; r < 6; ++r) {
        if (edge->roles & (1u << r)) who.append(std::string(RoleName(static_cast<Role>(r))));
      }
      py::list actions;
      for (int a = 0; a < 16; ++a) {
        if (edge->actions & (1u << a)) {
          actions.append(std::string(ActionName(static_cast<CtaAction>(1u << a))));
        }
      }
      out.append(py::make_tuple(lc.status_name(s), lc.event_name(e), lc.status_name(edge->to), who,
                                actions, edge->reopen_within_us, lc.guard(*edge) != nullptr));
    }
  }
  return out;
}

void BindLifecycle(py::module_& m) {
  py::class_<Lifecycle>(m, "LifecycleCore", "A compiled CTA lifecycle (see cscore.Lifecycle).")
      .def_static(
          "load", [](const std::string& path) { return Unwrap(LoadLifecycleFile(path)); },
          py::arg("path"), "Loads a lifecycle YAML file; errors read file:line:column.")
      .def_static(
          "from_yaml",
          [](const std::string& text, const std::string& source) {
            return Unwrap(LoadLifecycleString(text, source));
          },
          py::arg("text"), py::arg("source") = "<string>")
      .def_static(
          "default", []() { return Lifecycle::Default(); }, "The built-in default lifecycle.")
      .def_static(
          "default_yaml", []() { return std::string(DefaultLifecycleYaml()); },
          "The YAML text of the built-in default lifecycle.")
      .def_property_readonly("name", &Lifecycle::name)
      .def_property_readonly("types", &Lifecycle::types)
      .def_property_readonly("statuses",
                             [](const Lifecycle& lc) {
                               std::vector<std::pair<std::string, std::string>> out;
                               for (int s = 0; s < lc.status_count(); ++s) {
                                 out.emplace_back(lc.status_name(s),
                                                  std::string(CategoryName(lc.category(s))));
                               }
                               return out;
                             })
      .def_property_readonly("events",
                             [](const Lifecycle& lc) {
                               std::vector<std::string> out;
                               for (int e = 0; e < lc.event_count(); ++e)
                                 out.push_back(lc.event_name(e));
                               return out;
                             })
      .def_property_readonly("initial",
                             [](const Lifecycle& lc) { return lc.status_name(lc.initial()); })
      .def_property_readonly("timed_events",
                             [](const Lifecycle& lc) {
                               py::dict d;
                               auto name = [&](int e) -> py::object {
                                 return e < 0 ? py::object(py::none())
                                              : py::object(py::str(lc.event_name(e)));
                               };
                               d["snooze_expiry"] = name(lc.snooze_expiry_event());
                               d["due_breach"] = name(lc.due_breach_event());
                               d["escalation"] = name(lc.escalation_event());
                               return d;
                             })
      .def("transitions", &Transitions,
           "(from, event, to, who, actions, reopen_within_us, guarded) per table entry.");
}

void BindStore(py::module_& m) {
  py::class_<Authority, std::shared_ptr<Authority>>(
      m, "Authority", "Who may act on a CTA for an owner (from cscore.Organisation.authority()).");

  py::class_<PyCtaStore>(m, "CtaStoreCore", "The columnar CTA store (see cscore.CtaStore).")
      .def(py::init(&Create), py::arg("lifecycles") = std::vector<Lifecycle>{},
           py::arg("custom_types") = std::vector<std::string>{},
           py::arg("playbooks") = PlaybookSpec{}, py::arg("authority") = py::none(),
           py::arg("audit") = true)
      .def_static("replay", &Replay, py::arg("lifecycles"), py::arg("custom_types"),
                  py::arg("playbooks"), py::arg("authority"), py::arg("records"),
                  py::arg("strings"), "Rebuilds a store from its audit log and string table.")
      .def("__len__", [](const PyCtaStore& s) { return S(s).size(); })
      .def(
          "open",
          [](PyCtaStore& s, const std::string& account, const std::string& type,
             const std::string& reason, const std::optional<std::string>& domain, int priority,
             const std::string& owner, std::optional<int64_t> due_us, const std::string& playbook,
             const std::string& by, const std::string& role, int64_t at_us) {
            if (priority < 0 || priority > 255) {
              ThrowStatus(absl::InvalidArgumentError("priority must be 0..255, got " +
                                                     std::to_string(priority)));
            }
            OpenCta cta;
            cta.account = account;
            cta.type = type;
            cta.reason = reason;
            cta.domain = Domain(domain);
            cta.priority = priority;
            cta.owner = owner;
            cta.due = due_us ? At(*due_us) : absl::InfiniteFuture();
            cta.playbook = playbook;
            return Unwrap(S(s).Open(cta, MakeActor(by, role), At(at_us)));
          },
          py::arg("account"), py::arg("type"), py::arg("reason"), py::arg("domain"),
          py::arg("priority"), py::arg("owner"), py::arg("due_us"), py::arg("playbook"),
          py::arg("by"), py::arg("role"), py::arg("at_us"))
      .def(
          "find_open",
          [](const PyCtaStore& s, const std::string& account, const std::string& type,
             const std::string& reason) -> std::optional<CtaId> {
            return S(s).FindOpen(account, type, reason);
          },
          py::arg("account"), py::arg("type"), py::arg("reason"))
      .def(
          "update",
          [](PyCtaStore& s, int64_t id, std::optional<int> priority, const py::object& due_us,
             std::optional<std::string> owner, const std::string& by, const std::string& role,
             int64_t at_us) {
            CtaUpdate u;
            u.priority = priority;
            // due_us: absent (leave), None-like sentinel handled in Python, or micros; the
            // Python side passes "clear" as the string to drop the due date.
            if (!due_us.is_none()) {
              if (py::isinstance<py::str>(due_us)) {
                u.due = absl::InfiniteFuture();
              } else {
                u.due = At(due_us.cast<int64_t>());
              }
            }
            if (owner) u.owner = *owner;
            Check(S(s).Update(CheckedId(S(s), id), u, MakeActor(by, role), At(at_us)));
          },
          py::arg("cta_id"), py::arg("priority"), py::arg("due_us"), py::arg("owner"),
          py::arg("by"), py::arg("role"), py::arg("at_us"))
      .def(
          "fire",
          [](PyCtaStore& s, int64_t id, const std::string& event, const std::string& by,
             const std::string& role, int64_t at_us, const std::string& reason,
             std::optional<int64_t> until_us) {
            FireArgs args;
            args.reason = reason;
            if (until_us) args.until = At(*until_us);
            Check(S(s).Fire(CheckedId(S(s), id), event, MakeActor(by, role), At(at_us), args));
          },
          py::arg("cta_id"), py::arg("event"), py::arg("by"), py::arg("role"), py::arg("at_us"),
          py::arg("reason"), py::arg("until_us"))
      .def(
          "fire_batch",
          [](PyCtaStore& s, const std::vector<CtaId>& ids, const std::string& event,
             const std::string& by, const std::string& role, int64_t at_us) {
            Actor actor = MakeActor(by, role);
            BatchResult r;
            {
              py::gil_scoped_release release;
              r = S(s).FireBatch(ids, event, actor, At(at_us));
            }
            std::vector<std::pair<int64_t, std::string>> rejected;
            for (const auto& [row, st] : r.rejected) rejected.emplace_back(row, st.message());
            return py::make_tuple(r.applied, rejected);
          },
          py::arg("ids"), py::arg("event"), py::arg("by"), py::arg("role"), py::arg("at_us"))
      .def(
          "close",
          [](PyCtaStore& s, int64_t id, const std::string& status, const std::string& by,
             const std::string& role, int64_t at_us, const std::string& reason) {
            Check(S(s).Close(CheckedId(S(s), id), status, MakeActor(by, role), At(at_us), reason));
          },
          py::arg("cta_id"), py::arg("status"), py::arg("by"), py::arg("role"), py::arg("at_us"),
          py::arg("reason"))
      .def(
          "set_task_done",
          [](PyCtaStore& s, int64_t id, int task, bool done, const std::string& by,
             const std::string& role, int64_t at_us) {
            Check(
                S(s).SetTaskDone(CheckedId(S(s), id), task, done, MakeActor(by, role), At(at_us)));
          },
          py::arg("cta_id"), py::arg("task"), py::arg("done"), py::arg("by"), py::arg("role"),
          py::arg("at_us"))
      .def(
          "add_comment",
          [](PyCtaStore& s, int64_t id, const std::string& text, const std::string& by,
             const std::string& role, int64_t at_us) {
            Check(S(s).AddComment(CheckedId(S(s), id), text, MakeActor(by, role), At(at_us)));
          },
          py::arg("cta_id"), py::arg("text"), py::arg("by"), py::arg("role"), py::arg("at_us"))
      .def(
          "fire_timed_events",
          [](PyCtaStore& s, int64_t as_of_us) {
            TimedResult r;
            {
              py::gil_scoped_release release;
              r = S(s).FireTimedEvents(At(as_of_us));
            }
            py::dict d;
            d["woken"] = r.woken;
            d["breached"] = r.breached;
            return d;
          },
          py::arg("as_of_us"))
      .def(
          "open_of_account",
          [](const PyCtaStore& s, const std::string& account) {
            return Ids(S(s).OpenOfAccount(account));
          },
          py::arg("account"))
      .def(
          "open_of_domain",
          [](const PyCtaStore& s, const std::string& domain) {
            return Ids(S(s).OpenOfDomain(Domain(domain)));
          },
          py::arg("domain"))
      .def("flagged", [](const PyCtaStore& s) { return Ids(S(s).Flagged()); })
      .def("columns", &Columns, "Every column of the store (one entry per CTA id).")
      .def(
          "tasks",
          [](const PyCtaStore& s, int64_t id) {
            const CtaStore& st = S(s);
            CtaId c = CheckedId(st, id);
            std::vector<std::tuple<std::string, int64_t, std::string, bool>> out;
            for (int t = 0; t < st.task_count(c); ++t) {
              const PlaybookTaskDef& def = st.task(c, t);
              out.emplace_back(def.title, st.task_due(c, t), std::string(RoleName(def.owner_role)),
                               st.task_done(c, t));
            }
            return out;
          },
          py::arg("cta_id"), "(title, due_us, owner_role, done) of a CTA's playbook tasks.")
      .def("comments",
           [](const PyCtaStore& s) {
             const CtaStore& st = S(s);
             std::vector<std::tuple<CtaId, int64_t, std::string, std::string>> out;
             for (const CtaComment& c : st.comments()) {
               out.emplace_back(c.cta, c.time, std::string(st.str(c.author)),
                                std::string(st.str(c.text)));
             }
             return out;
           })
      .def(
          "audit_bytes",
          [](const PyCtaStore& s) {
            std::span<const AuditRecord> log = S(s).audit();
            return py::bytes(reinterpret_cast<const char*>(log.data()),
                             log.size() * sizeof(AuditRecord));
          },
          "The audit log as packed 48-byte records.")
      .def("strings",
           [](const PyCtaStore& s) {
             std::span<const std::string> st = S(s).strings();
             return std::vector<std::string>(st.begin(), st.end());
           })
      .def(
          "lifecycle_of",
          [](const PyCtaStore& s, int64_t id) { return S(s).lifecycle(CheckedId(S(s), id)); },
          py::arg("cta_id"))
      .def_property_readonly("bytes_used", [](const PyCtaStore& s) { return S(s).BytesUsed(); });

  m.attr("AUDIT_RECORD_SIZE") = sizeof(AuditRecord);
}

BinderRegistrar reg(
    [](py::module_& m) {
      BindLifecycle(m);
      BindStore(m);
    },
    /*order=*/25);

}  // namespace
}  // namespace cscore::python
