// Helpers of the engine tests: the fixture book, a dump of every table of a store file, and
// running the `cscore` binary.
#ifndef CSCORE_TESTS_ENGINE_TEST_UTIL_H_
#define CSCORE_TESTS_ENGINE_TEST_UTIL_H_

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cscore/engine/persist.h"
#include "cscore/frame/frame.h"
#include "gtest/gtest.h"

namespace cscore::testing_engine {

namespace fs = std::filesystem;

inline fs::path FixtureConfig() {
  return fs::path(CSCORE_SOURCE_DIR) / "tests" / "engine" / "fixture" / "config";
}

// One account of the fixture book on one day.
struct Account {
  std::string id;
  std::string csm;
  std::string tier;
  double arr = 0;
  double logins = 10;
  double nps = 20;
  int64_t tickets = 4;
  std::string onboarding_start;  // YYYY-MM-DD or empty
};

inline AccountFrame Frame(const std::vector<Account>& accounts) {
  std::vector<std::string> ids, csm, tier;
  std::vector<double> arr, logins, nps;
  std::vector<int64_t> tickets, start;
  std::vector<uint8_t> start_valid;
  for (const Account& a : accounts) {
    ids.push_back(a.id);
    csm.push_back(a.csm);
    tier.push_back(a.tier);
    arr.push_back(a.arr);
    logins.push_back(a.logins);
    nps.push_back(a.nps);
    tickets.push_back(a.tickets);
    if (a.onboarding_start.empty()) {
      start.push_back(0);
      start_valid.push_back(0);
    } else {
      absl::CivilDay d;
      EXPECT_TRUE(absl::ParseCivilTime(a.onboarding_start, &d));
      start.push_back(absl::ToUnixSeconds(absl::FromCivil(d, absl::UTCTimeZone())));
      start_valid.push_back(1);
    }
  }
  FrameBuilder b(ids);
  b.AddCategorical("csm", csm);
  b.AddCategorical("tier", tier);
  b.AddFloat64("arr", arr);
  b.AddFloat64("logins", logins);
  b.AddFloat64("nps", nps);
  b.AddInt64("open_tickets", tickets);
  b.AddTimestamp("onboarding_start", start, start_valid);
  auto f = std::move(b).Build();
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

inline void WriteCsv(const fs::path& path, const std::vector<Account>& accounts) {
  std::ofstream csv(path);
  csv << "account_id,csm,tier,arr,logins,nps,open_tickets,onboarding_start\n";
  for (const Account& a : accounts) {
    csv << absl::StrFormat("%s,%s,%s,%.2f,%.3f,%.1f,%d,%s\n", a.id, a.csm, a.tier, a.arr, a.logins,
                           a.nps, a.tickets, a.onboarding_start);
  }
}

// Every row of every table, blobs in hex, in key order.
inline std::string Dump(const std::string& path) {
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

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CliResult {
  int exit_code = -1;  // -signal when killed
  std::string out, err;
};

// Runs the `cscore` binary with `args`, capturing stdout and stderr through files in `dir`.
inline CliResult RunCli(const std::vector<std::string>& args, const fs::path& dir) {
  const fs::path out_file = dir / "cli.out", err_file = dir / "cli.err";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv = {const_cast<char*>(CSCORE_CLI)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  r.out = ReadFile(out_file);
  r.err = ReadFile(err_file);
  return r;
}

// A store whose commit of one step fails: the process "dies" between two steps.
class FailingStore final : public Store {
 public:
  FailingStore(Store& inner, std::string fail_step) : inner_(inner), fail_(std::move(fail_step)) {}
  absl::Status Commit(const StepWrite& w) override {
    if (w.step == fail_) return absl::UnavailableError("disk went away");
    return inner_.Commit(w);
  }
  absl::StatusOr<bool> IsCommitted(absl::CivilDay d, std::string_view s) const override {
    return inner_.IsCommitted(d, s);
  }
  absl::StatusOr<std::optional<std::string>> LoadStepSummary(absl::CivilDay d,
                                                             std::string_view s) const override {
    return inner_.LoadStepSummary(d, s);
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastCompletedDay() const override {
    return inner_.LastCompletedDay();
  }
  absl::StatusOr<std::optional<absl::CivilDay>> LastStartedDay() const override {
    return inner_.LastStartedDay();
  }
  absl::StatusOr<std::optional<std::string>> LoadReport(absl::CivilDay d) const override {
    return inner_.LoadReport(d);
  }
  absl::StatusOr<std::vector<std::string>> Accounts() const override { return inner_.Accounts(); }
  absl::StatusOr<std::vector<double>> LoadSeries(std::string_view n,
                                                 absl::CivilDay d) const override {
    return inner_.LoadSeries(n, d);
  }
  absl::StatusOr<std::vector<absl::CivilDay>> SeriesDays(std::string_view n, absl::CivilDay f,
                                                         absl::CivilDay t) const override {
    return inner_.SeriesDays(n, f, t);
  }
  absl::StatusOr<std::vector<std::string>> SeriesNames(absl::CivilDay d) const override {
    return inner_.SeriesNames(d);
  }
  absl::StatusOr<std::vector<AuditRow>> LoadAudit(int64_t after) const override {
    return inner_.LoadAudit(after);
  }
  absl::StatusOr<std::vector<EscalationRow>> LoadEscalations() const override {
    return inner_.LoadEscalations();
  }
  absl::StatusOr<std::vector<SponsorRow>> LoadSponsors() const override {
    return inner_.LoadSponsors();
  }
  absl::StatusOr<std::vector<ReentryRow>> LoadReentry() const override {
    return inner_.LoadReentry();
  }

 private:
  Store& inner_;
  std::string fail_;
};

}  // namespace cscore::testing_engine

#endif  // CSCORE_TESTS_ENGINE_TEST_UTIL_H_
