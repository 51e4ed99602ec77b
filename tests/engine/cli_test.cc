// `cscore run`, `cscore cta`, `cscore explain` and `cscore validate` end to end through the
// binary and the store file: the JSON report's documented fields, a refused transition that
// writes nothing, an accepted one that is persisted, the escalation path in `cta show` and
// `explain`, conditions that cannot compile reported by validate at their YAML character.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cscore/engine/persist.h"
#include "cscore/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_engine::Account;
using testing_engine::CliResult;
using testing_engine::Dump;
using testing_engine::RunCli;

namespace fs = std::filesystem;

std::vector<Account> Book() {
  return {{"a1", "csm-1", "smb", 20000, 1, 20, 5, ""},
          {"a2", "csm-2", "smb", 30000, 10, -10, 4, ""},
          {"a3", "csm-1", "enterprise", 600000, 12, 30, 16, ""},
          {"a4", "csm-2", "strategic", 300000, 15, 40, 1, ""}};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cscore_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    testing_engine::WriteCsv(dir_ / "data" / "accounts-2024-03-04.csv", Book());
    testing_engine::WriteCsv(dir_ / "data" / "accounts-2024-03-05.csv", Book());
    config_ = testing_engine::FixtureConfig().string();
    db_ = (dir_ / "cs.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliResult Cli(std::vector<std::string> args) { return RunCli(args, dir_); }
  CliResult Run(const std::string& date) {
    return Cli({"run", "--config", config_, "--data", (dir_ / "data").string(), "--db", db_,
                "--date", date, "--json"});
  }
  int64_t CtaOf(const std::string& account, const std::string& reason) {
    CliResult r =
        Cli({"cta", "list", "--db", db_, "--config", config_, "--account", account, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& c : nlohmann::json::parse(r.out)) {
      if (c["reason"] == reason) return c["id"].get<int64_t>();
    }
    ADD_FAILURE() << "no CTA '" << reason << "' for " << account << ": " << r.out;
    return -1;
  }

  fs::path dir_;
  std::string config_, db_;
};

TEST_F(CliTest, TheJsonReportHasTheDocumentedFields) {
  CliResult r = Run("2024-03-04");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["date"], "2024-03-04");
  EXPECT_EQ(j["accounts"], 4);
  for (const char* k : {"green", "yellow", "red"}) EXPECT_TRUE(j["health"][k].is_number()) << k;
  for (const char* d : {"habit", "sentiment", "company", "support", "implementation", "readiness",
                        "product", "defect"}) {
    EXPECT_TRUE(j["risk"][d].is_number()) << d;
  }
  for (const char* k : {"opened", "updated", "closed", "escalated"}) {
    EXPECT_TRUE(j["ctas"][k].is_number()) << k;
  }
  EXPECT_EQ(j["ctas"]["opened"], 5);  // three rules, two check-ins
  EXPECT_EQ(j["risk"]["support"], 1);
  EXPECT_EQ(Cli({"validate", "--config", config_}).exit_code, 0);
}

TEST_F(CliTest, ARefusedTransitionExitsOneAndWritesNothingAnAllowedOneIsPersisted) {
  ASSERT_EQ(Run("2024-03-04").exit_code, 0);
  const int64_t id = CtaOf("a1", "Low usage");  // owned by csm-1
  const std::string before = Dump(db_);

  CliResult refused = Cli({"cta", "transition", std::to_string(id), "--event", "start", "--actor",
                           "csm-2", "--db", db_, "--config", config_});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("actor 'csm-2' (csm) may not fire 'start'"));
  EXPECT_EQ(Dump(db_), before) << "a refused transition changed the store";
  CliResult unknown_event = Cli({"cta", "transition", std::to_string(id), "--event", "launch",
                                 "--actor", "csm-1", "--db", db_, "--config", config_});
  EXPECT_EQ(unknown_event.exit_code, 1);
  EXPECT_THAT(unknown_event.err, HasSubstr("has no event 'launch'"));
  CliResult no_config = Cli({"cta", "transition", std::to_string(id), "--event", "start", "--actor",
                             "csm-1", "--db", db_});
  EXPECT_NE(no_config.exit_code, 0);
  EXPECT_EQ(Dump(db_), before);

  CliResult allowed = Cli({"cta", "transition", std::to_string(id), "--event", "start", "--actor",
                           "lead-1", "--reason", "taking it over", "--at", "2024-03-04T09:30:00Z",
                           "--db", db_, "--config", config_});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, HasSubstr("work_in_progress"));
  auto store = SqliteStore::Open(db_);
  ASSERT_TRUE(store.ok());
  auto audit = (*store)->LoadAudit(0);
  ASSERT_TRUE(audit.ok());
  const AuditRow& last = audit->back();
  EXPECT_EQ(last.cta_id, id);
  EXPECT_EQ(last.event, "start");
  EXPECT_EQ(last.actor, "lead-1");
  EXPECT_EQ(last.reason, "taking it over");
  EXPECT_EQ(last.from_status, "new");
  EXPECT_EQ(last.to_status, "work_in_progress");

  CliResult show =
      Cli({"cta", "show", std::to_string(id), "--db", db_, "--config", config_, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json j = nlohmann::json::parse(show.out);
  EXPECT_EQ(j["status"], "work_in_progress");
  EXPECT_EQ(j["owner"], "csm-1");
  EXPECT_EQ(j["tasks"].size(), 2u);
  ASSERT_EQ(j["history"].size(), 2u);
  EXPECT_EQ(j["history"][1]["actor"], "lead-1");

  // The next run reads the transition from the log like any other change.
  CliResult next = Run("2024-03-05");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  CliResult bare = Cli({"cta", "list", "--db", db_});
  EXPECT_EQ(bare.exit_code, 1);
  EXPECT_THAT(bare.err, HasSubstr("pass --config"));
  CliResult open = Cli(
      {"cta", "list", "--db", db_, "--config", config_, "--status", "work_in_progress", "--json"});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(nlohmann::json::parse(open.out).size(), 1u);
}

TEST_F(CliTest, ShowAndExplainGiveTheEscalationPathOfAFlaggedCta) {
  ASSERT_EQ(Run("2024-03-04").exit_code, 0);
  const int64_t id = CtaOf("a3", "Ticket flood");
  ASSERT_EQ(Cli({"cta", "transition", std::to_string(id), "--event", "flag", "--actor", "csm-1",
                 "--at", "2024-03-04T12:00:00Z", "--db", db_, "--config", config_})
                .exit_code,
            0);
  CliResult day2 = Run("2024-03-05");
  ASSERT_EQ(day2.exit_code, 0) << day2.err;
  nlohmann::json report = nlohmann::json::parse(day2.out);
  EXPECT_EQ(report["ctas"]["escalated"], 1);

  CliResult show =
      Cli({"cta", "show", std::to_string(id), "--db", db_, "--config", config_, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json j = nlohmann::json::parse(show.out);
  ASSERT_TRUE(j.contains("escalation_path")) << show.out;
  const auto& steps = j["escalation_path"]["steps"];
  ASSERT_EQ(steps.size(), 3u);  // team lead + domain owner, VP, CEO (ARR above 500k)
  EXPECT_TRUE(steps[0]["fired"].get<bool>());
  EXPECT_FALSE(steps[1]["fired"].get<bool>());
  EXPECT_EQ(steps[1]["targets"][0]["id"], "vp-cs");
  EXPECT_EQ(steps[2]["targets"][0]["id"], "ceo");
  EXPECT_EQ(j["escalation"]["level"], 1);

  CliResult explain = Cli({"explain", "--db", db_, "--account", "a3", "--config", config_});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_THAT(explain.out, HasSubstr("risk scorecard"));
  EXPECT_THAT(explain.out, HasSubstr("support         red"));
  EXPECT_THAT(explain.out, HasSubstr("Ticket flood"));
  EXPECT_THAT(explain.out, HasSubstr("level 2 due"));
  CliResult explain_json =
      Cli({"explain", "--db", db_, "--account", "a3", "--config", config_, "--json"});
  ASSERT_EQ(explain_json.exit_code, 0) << explain_json.err;
  nlohmann::json e = nlohmann::json::parse(explain_json.out);
  EXPECT_EQ(e["risk"]["support"]["status"], "red");
  EXPECT_TRUE(e["series"].contains("score/overall"));
}

TEST_F(CliTest, ValidateReportsEveryConditionThatCannotCompileAtItsYamlCharacter) {
  const fs::path config = dir_ / "config";
  fs::create_directories(config / "lifecycles");
  // `few_logins` and `falling` name columns no config declares: validate leaves identifiers
  // to the run, which knows the snapshot.
  std::ofstream(config / "rules.yaml") << R"(rules:
  - name: few_logins
    when: "logins < 2.0"
    actions:
      - tag: quiet
  - name: broken
    when: "x < < 1"
    actions:
      - tag: broken
  - name: also_broken
    when: "logins > 1.0 &&"
    actions:
      - tag: broken
)";
  std::ofstream(config / "risk.yaml") << R"(domains:
  Habit:
    signals:
      - name: falling
        level: yellow
        when: "pct_change('logins', 2) < -50.0"
      - name: garbled
        when: "logins <= = 2.0"
)";
  std::ofstream(config / "lifecycles" / "guarded.yaml") << R"(name: guarded
initial: new
statuses:
  - {name: new, category: open}
  - {name: done, category: closed_success}
events: [finish]
transitions:
  - {event: finish, from: new, to: done, who: [owner], guard: "cta.task_count >"}
)";
  CliResult r = Cli({"validate", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string at = config.string() + "/";
  EXPECT_THAT(r.out, HasSubstr(at + "lifecycles/guarded.yaml:8:80: unexpected end of input\n"));
  EXPECT_THAT(r.out, HasSubstr("(lifecycle 'guarded': guard of transition 'finish')"));
  EXPECT_THAT(r.out, HasSubstr(at + "risk.yaml:8:26: unexpected character '='\n"
                                    " | logins <= = 2.0\n"
                                    " |           ^ (domain habit, signal 'garbled')\n"));
  EXPECT_THAT(r.out, HasSubstr(at + "rules.yaml:7:16: unexpected token '<'\n"
                                    " | x < < 1\n"
                                    " |     ^ (rule 'broken')\n"));
  EXPECT_THAT(r.out, HasSubstr(at + "rules.yaml:11:27: unexpected end of input\n"));
  EXPECT_THAT(r.out, HasSubstr("(rule 'also_broken')"));
  EXPECT_THAT(r.out, Not(HasSubstr("few_logins")));
  EXPECT_THAT(r.out, Not(HasSubstr("falling")));
  EXPECT_THAT(r.err, HasSubstr("4 error(s)"));
  EXPECT_THAT(r.out, Not(HasSubstr("ok:")));
}

TEST_F(CliTest, ValidateRefusesAConditionThatCannotBeABool) {
  const fs::path config = dir_ / "config";
  fs::create_directories(config);
  std::ofstream(config / "rules.yaml") << R"(rules:
  - name: value_only
    when: "30.0"
    actions:
      - tag: never
)";
  CliResult r = Cli({"validate", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(config.string() + "/rules.yaml:3:12: "));
  EXPECT_THAT(r.out, HasSubstr("condition has type double, expected bool (rule 'value_only')"));
}

TEST_F(CliTest, ValidateAcceptsTheShippedConfigs) {
  for (const fs::path& config :
       {fs::path(CSCORE_SOURCE_DIR) / "examples" / "demo" / "config", fs::path(config_)}) {
    CliResult r = Cli({"validate", "--config", config.string()});
    EXPECT_EQ(r.exit_code, 0) << config << "\n" << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("ok: ")) << config;
  }
}

}  // namespace
}  // namespace cscore
