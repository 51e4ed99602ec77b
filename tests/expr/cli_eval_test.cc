// `cscore eval` end to end: runs the built tool over a small data directory (and a store
// filled by `cscore run`) and checks what it prints, and how it fails.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Result {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class EvalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cscore_eval_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    fs::create_directories(dir_ / "config");
    Write("config/engine.yaml", "history_days: 30\n");  // no scorecards: history only
    Write("data/accounts-2024-03-04.csv",
          "account_id,segment,logins,nps,renewal_date\n"
          "acme,SMB,3,-10,2024-05-01\n"
          "globex,ENT,40,50,2024-03-10\n"
          "initech,SMB,12,,2025-01-01\n");
    Write("data/accounts-2024-03-05.csv",
          "account_id,segment,logins,nps,renewal_date\n"
          "acme,SMB,1,-10,2024-05-01\n"
          "globex,ENT,44,55,2024-03-10\n"
          "initech,SMB,20,,2025-01-01\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  Result Cli(const std::vector<std::string>& args) {
    std::string cmd = Quote(CSCORE_CLI);
    for (const std::string& a : args) cmd += " " + Quote(a);
    fs::path err = dir_ / "stderr.txt";
    cmd += " 2>" + Quote(err.string());
    Result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = Slurp(err);
    return r;
  }
  std::string Data() const { return (dir_ / "data").string(); }

  fs::path dir_;
};

TEST_F(EvalCliTest, EvaluatesForEveryAccountWithABooleanSummary) {
  Result r =
      Cli({"eval", "logins < 10.0 && segment == 'SMB'", "--data", Data(), "--date", "2024-03-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "acme\ttrue\n"
            "globex\tfalse\n"
            "initech\tfalse\n"
            "1 true, 2 false, 0 errors of 3 accounts\n");
}

TEST_F(EvalCliTest, OneAccountAndTheDate) {
  Result r = Cli({"eval", "days_until(renewal_date)", "--data", Data(), "--date", "2024-03-04",
                  "--account", "globex"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "globex\t6\n");
  // The day picks the snapshot too: on 03-04 acme had 3 logins.
  Result day1 =
      Cli({"eval", "logins", "--data", Data(), "--date", "2024-03-04", "--account", "acme"});
  EXPECT_EQ(day1.out, "acme\t3.0\n");  // metric columns read as doubles
}

TEST_F(EvalCliTest, MissingValuesAreCountedAsErrors) {
  Result r = Cli({"eval", "nps < 0.0", "--data", Data(), "--date", "2024-03-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("initech\terror\n"));
  EXPECT_THAT(r.out, HasSubstr("1 true, 1 false, 1 errors of 3 accounts"));
  EXPECT_THAT(r.err, HasSubstr("first error: account 'initech': missing value for 'nps'"));
  Result one =
      Cli({"eval", "nps < 0.0", "--data", Data(), "--date", "2024-03-05", "--account", "initech"});
  EXPECT_EQ(one.code, 1);
  EXPECT_THAT(one.out, HasSubstr("initech\terror: account 'initech': missing value for 'nps'"));
}

TEST_F(EvalCliTest, CompileErrorsShowLineColumnAndCaret) {
  Result r =
      Cli({"eval", "logins < 10.0 && segmnt == 'SMB'", "--data", Data(), "--date", "2024-03-05"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "error: 1:18: undeclared reference to 'segmnt'\n"
            " | logins < 10.0 && segmnt == 'SMB'\n"
            " |                  ^\n");
  Result type = Cli({"eval", "segment > 3", "--data", Data(), "--date", "2024-03-05"});
  EXPECT_EQ(type.code, 1);
  EXPECT_THAT(type.err, StartsWith("error: 1:9: no matching overload for '_>_'"));
}

TEST_F(EvalCliTest, UnknownAccountAndConstantExpressions) {
  Result r =
      Cli({"eval", "nps > 0.0", "--data", Data(), "--date", "2024-03-05", "--account", "nobody"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("account 'nobody' is not in the data"));
  Result c = Cli({"eval", "[1, 2, 3].map(x, x * 2)"});
  EXPECT_EQ(c.code, 0);
  EXPECT_EQ(c.out, "[2, 4, 6]\n");
  Result e = Cli({"eval", "1 / 0"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.out, "error: divide by zero\n");
}

TEST_F(EvalCliTest, HistoryFunctionsNeedTheStore) {
  Result no_db = Cli({"eval", "avg(logins, 2) > 10.0", "--data", Data(), "--date", "2024-03-05"});
  EXPECT_EQ(no_db.code, 1);
  EXPECT_THAT(no_db.err, HasSubstr("reads metric history"));
  EXPECT_THAT(no_db.err, HasSubstr("pass --db FILE"));
  // Two daily runs keep the history; eval then reads it.
  std::string db = (dir_ / "cs.db").string();
  for (const char* day : {"2024-03-04", "2024-03-05"}) {
    Result run = Cli({"run", "--config", (dir_ / "config").string(), "--data", Data(), "--db", db,
                      "--date", day});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
  }
  Result r = Cli({"eval", "avg(logins, 2)", "--data", Data(), "--date", "2024-03-05", "--db", db});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "acme\t2.0\n"
            "globex\t42.0\n"
            "initech\t16.0\n"
            "3 accounts, 0 errors\n");
  Result t = Cli({"eval", "trend(logins, 2) < 0.0", "--data", Data(), "--date", "2024-03-05",
                  "--db", db, "--account", "acme"});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out, "acme\ttrue\n");
}

}  // namespace
