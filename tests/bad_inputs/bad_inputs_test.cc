// The bad-input catalog: every case of MANIFEST.tsv runs `cscore run` over a store holding
// a good first day; the run must fail with the expected message, not crash, and leave the
// store byte-for-byte as it was.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

const fs::path kCatalog = fs::path(CSCORE_SOURCE_DIR) / "tests" / "bad_inputs";
constexpr const char* kGoodDay = "account_id,segment,logins,nps\nacme,smb,3,10\nglobex,smb,4,20\n";

struct Case {
  std::string name, kind, expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> LoadManifest() {
  std::vector<Case> cases;
  std::ifstream in(kCatalog / "MANIFEST.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 3) cases.push_back({f[0], f[1], f[2]});
  }
  return cases;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Result {
  int exit_code = -1;  // -signal when killed by one
  std::string err;
};

Result RunCli(const std::vector<std::string>& args, const fs::path& err_file) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv = {const_cast<char*>(CSCORE_CLI)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Result r;
  r.exit_code = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  r.err = ReadAll(err_file);
  return r;
}

// Every row of every table; a file that is no database dumps as its bytes.
std::string Dump(const fs::path& path) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "file:" + ReadAll(path);
  }
  sqlite3_stmt* tables = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1", -1,
                         &tables, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "file:" + ReadAll(path);
  }
  while (sqlite3_step(tables) == SQLITE_ROW) {
    std::string t = reinterpret_cast<const char*>(sqlite3_column_text(tables, 0));
    out += "[" + t + "]\n";
    sqlite3_stmt* st = nullptr;
    std::string sql = absl::StrFormat("SELECT * FROM %s ORDER BY 1", t);
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const void* p = sqlite3_column_blob(st, c);
        out.append(static_cast<const char*>(p ? p : ""), sqlite3_column_bytes(st, c));
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(st);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  return out;
}

class BadInputTest : public ::testing::TestWithParam<Case> {
 protected:
  // A store holding one good day, made once and copied for each case.
  static void SetUpTestSuite() {
    base_ = fs::temp_directory_path() / ("cscore_bad_inputs_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "config");
    fs::create_directories(base_ / "data");
    std::ofstream(base_ / "config" / "engine.yaml") << "history_days: 30\n";
    std::ofstream(base_ / "data" / "accounts-2024-03-01.csv") << kGoodDay;
    Result r =
        RunCli({"run", "--config", (base_ / "config").string(), "--data", (base_ / "data").string(),
                "--db", (base_ / "good.db").string(), "--date", "2024-03-01"},
               base_ / "setup.err");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(base_); }

  static fs::path base_;
};
fs::path BadInputTest::base_;

TEST_P(BadInputTest, FailsWithItsMessageAndLeavesTheStoreUnchanged) {
  const Case& c = GetParam();
  const fs::path dir = base_ / ("case_" + c.name);
  fs::remove_all(dir);
  fs::create_directories(dir / "config");
  fs::create_directories(dir / "data");
  fs::copy_file(base_ / "config" / "engine.yaml", dir / "config" / "engine.yaml");
  fs::copy_file(base_ / "good.db", dir / "cs.db");
  std::string config = (dir / "config").string(), data = (dir / "data").string();
  std::string db = (dir / "cs.db").string(), date = "2024-03-02";
  const fs::path snapshot = dir / "data" / "accounts-2024-03-02.csv";

  if (c.kind == "config") {
    // "<what>__<file>" replaces the config file <file> ("lifecycles-<f>": lifecycles/<f>);
    // any other name joins the directory under its own name.
    std::string target = c.name;
    if (size_t sep = target.rfind("__"); sep != std::string::npos) target = target.substr(sep + 2);
    if (target.starts_with("lifecycles-")) {
      fs::create_directories(dir / "config" / "lifecycles");
      target = "lifecycles/" + target.substr(11);
    }
    fs::copy_file(kCatalog / "cases" / c.name, dir / "config" / target);
    std::ofstream(snapshot) << kGoodDay;
  } else if (c.kind == "data") {
    fs::copy_file(kCatalog / "cases" / c.name, snapshot);
  } else if (c.name == "long_line_100mb") {
    std::ofstream out(snapshot, std::ios::binary);
    out << "account_id,segment,logins,nps\nacme,";
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) out << chunk;
    out << ",3,10\n";
  } else if (c.name == "not_a_date") {
    date = "2024-02-30";
  } else if (c.name == "before_last_run") {
    date = "2024-02-01";
    std::ofstream(dir / "data" / "accounts.csv") << kGoodDay;
  } else if (c.name == "no_data_dir") {
    data = (dir / "missing").string();
  } else if (c.name == "no_snapshot_file") {
    // data/ stays empty
  } else if (c.name == "no_config_dir") {
    config = (dir / "missing").string();
  } else if (c.name == "no_yaml_in_config") {
    fs::remove(dir / "config" / "engine.yaml");
    std::ofstream(dir / "config" / "README.txt") << "settings live elsewhere\n";
  } else if (c.name == "db_not_a_database") {
    std::ofstream(snapshot) << kGoodDay;
    std::ofstream(db, std::ios::binary | std::ios::trunc) << std::string(8192, 'x');
  } else if (c.name == "db_newer_schema") {
    std::ofstream(snapshot) << kGoodDay;
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "INSERT INTO schema_version VALUES(99)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(h);
  } else {
    FAIL() << "unknown scenario " << c.name;
  }
  const std::string before = Dump(db);
  Result r = RunCli({"run", "--config", config, "--data", data, "--db", db, "--date", date},
                    dir / "stderr.txt");
  EXPECT_GT(r.exit_code, 0) << "the run must fail cleanly, not crash";
  EXPECT_THAT(r.err, ::testing::HasSubstr(c.expected));
  EXPECT_EQ(Dump(db), before) << "the store changed";
  fs::remove_all(dir);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name;
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Catalog, BadInputTest, ::testing::ValuesIn(LoadManifest()), CaseName);

TEST(BadInputCatalogTest, HasAtLeastFortyCasesAndEveryCaseFileIsListed) {
  std::vector<Case> cases = LoadManifest();
  EXPECT_GE(cases.size(), 40u);
  std::set<std::string> listed;
  for (const Case& c : cases) listed.insert(c.name);
  for (const auto& f : fs::directory_iterator(kCatalog / "cases")) {
    EXPECT_TRUE(listed.count(f.path().filename().string())) << f.path() << " is not in MANIFEST";
  }
}

}  // namespace
