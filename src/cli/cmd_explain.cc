// `cscore explain`: what the store knows about one account: its score and trend, the metrics
// behind it and how they moved since the previous run, its 8-domain risk scorecard, the
// measure overrides and tags its rules set, its CTAs (open ones first) and the escalation
// path of the flagged ones.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "cscore/base/strings.h"
#include "cscore/engine/ctas.h"
#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"
#include "cscore/store/sqlite_store.h"
#include "nlohmann/json.hpp"

namespace cscore::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ExplainArgs {
  std::string db;
  std::string config;
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

std::string Time(int64_t us) {
  if (us == kNoTime) return "";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

constexpr const char* kStatus[] = {"green", "yellow", "red"};

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
  Json series = Json::object();
  double risk_packed = std::nan(""), risk_prev = std::nan("");
  for (const std::string& name : ValueOrExit(store->SeriesNames(day))) {
    // The rules' overrides and tags are shown on their own below.
    if (name.starts_with("override/") || name.starts_with("override_until/") ||
        name.starts_with("override_rule/") || name.starts_with("tag/")) {
      continue;
    }
    std::vector<double> today = ValueOrExit(store->LoadSeries(name, day));
    std::vector<absl::CivilDay> before = ValueOrExit(store->SeriesDays(name, day - 366, day - 1));
    double prev = std::nan("");
    if (!before.empty()) {
      prev_day = before.back();
      prev = ValueOrExit(store->LoadSeries(name, before.back()))[slot];
    }
    if (name == "risk/domains") {
      risk_packed = today[slot];
      risk_prev = prev;
      continue;
    }
    Json v = {{"value", today[slot]}, {"previous", prev}};
    if (std::isnan(today[slot])) v["value"] = nullptr;
    if (std::isnan(prev)) v["previous"] = nullptr;
    series[name] = v;
  }
  Json risk = Json::object();
  for (size_t d = 0; d < kRiskDomainNames.size(); ++d) {
    const int now = RiskStatusOf(risk_packed, static_cast<int>(d));
    const int before = RiskStatusOf(risk_prev, static_cast<int>(d));
    if (now < 0) continue;
    risk[std::string(kRiskDomainNames[d])] = {
        {"status", kStatus[now]}, {"previous", before < 0 ? Json() : Json(kStatus[before])}};
  }

  // What the rules' set_measure and tag actions left on the account after the day's run.
  const AccountRuleState marks = ValueOrExit(LoadAccountRuleState(*store, day, args.account));
  Json overrides = Json::array();
  for (const RuleOverride& o : marks.overrides) {
    overrides.push_back({{"measure", o.measure},
                         {"value", o.value},
                         {"until", FormatDay(o.expires)},
                         {"rule", o.rule}});
  }

  // CTAs from the replayed audit log, with the configuration's lifecycles when given.
  EngineOptions options;
  if (!args.config.empty()) options = ValueOrExit(LoadEngineOptions(args.config));
  absl::StatusOr<std::unique_ptr<CtaBook>> loaded = CtaBook::Load(*store, options);
  if (!loaded.ok() && args.config.empty()) {
    CheckOrExit(absl::Status(loaded.status().code(),
                             StrCat(ToStd(loaded.status().message()),
                                    " (the CTAs were made under a configuration: pass --config "
                                    "with its lifecycles and playbooks)")));
  }
  std::unique_ptr<CtaBook> book = ValueOrExit(std::move(loaded));
  const CtaStore& s = book->ctas();
  std::vector<CtaId> ids;
  for (CtaId id = 0; id < s.size(); ++id) {
    if (s.account(id) == args.account) ids.push_back(id);
  }
  std::stable_sort(ids.begin(), ids.end(),
                   [&](CtaId a, CtaId b) { return s.IsOpen(a) && !s.IsOpen(b); });
  const absl::Time at = absl::FromCivil(day, absl::UTCTimeZone());
  Json ctas = Json::array();
  for (CtaId id : ids) {
    Json c = {{"id", id},
              {"type", s.type_name(id)},
              {"reason", s.reason(id)},
              {"domain", RiskDomainName(s.domain(id))},
              {"status", s.status_name(id)},
              {"open", s.IsOpen(id)},
              {"owner", s.owner(id)},
              {"priority", s.priority(id)},
              {"due", Time(s.due_column()[id])},
              {"flagged", s.flagged(id)},
              {"snoozed", s.snoozed(id)}};
    if (book->escalator() != nullptr && (s.flagged(id) || book->Escalation(id))) {
      absl::StatusOr<EscalationChain> chain = book->Chain(id, at);
      if (chain.ok()) {
        const Organisation& org = book->escalator()->organisation();
        Json path = Json::array();
        for (const EscalationStep& step : chain->steps) {
          std::string who;
          for (const ResolvedTarget& t : step.targets) {
            who += (who.empty() ? "" : ", ") +
                   (t.is_team ? "team " + org.team(t.id).id : org.person(t.id).id);
          }
          path.push_back(
              {{"level", step.level},
               {"at", absl::FormatTime("%Y-%m-%d %H:%M", step.fire_at, absl::UTCTimeZone())},
               {"fired", step.fired},
               {"targets", who}});
        }
        c["escalation_path"] = path;
      } else {
        c["escalation_path"] = std::string(chain.status().message());
      }
    }
    ctas.push_back(c);
  }

  if (args.json) {
    Json j;
    j["account"] = args.account;
    j["date"] = FormatDay(day);
    j["series"] = series;
    j["risk"] = risk;
    j["overrides"] = overrides;
    j["tags"] = marks.tags;
    j["ctas"] = ctas;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << absl::StrFormat(
      "%s on %s%s\n", args.account, FormatDay(day),
      prev_day ? absl::StrFormat(" (previous run %s)", FormatDay(*prev_day)) : "");
  if (!series.contains("score/overall")) {
    std::cout << "  score: not computed (this store's runs had no scorecards)\n";
  } else {
    const Json& sc = series["score/overall"];
    std::string trend;
    if (series.contains("score/trend") && !series["score/trend"]["value"].is_null()) {
      const double t = series["score/trend"]["value"].get<double>();
      trend = t > 0 ? ", trending up" : t < 0 ? ", trending down" : ", steady";
    }
    std::cout << absl::StrFormat(
        "  score %s (previous %s)%s\n",
        sc["value"].is_null() ? "n/a" : Num(sc["value"].get<double>()),
        sc["previous"].is_null() ? "n/a" : Num(sc["previous"].get<double>()), trend);
  }
  std::cout << absl::StrFormat("  %-32s %12s %12s %10s\n", "series", "value", "previous", "change");
  for (const auto& [name, v] : series.items()) {
    double now = v["value"].is_null() ? std::nan("") : v["value"].get<double>();
    double before = v["previous"].is_null() ? std::nan("") : v["previous"].get<double>();
    std::cout << absl::StrFormat("  %-32s %12s %12s %10s\n", name, Num(now), Num(before),
                                 Num(now - before));
  }
  if (!risk.empty()) {
    std::cout << "  risk scorecard\n";
    for (const auto& [domain, v] : risk.items()) {
      std::string prev = v["previous"].is_null() ? "" : v["previous"].get<std::string>();
      std::cout << absl::StrFormat(
          "    %-15s %-6s%s\n", domain, v["status"].get<std::string>(),
          prev.empty() || prev == v["status"] ? "" : " (was " + prev + ")");
    }
  }
  if (!marks.overrides.empty()) {
    std::cout << "  measure overrides set by rules (for the scores of the next runs)\n";
    for (const RuleOverride& o : marks.overrides) {
      std::cout << absl::StrFormat("    %-24s %s until %s (rule %s)\n", o.measure, Num(o.value),
                                   FormatDay(o.expires), o.rule);
    }
  }
  if (!marks.tags.empty()) {
    std::cout << "  tags: " << absl::StrJoin(marks.tags, ", ") << "\n";
  }
  if (ctas.empty()) {
    std::cout << "  no CTAs\n";
    return;
  }
  std::cout << "  CTAs:\n";
  for (const Json& c : ctas) {
    std::cout << absl::StrFormat(
        "    #%d %-18s %s / %s (%s), owner %s, due %s%s%s\n", c["id"].get<int>(),
        c["status"].get<std::string>(), c["type"].get<std::string>(),
        c["reason"].get<std::string>(), c["domain"].get<std::string>(),
        c["owner"].get<std::string>(), c["due"].get<std::string>(),
        c["flagged"].get<bool>() ? ", flagged" : "", c["snoozed"].get<bool>() ? ", snoozed" : "");
    if (c.contains("escalation_path")) {
      if (c["escalation_path"].is_string()) {
        std::cout << "       escalation: " << c["escalation_path"].get<std::string>() << "\n";
        continue;
      }
      for (const Json& step : c["escalation_path"]) {
        std::cout << absl::StrFormat("       level %d %s %s: %s\n", step["level"].get<int>(),
                                     step["fired"].get<bool>() ? "notified" : "due",
                                     step["at"].get<std::string>(),
                                     step["targets"].get<std::string>());
      }
    }
  }
}

CommandRegistrar reg(
    "explain",
    [](CLI::App& app) {
      auto args = std::make_shared<ExplainArgs>();
      CLI::App* cmd = app.add_subcommand(
          "explain",
          "An account's score and trend, metrics and their moves, risk scorecard, CTAs and "
          "their escalation path");
      cmd->add_option("--db", args->db, "SQLite store file")->required()->check(CLI::ExistingFile);
      cmd->add_option("--account", args->account, "Account id")->required();
      cmd->add_option("--config", args->config,
                      "Configuration directory (lifecycles, organisation for escalation paths)");
      cmd->add_option("--date", args->date, "Day, YYYY-MM-DD (default: the last completed run)");
      cmd->add_flag("--json", args->json, "Print JSON");
      cmd->callback([args] { Explain(*args); });
    },
    22);

}  // namespace
}  // namespace cscore::cli
