// `cscore cta list|show|transition`: the CTAs of a store, one CTA with its audit history and
// escalation path, and a person's transition, authorized by the lifecycle and the
// organisation of --config (refused: exit 1, nothing written).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "cscore/base/strings.h"
#include "cscore/engine/ctas.h"
#include "cscore/engine/engine.h"
#include "cscore/frame/csv.h"
#include "cscore/store/sqlite_store.h"
#include "nlohmann/json.hpp"

namespace cscore::cli {
namespace {

using Json = nlohmann::ordered_json;

struct CtaArgs {
  std::string db;
  std::string config;
  bool json = false;
  // list
  std::string account;
  std::string status;
  bool open_only = false;
  // show / transition
  int64_t id = -1;
  std::string event;
  std::string actor;
  std::string reason;
  std::string until;
  std::string at;
};

template <typename T>
T ValueOrExit(absl::StatusOr<T> v) {
  CheckOrExit(v.status());
  return *std::move(v);
}

std::string Time(int64_t us) {
  if (us == kNoTime) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

std::string Seconds(int64_t s) {
  if (s == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(s), absl::UTCTimeZone());
}

struct Opened {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<CtaBook> book;
};

Opened Open(const CtaArgs& args) {
  Opened o;
  o.store = ValueOrExit(SqliteStore::Open(args.db));
  EngineOptions options;
  if (!args.config.empty()) options = ValueOrExit(LoadEngineOptions(args.config));
  absl::StatusOr<std::unique_ptr<CtaBook>> book = CtaBook::Load(*o.store, options);
  if (!book.ok() && args.config.empty()) {
    CheckOrExit(absl::Status(book.status().code(),
                             StrCat(ToStd(book.status().message()),
                                    " (the CTAs were made under a configuration: pass --config "
                                    "with its lifecycles and playbooks)")));
  }
  o.book = ValueOrExit(std::move(book));
  return o;
}

std::string Flags(const CtaStore& s, CtaId id) {
  std::string f;
  if (s.flagged(id)) f += "flagged ";
  if (s.snoozed(id)) f += "snoozed ";
  if (s.breached(id)) f += "overdue ";
  if (!f.empty()) f.pop_back();
  return f;
}

Json CtaJson(const CtaStore& s, CtaId id) {
  Json j = {{"id", id},
            {"account", s.account(id)},
            {"type", s.type_name(id)},
            {"reason", s.reason(id)},
            {"domain", RiskDomainName(s.domain(id))},
            {"status", s.status_name(id)},
            {"category", CategoryName(s.category(id))},
            {"owner", s.owner(id)},
            {"priority", s.priority(id)},
            {"source", s.source(id)},
            {"created", Time(s.created_column()[id])},
            {"due", Time(s.due_column()[id])},
            {"flagged", s.flagged(id)},
            {"snoozed", s.snoozed(id)},
            {"breached", s.breached(id)}};
  if (s.snoozed(id)) {
    j["snoozed_until"] = Time(s.snooze_until_column()[id]);
    j["snooze_reason"] = s.snooze_reason(id);
  }
  return j;
}

void List(const CtaArgs& args) {
  Opened o = Open(args);
  const CtaStore& s = o.book->ctas();
  Json out = Json::array();
  for (CtaId id = 0; id < s.size(); ++id) {
    if (!args.account.empty() && s.account(id) != args.account) continue;
    if (!args.status.empty() && s.status_name(id) != args.status) continue;
    if (args.open_only && !s.IsOpen(id)) continue;
    out.push_back(CtaJson(s, id));
  }
  if (args.json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << absl::StrFormat("%5s  %-14s %-10s %-26s %-15s %-17s %-12s %3s %-16s %s\n", "id",
                               "account", "type", "reason", "domain", "status", "owner", "pri",
                               "due", "flags");
  for (const Json& c : out) {
    const CtaId id = c["id"].get<CtaId>();
    std::cout << absl::StrFormat("%5d  %-14s %-10s %-26s %-15s %-17s %-12s %3d %-16s %s\n", id,
                                 s.account(id), s.type_name(id), s.reason(id),
                                 RiskDomainName(s.domain(id)), s.status_name(id), s.owner(id),
                                 s.priority(id), Time(s.due_column()[id]), Flags(s, id));
  }
  std::cout << absl::StrFormat("%d CTA%s\n", out.size(), out.size() == 1 ? "" : "s");
}

Json ChainJson(const CtaBook& book, int64_t id, absl::Time at, std::string* error) {
  absl::StatusOr<EscalationChain> chain = book.Chain(id, at);
  if (!chain.ok()) {
    *error = std::string(chain.status().message());
    return nullptr;
  }
  const Organisation& org = book.escalator()->organisation();
  auto names = [&](const Targets& targets) {
    Json list = Json::array();
    for (const ResolvedTarget& t : targets) {
      Json n = {{"kind", t.is_team ? "team" : "person"},
                {"id", t.is_team ? org.team(t.id).id : org.person(t.id).id}};
      if (t.is_team && t.review_on.year() > 0) n["review_on"] = FormatDay(t.review_on);
      list.push_back(n);
    }
    return list;
  };
  Json j = {{"policy", std::string(chain->policy_id)}, {"policy_version", chain->policy_version}};
  Json steps = Json::array();
  for (const EscalationStep& step : chain->steps) {
    steps.push_back({{"level", step.level},
                     {"pass", step.repeat + 1},
                     {"at", absl::FormatTime("%Y-%m-%d %H:%M", step.fire_at, absl::UTCTimeZone())},
                     {"fired", step.fired},
                     {"targets", names(step.targets)}});
  }
  j["steps"] = steps;
  if (chain->stopped_at != absl::InfiniteFuture()) {
    j["stopped_at"] = absl::FormatTime("%Y-%m-%d %H:%M", chain->stopped_at, absl::UTCTimeZone());
  }
  j["accountable"] = names(chain->accountable);
  return j;
}

void Show(const CtaArgs& args) {
  Opened o = Open(args);
  const CtaStore& s = o.book->ctas();
  if (args.id < 0 || args.id >= s.size()) {
    CheckOrExit(absl::NotFoundError(
        absl::StrFormat("unknown CTA id %d (the store holds %d CTAs)", args.id, s.size())));
  }
  const CtaId id = static_cast<CtaId>(args.id);
  Json j = CtaJson(s, id);
  Json tasks = Json::array();
  for (int t = 0; t < s.task_count(id); ++t) {
    tasks.push_back({{"title", s.task(id, t).title},
                     {"owner_role", RoleName(s.task(id, t).owner_role)},
                     {"due", Time(s.task_due(id, t))},
                     {"done", s.task_done(id, t)}});
  }
  j["tasks"] = tasks;
  Json history = Json::array();
  for (const AuditRow& r : o.book->History(args.id)) {
    history.push_back({{"seq", r.seq},
                       {"time", Seconds(r.time)},
                       {"event", r.event},
                       {"from", r.from_status},
                       {"to", r.to_status},
                       {"actor", r.actor},
                       {"reason", r.reason}});
  }
  j["history"] = history;
  if (std::optional<EscalationRow> e = o.book->Escalation(args.id)) {
    j["escalation"] = {{"policy", e->policy_id},
                       {"policy_version", e->policy_version},
                       {"level", e->level},
                       {"raised_at", Seconds(e->raised_at)},
                       {"next_due_at", Seconds(e->next_due_at)},
                       {"acknowledged_at", Seconds(e->acknowledged_at)},
                       {"resolved_at", Seconds(e->resolved_at)}};
  }
  std::string chain_error;
  // The path as of the store's last completed run (or now, when there is none).
  absl::Time at = absl::Now();
  if (std::optional<absl::CivilDay> last = ValueOrExit(o.store->LastCompletedDay())) {
    at = absl::FromCivil(*last, absl::UTCTimeZone());
  }
  Json chain = o.book->escalator() ? ChainJson(*o.book, args.id, at, &chain_error) : Json();
  if (!chain.is_null()) j["escalation_path"] = chain;
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << absl::StrFormat("CTA %d  %s / %s: %s\n", id, s.account(id), s.type_name(id),
                               s.reason(id));
  std::cout << absl::StrFormat("  status    %s (%s)%s\n", s.status_name(id),
                               CategoryName(s.category(id)),
                               Flags(s, id).empty() ? "" : ", " + Flags(s, id));
  std::cout << absl::StrFormat("  owner     %s   priority %d   domain %s   source %s\n",
                               s.owner(id), s.priority(id), RiskDomainName(s.domain(id)),
                               s.source(id));
  std::cout << absl::StrFormat("  created   %s   due %s\n", Time(s.created_column()[id]),
                               Time(s.due_column()[id]));
  if (s.task_count(id) > 0) {
    std::cout << "  tasks\n";
    for (const Json& t : tasks) {
      std::cout << absl::StrFormat("    [%s] %s (%s, due %s)\n", t["done"].get<bool>() ? "x" : " ",
                                   t["title"].get<std::string>(),
                                   t["owner_role"].get<std::string>(), t["due"].get<std::string>());
    }
  }
  std::cout << "  history\n";
  for (const Json& h : history) {
    std::cout << absl::StrFormat(
        "    %s  %-14s %s -> %s by %s%s\n", h["time"].get<std::string>(),
        h["event"].get<std::string>(), h["from"].get<std::string>(), h["to"].get<std::string>(),
        h["actor"].get<std::string>(),
        h["reason"].get<std::string>().empty() ? "" : " (" + h["reason"].get<std::string>() + ")");
  }
  if (!chain.is_null()) {
    std::cout << absl::StrFormat("  escalation path (policy '%s' v%d)\n",
                                 chain["policy"].get<std::string>(),
                                 chain["policy_version"].get<int>());
    for (const Json& step : chain["steps"]) {
      std::string who;
      for (const Json& t : step["targets"]) {
        who += (who.empty() ? "" : ", ") + (t["kind"] == "team" ? "team " : std::string()) +
               t["id"].get<std::string>();
      }
      std::cout << absl::StrFormat(
          "    level %d (pass %d) %s %s: %s\n", step["level"].get<int>(), step["pass"].get<int>(),
          step["fired"].get<bool>() ? "notified" : "due     ", step["at"].get<std::string>(), who);
    }
    if (chain.contains("stopped_at")) {
      std::cout << "    stopped at " << chain["stopped_at"].get<std::string>() << "\n";
    }
  } else if (s.flagged(id) && !chain_error.empty()) {
    std::cout << "  escalation path: " << chain_error << "\n";
  }
}

void Transition(const CtaArgs& args) {
  if (args.config.empty()) {
    CheckOrExit(absl::InvalidArgumentError(
        "cta transition needs --config: the lifecycles and the organisation decide who may "
        "fire an event"));
  }
  Opened o = Open(args);
  TransitionRequest req;
  req.cta = args.id;
  req.event = args.event;
  req.actor = args.actor;
  req.reason = args.reason;
  req.at = absl::Now();
  if (!args.at.empty()) req.at = absl::FromUnixSeconds(ValueOrExit(ParseTimestamp(args.at)));
  if (!args.until.empty()) {
    req.until = absl::FromUnixSeconds(ValueOrExit(ParseTimestamp(args.until)));
  }
  std::vector<AuditRow> rows = ValueOrExit(o.book->Transition(*o.store, req));
  const CtaStore& s = o.book->ctas();
  const CtaId id = static_cast<CtaId>(args.id);
  if (args.json) {
    Json j = CtaJson(s, id);
    j["seq"] = rows.empty() ? 0 : rows.back().seq;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << absl::StrFormat("CTA %d: %s by %s -> %s%s\n", id, args.event, args.actor,
                               s.status_name(id),
                               Flags(s, id).empty() ? "" : " (" + Flags(s, id) + ")");
}

CommandRegistrar reg(
    "cta",
    [](CLI::App& app) {
      auto args = std::make_shared<CtaArgs>();
      CLI::App* cta = app.add_subcommand("cta", "List, show and transition the CTAs of a store");
      cta->require_subcommand(1);
      auto common = [&](CLI::App* cmd, bool config_required) {
        cmd->add_option("--db", args->db, "SQLite store file")
            ->required()
            ->check(CLI::ExistingFile);
        auto* c = cmd->add_option("--config", args->config,
                                  "Configuration directory (lifecycles, organisation)");
        if (config_required) c->required();
        cmd->add_flag("--json", args->json, "Print JSON");
      };
      CLI::App* list = cta->add_subcommand("list", "The CTAs, filtered");
      common(list, false);
      list->add_option("--account", args->account, "Only this account's CTAs");
      list->add_option("--status", args->status, "Only CTAs in this status");
      list->add_flag("--open", args->open_only, "Only open CTAs");
      list->callback([args] { List(*args); });

      CLI::App* show = cta->add_subcommand("show", "One CTA: fields, tasks, history, escalation");
      show->add_option("id", args->id, "CTA id")->required();
      common(show, false);
      show->callback([args] { Show(*args); });

      CLI::App* tr = cta->add_subcommand(
          "transition", "Fire a lifecycle event as a person (authorized by the organisation)");
      tr->add_option("id", args->id, "CTA id")->required();
      common(tr, true);
      tr->add_option("--event", args->event, "Lifecycle event, e.g. start, flag, close_success")
          ->required();
      tr->add_option("--actor", args->actor, "Person id of whoever fires it")->required();
      tr->add_option("--reason", args->reason, "Why (kept in the audit log)");
      tr->add_option("--until", args->until, "Snooze end, YYYY-MM-DD[THH:MM:SSZ]");
      tr->add_option("--at", args->at, "When, YYYY-MM-DD[THH:MM:SSZ] (default: now)");
      tr->callback([args] { Transition(*args); });
    },
    24);

}  // namespace
}  // namespace cscore::cli
