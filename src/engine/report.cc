#include <exception>

#include "absl/strings/str_format.h"
#include "cscore/engine/engine.h"
#include "nlohmann/json.hpp"

namespace cscore {

std::string RunReport::ToJson() const {
  nlohmann::ordered_json j;
  j["date"] = FormatDay(date);
  j["accounts"] = accounts;
  j["new_accounts"] = new_accounts;
  j["metrics"] = metrics;
  j["health"] = {{"green", health.green},
                 {"yellow", health.yellow},
                 {"red", health.red},
                 {"unscored", health.unscored}};
  nlohmann::ordered_json risk = nlohmann::ordered_json::object();
  for (size_t d = 0; d < kRiskDomainNames.size(); ++d) {
    risk[std::string(kRiskDomainNames[d])] = risk_red[d];
  }
  j["risk"] = risk;
  j["risk_red_accounts"] = risk_red_accounts;
  j["ctas"] = {{"opened", ctas.opened},     {"updated", ctas.updated},
               {"closed", ctas.closed},     {"escalated", ctas.escalated},
               {"woken", ctas.woken},       {"breached", ctas.breached},
               {"rejected", ctas.rejected}, {"open", ctas.open}};
  j["rules"] = {{"run", rules.run},
                {"matched", rules.matched},
                {"intents", rules.intents},
                {"suppressed_snoozed", rules.suppressed_snoozed},
                {"suppressed_reentry", rules.suppressed_reentry},
                {"measures_set", rules.measures_set},
                {"tagged", rules.tagged}};
  j["timed"] = {{"opened", timed.opened}, {"check_ins", timed.check_ins}};
  j["sponsors"] = {{"assigned", sponsors.assigned},
                   {"unassigned", sponsors.unassigned},
                   {"changed", sponsors.changed}};
  j["new_red_accounts"] = new_red_accounts;
  j["escalations"] = escalations;
  j["steps"] = steps;
  return j.dump();
}

absl::StatusOr<RunReport> RunReport::FromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("stored run report is not a JSON object");
  }
  try {
    RunReport r;
    absl::StatusOr<absl::CivilDay> day = ParseDay(j.at("date").get<std::string>());
    if (!day.ok()) return day.status();
    r.date = *day;
    r.accounts = j.at("accounts").get<int64_t>();
    r.new_accounts = j.at("new_accounts").get<int64_t>();
    r.metrics = j.at("metrics").get<int64_t>();
    const auto& h = j.at("health");
    r.health = {h.at("green").get<int64_t>(), h.at("yellow").get<int64_t>(),
                h.at("red").get<int64_t>(), h.at("unscored").get<int64_t>()};
    for (size_t d = 0; d < kRiskDomainNames.size(); ++d) {
      r.risk_red[d] = j.at("risk").at(std::string(kRiskDomainNames[d])).get<int64_t>();
    }
    r.risk_red_accounts = j.value("risk_red_accounts", int64_t{0});
    // Reports stored by earlier versions lack the later fields: they read as zero.
    const nlohmann::json none = nlohmann::json::object();
    auto obj = [&](const char* key) -> const nlohmann::json& {
      auto it = j.find(key);
      return it != j.end() && it->is_object() ? *it : none;
    };
    const auto& c = j.at("ctas");
    r.ctas = {c.at("opened").get<int64_t>(),   c.at("updated").get<int64_t>(),
              c.at("closed").get<int64_t>(),   c.at("escalated").get<int64_t>(),
              c.value("woken", int64_t{0}),    c.value("breached", int64_t{0}),
              c.value("rejected", int64_t{0}), c.value("open", int64_t{0})};
    const auto& ru = obj("rules");
    r.rules = {ru.value("run", int64_t{0}),
               ru.value("matched", int64_t{0}),
               ru.value("intents", int64_t{0}),
               ru.value("suppressed_snoozed", int64_t{0}),
               ru.value("suppressed_reentry", int64_t{0}),
               ru.value("measures_set", int64_t{0}),
               ru.value("tagged", int64_t{0})};
    const auto& t = obj("timed");
    r.timed = {t.value("opened", int64_t{0}), t.value("check_ins", int64_t{0})};
    const auto& s = obj("sponsors");
    r.sponsors = {s.value("assigned", int64_t{0}), s.value("unassigned", int64_t{0}),
                  s.value("changed", int64_t{0})};
    r.new_red_accounts = j.at("new_red_accounts").get<std::vector<std::string>>();
    r.escalations = j.at("escalations").get<std::vector<std::string>>();
    r.steps = j.at("steps").get<std::vector<std::string>>();
    return r;
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrFormat("stored run report: %s", e.what()));
  }
}

}  // namespace cscore
