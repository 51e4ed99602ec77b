// Kills `cscore run` with SIGKILL at random points, reruns it each time, and checks that the
// store ends up intact and identical to the store of an uninterrupted run. The book is the
// fixture's (every step configured) and a person flags a CTA after each day, so kills land in
// every step: health, risk, rules, timed events, escalation.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "cscore/engine/persist.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace cscore {
namespace {

namespace fs = std::filesystem;
using testing_engine::Dump;

constexpr int kAccounts = 300;
constexpr int kDays = 120;  // data available; the test uses as many as its kills need
constexpr int kKills = 24;
const absl::CivilDay kFirstDay(2024, 3, 1);

struct Child {
  pid_t pid = -1;
};

Child Spawn(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return {pid};
}

// Exit status, or -signal when killed.
int Wait(Child c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// The steps of `day` journaled so far, in commit order ("" when none or no file yet).
std::string Journaled(const std::string& path, int day) {
  if (!fs::exists(path)) return "";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "";
  }
  sqlite3_stmt* st = nullptr;
  std::string steps, date = FormatDay(kFirstDay + day);
  if (sqlite3_prepare_v2(db, "SELECT step FROM journal WHERE date = ? ORDER BY rowid", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, date.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      steps += std::string(steps.empty() ? "" : ",") +
               reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return steps;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cscore_crash_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 100);
    for (int d = 0; d < kDays; ++d) {
      std::ofstream csv(dir_ / "data" / ("accounts-" + FormatDay(kFirstDay + d) + ".csv"));
      csv << "account_id,csm,tier,arr,logins,nps,open_tickets,onboarding_start\n";
      // One account more each day, so every day registers a new one.
      for (int a = 0; a < kAccounts + d; ++a) {
        const char* tier = a % 50 == 0 ? "strategic" : a % 7 == 0 ? "enterprise" : "smb";
        const double arr = a % 50 == 0 ? 400000 + a : a % 7 == 0 ? 150000 + a : 20000 + a;
        std::string start;
        if (a % 10 == 0) start = FormatDay(kFirstDay - (a % 40));
        csv << absl::StrFormat("acct-%04d,csm-%d,%s,%.0f,%.3f,%.1f,%d,%s\n", a, 1 + a % 2, tier,
                               arr, u(rng) / 5, u(rng) - 40, static_cast<int>(u(rng) / 6), start);
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Args(const std::string& db, int day) const {
    return {CSCORE_CLI, "run",
            "--config", testing_engine::FixtureConfig().string(),
            "--data",   (dir_ / "data").string(),
            "--db",     (dir_ / db).string(),
            "--date",   FormatDay(kFirstDay + day),
            "--json"};
  }

  // What a person does after the run of `day`: the owner of the first open, unflagged Risk
  // CTA flags it at noon, so the following runs escalate it.
  void AfterDay(const std::string& db, int day) const {
    const std::string path = (dir_ / db).string();
    testing_engine::CliResult list =
        testing_engine::RunCli({"cta", "list", "--db", path, "--open", "--json", "--config",
                                testing_engine::FixtureConfig().string()},
                               dir_);
    ASSERT_EQ(list.exit_code, 0) << list.err;
    for (const auto& c : nlohmann::json::parse(list.out)) {
      if (c["type"] != "Risk" || c["flagged"].get<bool>()) continue;
      testing_engine::CliResult flag =
          testing_engine::RunCli({"cta", "transition", std::to_string(c["id"].get<int64_t>()),
                                  "--event", "flag", "--actor", c["owner"].get<std::string>(),
                                  "--at", FormatDay(kFirstDay + day) + "T12:00:00Z", "--db", path,
                                  "--config", testing_engine::FixtureConfig().string()},
                                 dir_);
      ASSERT_EQ(flag.exit_code, 0) << flag.err;
      return;
    }
  }

  fs::path dir_;
};

// Returns once `step` of `day` is journaled in the store at `path` or the process `pid`
// has exited (it is then left for Wait to reap).
void WaitForStep(const std::string& path, int day, const std::string& step, pid_t pid) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_busy_timeout(db, 1);
  sqlite3_stmt* st = nullptr;
  const std::string date = FormatDay(kFirstDay + day);
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM journal WHERE date = ? AND step = ?", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, date.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, step.c_str(), -1, SQLITE_TRANSIENT);
    for (int i = 0; i < 2000000; ++i) {
      const bool found = sqlite3_step(st) == SQLITE_ROW;
      sqlite3_reset(st);
      siginfo_t info{};
      if (found || ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
          info.si_pid == pid) {
        break;
      }
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

bool DayComplete(const std::string& path, int day) {
  if (!fs::exists(path)) return false;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string date = FormatDay(kFirstDay + day);
  bool done = false;
  // The table may not exist yet when the kill landed during the first migration.
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM reports WHERE date = ?", -1, &st, nullptr) ==
      SQLITE_OK) {
    sqlite3_bind_text(st, 1, date.c_str(), -1, SQLITE_TRANSIENT);
    done = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return done;
}

TEST_F(CrashTest, KilledRunsResumeToTheStateOfAnUninterruptedRun) {
  const std::string crashed = (dir_ / "crashed.db").string();
  // One uninterrupted run of the first day, timed only to place the kill points.
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Wait(Spawn(Args("reference.db", 0))), 0);
  const double micros =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();

  // Each kill is followed by a rerun of the same day (itself killed in turn, until a run
  // gets through); a day that completes moves the run on to the next. Every other attempt
  // kills at a random time; the others watch the journal and kill as soon as a given step
  // has committed, so the kill lands in the steps after it (the random ones mostly hit the
  // process start and the first steps).
  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> when(0, micros * 0.9);
  const char* kTargets[] = {"ingest", "health", "risk", "rules", "timed", "escalation"};
  int kills = 0, day = 0, targeted = 0;
  std::map<std::string, int> killed_after;  // steps journaled at the kill -> kills
  for (int attempt = 0; kills < kKills && day + 1 < kDays && attempt < 1000; ++attempt) {
    Child c = Spawn(Args("crashed.db", day));
    if (attempt % 2 == 1 && fs::exists(crashed)) {
      WaitForStep(crashed, day, kTargets[targeted++ % std::size(kTargets)], c.pid);
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(when(rng))));
    }
    ::kill(c.pid, SIGKILL);
    int status = Wait(c);
    if (status == -SIGKILL) {
      ++kills;
      ++killed_after[Journaled(crashed, day)];
    } else {
      ASSERT_EQ(status, 0) << "day " << day << ": a run that was not killed must succeed";
    }
    if (DayComplete(crashed, day)) {
      AfterDay("crashed.db", day);
      ++day;
    }
  }
  ASSERT_GE(kills, 20) << "runs reached day " << day << " in " << micros << " us each";
  RecordProperty("kills", kills);
  RecordProperty("days", day + 1);
  std::string where;
  for (const auto& [steps, n] : killed_after) {
    where += absl::StrFormat("%s[%s]: %d", where.empty() ? "" : "; ", steps, n);
  }
  RecordProperty("killed_after", where);
  std::cerr << "kills by steps already journaled: " << where << "\n";
  if (!DayComplete(crashed, day)) {
    ASSERT_EQ(Wait(Spawn(Args("crashed.db", day))), 0) << "rerun of day " << day;
  }
  AfterDay("reference.db", 0);
  for (int d = 1; d <= day; ++d) {
    ASSERT_EQ(Wait(Spawn(Args("reference.db", d))), 0) << "reference day " << d;
    if (d < day) AfterDay("reference.db", d);
  }
  EXPECT_EQ(IntegrityCheck(crashed), "ok");
  EXPECT_EQ(Dump(crashed), Dump((dir_ / "reference.db").string()));
}

}  // namespace
}  // namespace cscore
