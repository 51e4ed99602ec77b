// Kills `cscore run` with SIGKILL at random points, reruns it each time, and checks that the
// store ends up intact and identical to the store of an uninterrupted run.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "cscore/engine/persist.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

namespace fs = std::filesystem;

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

// Every row of every table, blobs in hex, in key order.
std::string Dump(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string out;
  for (const char* table : {"schema_version", "accounts", "journal", "series", "audit",
                            "escalations", "sponsors", "reentry", "reports"}) {
    out += absl::StrFormat("[%s]\n", table);
    sqlite3_stmt* st = nullptr;
    std::string sql = absl::StrFormat("SELECT * FROM %s ORDER BY 1, 2", table);
    if (std::string(table) == "schema_version") sql = "SELECT * FROM schema_version ORDER BY 1";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << table;
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
          const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, c));
          for (int i = 0; i < sqlite3_column_bytes(st, c); ++i) {
            out += absl::StrFormat("%02x", p[i]);
          }
        } else {
          const unsigned char* t = sqlite3_column_text(st, c);
          out += t ? reinterpret_cast<const char*>(t) : "NULL";
        }
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
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

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cscore_crash_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "config");
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "config" / "engine.yaml") << "history_days: 30\n";
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 100);
    for (int d = 0; d < kDays; ++d) {
      std::ofstream csv(dir_ / "data" / ("accounts-" + FormatDay(kFirstDay + d) + ".csv"));
      csv << "account_id,segment,logins,active_users,nps,open_tickets\n";
      // One account more each day, so every day registers a new one.
      for (int a = 0; a < kAccounts + d; ++a) {
        csv << absl::StrFormat("acct-%04d,%s,%.3f,%d,%.1f,%d\n", a, a % 3 ? "smb" : "enterprise",
                               u(rng), static_cast<int>(u(rng)), u(rng) - 50,
                               static_cast<int>(u(rng) / 10));
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Args(const std::string& db, int day) const {
    return {CSCORE_CLI, "run",
            "--config", (dir_ / "config").string(),
            "--data",   (dir_ / "data").string(),
            "--db",     (dir_ / db).string(),
            "--date",   FormatDay(kFirstDay + day),
            "--json"};
  }

  fs::path dir_;
};

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
  // gets through); a day that completes moves the run on to the next.
  std::mt19937 rng(2024);
  // The first run also created the file, so later runs are a little quicker.
  std::uniform_real_distribution<double> when(0, micros * 0.75);
  int kills = 0, day = 0;
  for (int attempt = 0; kills < kKills && day + 1 < kDays && attempt < 1000; ++attempt) {
    Child c = Spawn(Args("crashed.db", day));
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(when(rng))));
    ::kill(c.pid, SIGKILL);
    int status = Wait(c);
    if (status == -SIGKILL) {
      ++kills;
    } else {
      ASSERT_EQ(status, 0) << "day " << day << ": a run that was not killed must succeed";
    }
    if (DayComplete(crashed, day)) ++day;
  }
  ASSERT_GE(kills, 20) << "runs reached day " << day << " in " << micros << " us each";
  RecordProperty("kills", kills);
  RecordProperty("days", day + 1);
  if (!DayComplete(crashed, day)) {
    ASSERT_EQ(Wait(Spawn(Args("crashed.db", day))), 0) << "rerun of day " << day;
  }
  for (int d = 1; d <= day; ++d) {
    ASSERT_EQ(Wait(Spawn(Args("reference.db", d))), 0) << "reference day " << d;
  }
  EXPECT_EQ(IntegrityCheck(crashed), "ok");
  EXPECT_EQ(Dump(crashed), Dump((dir_ / "reference.db").string()));
}

}  // namespace
}  // namespace cscore
