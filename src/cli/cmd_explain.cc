// `cscore explain`: what the store knows about one account — its score, the metrics behind
// it and how they moved since the previous run, its CTAs and their escalation state.
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "commands.h"
#include "cscore/engine/persist.h"
#include "cscore/store/sqlite_store.h"
#include "nlohmann/json.hpp"

namespace cscore::cli {
namespace {

struct ExplainArgs {
  std::string db;
  std::string account;
  std::string date;
  bool json = false;
};

template <typename T>
T ValueOrExit(absl::StatusOr<T> v) {
  CheckOrExit(v.status());
  return *std::move(v);
}

std::string Num(double v) { return std::isnan(v) ? "n/a" : absl::StrFormat("%.2f", v); }

void Explain(const ExplainArgs& args) {
  std::unique_ptr<SqliteStore> store = ValueOrExit(SqliteStore::Open(args.db));
  absl::CivilDay day;
  if (args.date.empty()) {
    std::optional<absl::CivilDay> last = ValueOrExit(store->LastCompletedDay());
    if (!last) CheckOrExit(absl::NotFoundError(absl::StrFormat("%s: no completed run", args.db)));
    day = *last;
  } else {
    day = ValueOrExit(ParseDay(args.date));
  }
  std::vector<std::string> accounts = ValueOrExit(store->Accounts());
  auto it = std::find(accounts.begin(), accounts.end(), args.account);
  if (it == accounts.end()) {
    CheckOrExit(
        absl::NotFoundError(absl::StrFormat("account '%s' is not in %s", args.account, args.db)));
  }
  const size_t slot = static_cast<size_t>(it - accounts.begin());

  // Each series' value today and on the run before.
  std::optional<absl::CivilDay> prev_day;
  nlohmann::ordered_json series = nlohmann::ordered_json::object();
  for (const std::string& name : ValueOrExit(store->SeriesNames(day))) {
    std::vector<double> today = ValueOrExit(store->LoadSeries(name, day));
    std::vector<absl::CivilDay> before = ValueOrExit(store->SeriesDays(name, day - 366, day - 1));
    double prev = std::nan("");
    if (!before.empty()) {
      prev_day = before.back();
      prev = ValueOrExit(store->LoadSeries(name, before.back()))[slot];
    }
    nlohmann::ordered_json v = {{"value", today[slot]}, {"previous", prev}};
    if (std::isnan(today[slot])) v["value"] = nullptr;
    if (std::isnan(prev)) v["previous"] = nullptr;
    series[name] = v;
  }

  // The CTAs of the account, folded from the audit log: latest status and event.
  std::map<int64_t, AuditRow> ctas;
  for (AuditRow& r : ValueOrExit(store->LoadAudit())) {
    if (r.account_id == args.account) ctas[r.cta_id] = std::move(r);
  }
  std::map<int64_t, EscalationRow> escalations;
  for (const EscalationRow& e : ValueOrExit(store->LoadEscalations())) {
    if (ctas.count(e.cta_id)) escalations[e.cta_id] = e;
  }

  if (args.json) {
    nlohmann::ordered_json j;
    j["account"] = args.account;
    j["date"] = FormatDay(day);
    j["series"] = series;
    j["ctas"] = nlohmann::ordered_json::array();
    for (const auto& [id, r] : ctas) {
      nlohmann::ordered_json c = {{"id", id},
                                  {"status", r.to_status},
                                  {"last_event", r.event},
                                  {"actor", r.actor},
                                  {"reason", r.reason}};
      if (auto e = escalations.find(id); e != escalations.end()) {
        c["escalation"] = {{"level", e->second.level},
                           {"policy_version", e->second.policy_version},
                           {"next_due_at", e->second.next_due_at}};
      }
      j["ctas"].push_back(c);
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << absl::StrFormat(
      "%s on %s%s\n", args.account, FormatDay(day),
      prev_day ? absl::StrFormat(" (previous run %s)", FormatDay(*prev_day)) : "");
  if (!series.contains("score/overall")) {
    std::cout << "  score: not computed (this store's runs had no scorecards)\n";
  }
  std::cout << absl::StrFormat("  %-32s %12s %12s %10s\n", "series", "value", "previous", "change");
  for (const auto& [name, v] : series.items()) {
    double now = v["value"].is_null() ? std::nan("") : v["value"].get<double>();
    double before = v["previous"].is_null() ? std::nan("") : v["previous"].get<double>();
    std::cout << absl::StrFormat("  %-32s %12s %12s %10s\n", name, Num(now), Num(before),
                                 Num(now - before));
  }
  if (ctas.empty()) {
    std::cout << "  no CTAs\n";
    return;
  }
  std::cout << "  CTAs:\n";
  for (const auto& [id, r] : ctas) {
    std::cout << absl::StrFormat("    #%d %-20s last event '%s' by %s (%s)\n", id, r.to_status,
                                 r.event, r.actor, r.reason);
    if (auto e = escalations.find(id); e != escalations.end()) {
      std::cout << absl::StrFormat("       escalation level %d (policy v%d)\n", e->second.level,
                                   e->second.policy_version);
    }
  }
}

CommandRegistrar reg(
    "explain",
    [](CLI::App& app) {
      auto args = std::make_shared<ExplainArgs>();
      CLI::App* cmd = app.add_subcommand(
          "explain", "An account's score, metrics and their moves, CTAs and escalations");
      cmd->add_option("--db", args->db, "SQLite store file")->required()->check(CLI::ExistingFile);
      cmd->add_option("--account", args->account, "Account id")->required();
      cmd->add_option("--date", args->date, "Day, YYYY-MM-DD (default: the last completed run)");
      cmd->add_flag("--json", args->json, "Print JSON");
      cmd->callback([args] { Explain(*args); });
    },
    22);

}  // namespace
}  // namespace cscore::cli
