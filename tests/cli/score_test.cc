// `cscore score` end to end: runs the built tool on small files and checks what it prints
// (the table, the trend against the previous snapshot, CSV and JSON) and how it fails.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

class ScoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("cscore_cli_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `cscore <args>` from the repository root, capturing stdout and stderr.
  Result Run(const std::vector<std::string>& args) {
    std::string cmd = Quote(CSCORE_CLI);
    for (const std::string& a : args) cmd += " " + Quote(a);
    const fs::path err = dir_ / "stderr.txt";
    cmd += " 2>" + Quote(err.string());
    Result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = ReadFile(err);
    return r;
  }

  fs::path dir_;
};

constexpr char kCards[] =
    "scorecards:\n"
    "  - name: main\n"
    "    default: true\n"
    "    scheme:\n"
    "      kind: color\n"
    "      ranges:\n"
    "        - {from: 0, to: 50, label: Poor, color: red}\n"
    "        - {from: 50, to: 75, label: Fair, color: yellow}\n"
    "        - {from: 75, to: 100, label: Good, color: green}\n"
    "    measures:\n"
    "      - {name: usage, metric: logins, weight: 3, ramp: {from: 0, to: 100}}\n"
    "      - {name: tickets, metric: open_tickets, weight: 1, inverted_ramp: {from: 0, to: 10}}\n";

// usage (weight 3) and tickets (weight 1): A-1 100/100 -> 100; A-2 50/50 -> 50, which the
// boundary rule puts in the first range; A-3 80/0 -> 60; A-4 has no logins, so tickets alone
// (80) carries the score.
constexpr char kData[] =
    "account_id,name,logins,open_tickets\n"
    "A-1,Alpha,100,0\n"
    "A-2,Beta,50,5\n"
    "A-3,Gamma,80,10\n"
    "A-4,Delta,,2\n";

TEST_F(ScoreTest, PrintsTableLowestScoreFirstWithDriversAndDistribution) {
  WriteFile(dir_ / "cards.yaml", kCards);
  WriteFile(dir_ / "data.csv", kData);
  Result r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
                  (dir_ / "data.csv").string(), "--date", "2026-01-05", "--color", "never"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("4 accounts scored on 2026-01-05"));
  // One line per account, in score order, with the name column, label and drivers.
  std::vector<std::string> lines;
  std::stringstream ss(r.out);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("A-", 0) == 0) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("A-2"));
  EXPECT_THAT(lines[0], HasSubstr("Beta"));
  EXPECT_THAT(lines[0], HasSubstr(" 50.0  Poor"));
  EXPECT_THAT(lines[0], HasSubstr("usage 50 (50), tickets 50 (5)"));
  EXPECT_THAT(lines[1], HasSubstr("A-3"));
  EXPECT_THAT(lines[1], HasSubstr(" 60.0  Fair"));
  EXPECT_THAT(lines[1], HasSubstr("tickets 0 (10), usage 80 (80)"));
  EXPECT_THAT(lines[2], HasSubstr("A-4"));
  EXPECT_THAT(lines[2], HasSubstr(" 80.0  Good"));
  EXPECT_THAT(lines[2], HasSubstr("tickets 80 (2)"));
  EXPECT_THAT(lines[2], Not(HasSubstr("usage")));
  EXPECT_THAT(lines[3], HasSubstr("A-1"));
  EXPECT_THAT(lines[3], HasSubstr("100.0  Good"));
  EXPECT_THAT(r.out, HasSubstr("health: green 2 (50.0%)  yellow 1 (25.0%)  red 1 (25.0%)  n/a 0"));
  EXPECT_THAT(r.out, HasSubstr("scorecards: main 4"));
  // Not a terminal and --color never: no escape codes.
  EXPECT_THAT(r.out, Not(HasSubstr("\033[")));
}

TEST_F(ScoreTest, ColorAlwaysPaintsLabelsByTheirSchemeColor) {
  WriteFile(dir_ / "cards.yaml", kCards);
  WriteFile(dir_ / "data.csv", kData);
  Result r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
                  (dir_ / "data.csv").string(), "--color", "always", "--top", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\033[1;31mPoor"));  // A-2, red
  EXPECT_THAT(r.out, HasSubstr("(1 of 4 accounts shown, lowest scores first)"));
  EXPECT_THAT(r.out, Not(HasSubstr("A-3")));
}

TEST_F(ScoreTest, HistoryGivesWindowsAndTrendAgainstThePreviousSnapshot) {
  constexpr char kWindowed[] =
      "scorecards:\n"
      "  - name: usage\n"
      "    default: true\n"
      "    measures:\n"
      "      - {name: logins_3d, metric: logins, window: {op: mean, days: 3},\n"
      "         ramp: {from: 0, to: 100}}\n";
  WriteFile(dir_ / "cards.yaml", kWindowed);
  fs::create_directories(dir_ / "hist");
  WriteFile(dir_ / "hist" / "accounts-2026-01-01.csv", "account_id,logins\nA-1,30\nA-2,90\n");
  WriteFile(dir_ / "hist" / "accounts-2026-01-02.csv", "account_id,logins\nA-1,60\nA-2,60\n");
  WriteFile(dir_ / "hist" / "accounts-2026-01-03.csv",
            "account_id,logins\nA-1,90\nA-2,30\nA-3,50\n");
  // Today (the 3rd): A-1 mean(30, 60, 90) = 60 against mean(30, 60) = 45 the day before.
  Result r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
                  (dir_ / "hist" / "accounts-2026-01-03.csv").string(), "--history",
                  (dir_ / "hist").string(), "--color", "never", "--sort", "id"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 accounts scored on 2026-01-03"));
  EXPECT_THAT(r.out, HasSubstr("trend against 2026-01-02"));
  EXPECT_THAT(r.out, HasSubstr(" 60.0  Average  ↑ +15.0"));
  EXPECT_THAT(r.out, HasSubstr(" 60.0  Average  ↓ -15.0"));
  // A-3 is new: a score, no trend.
  std::string a3 = r.out.substr(r.out.find("A-3"));
  a3 = a3.substr(0, a3.find('\n'));
  EXPECT_THAT(a3, HasSubstr(" 50.0  Poor"));
  EXPECT_THAT(a3, Not(HasSubstr("↑")));
  EXPECT_THAT(a3, Not(HasSubstr("↓")));

  // The same as JSON.
  r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "hist" / "accounts-2026-01-03.csv").string(), "--history",
           (dir_ / "hist").string(), "--json", "--sort", "id"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["date"], "2026-01-03");
  EXPECT_EQ(j["previous_date"], "2026-01-02");
  ASSERT_EQ(j["scores"].size(), 3u);
  EXPECT_EQ(j["scores"][0]["account"], "A-1");
  EXPECT_DOUBLE_EQ(j["scores"][0]["score"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(j["scores"][0]["previous"].get<double>(), 45.0);
  EXPECT_EQ(j["scores"][0]["trend"], "up");
  EXPECT_EQ(j["scores"][1]["trend"], "down");
  EXPECT_TRUE(j["scores"][2]["trend"].is_null());
  EXPECT_EQ(j["scores"][0]["drivers"][0]["measure"], "logins_3d");
  EXPECT_DOUBLE_EQ(j["scores"][0]["drivers"][0]["raw"].get<double>(), 60.0);
  EXPECT_EQ(j["health"]["yellow"], 2);
  EXPECT_EQ(j["health"]["red"], 1);
}

TEST_F(ScoreTest, WritesCsv) {
  WriteFile(dir_ / "cards.yaml", kCards);
  WriteFile(dir_ / "data.csv", kData);
  const fs::path out = dir_ / "scores.csv";
  Result r =
      Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "data.csv").string(), "--out", out.string(), "--sort", "id", "--drivers", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote 4 rows to"));
  EXPECT_EQ(ReadFile(out),
            "account_id,scorecard,score,label,color,previous,delta,trend,driver_1,driver_1_score\n"
            "A-1,main,100.0000,Good,green,,,,usage,100.00\n"
            "A-2,main,50.0000,Poor,red,,,,usage,50.00\n"
            "A-3,main,60.0000,Fair,yellow,,,,tickets,0.00\n"
            "A-4,main,80.0000,Good,green,,,,tickets,80.00\n");
}

TEST_F(ScoreTest, ConfigErrorNamesFileLineAndColumn) {
  std::string cards = kCards;
  cards.replace(cards.find("metric: open_tickets"), 20, "metric: open_ticket");
  WriteFile(dir_ / "cards.yaml", cards);
  WriteFile(dir_ / "data.csv", kData);
  Result r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
                  (dir_ / "data.csv").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cards.yaml:12:9: measure 'tickets': unknown metric "
                               "'open_ticket' (no such column)"));
  EXPECT_EQ(r.out, "");

  WriteFile(dir_ / "cards.yaml", "scorecards:\n  - name: x\n    default: true\n    measures: []\n");
  r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "data.csv").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cards.yaml:4:15: 'measures' must be a non-empty list"));
}

TEST_F(ScoreTest, DataErrorsNameTheAccountAndColumn) {
  WriteFile(dir_ / "cards.yaml", kCards);
  WriteFile(dir_ / "dup.csv", "account_id,logins,open_tickets\nA-1,1,0\nA-1,2,0\n");
  Result r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
                  (dir_ / "dup.csv").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("A-1"));
  EXPECT_THAT(r.err, HasSubstr("dup.csv:3:"));

  WriteFile(dir_ / "inf.csv", "account_id,logins,open_tickets\nA-1,1,0\nA-2,inf,0\n");
  r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "inf.csv").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("account 'A-2', column 'logins'"));

  // A text value makes the column categorical: the ramp over it is refused by measure.
  WriteFile(dir_ / "text.csv", "account_id,logins,open_tickets\nA-1,1,0\nA-2,many,0\n");
  r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "text.csv").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cards.yaml:11:9: measure 'usage': column 'logins'"));
  EXPECT_THAT(r.err, HasSubstr("categorical"));
}

TEST_F(ScoreTest, ScoresTheShippedSample) {
  Result r =
      Run({"score", "--config", "examples/demo/config", "--data", "examples/demo/data/accounts.csv",
           "--date", "2026-06-01", "--top", "10", "--color", "never"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2000 accounts scored on 2026-06-01"));
  EXPECT_THAT(r.out, HasSubstr("(10 of 2000 accounts shown, lowest scores first)"));
  // Every account is scored by one of the four scorecards and gets a color.
  nlohmann::json j;
  r = Run({"score", "--config", "examples/demo/config", "--data", "examples/demo/data/accounts.csv",
           "--date", "2026-06-01", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["accounts"], 2000);
  const auto& h = j["health"];
  EXPECT_EQ(h["green"].get<int>() + h["yellow"].get<int>() + h["red"].get<int>() +
                h["unscored"].get<int>(),
            2000);
  EXPECT_GT(h["red"].get<int>(), 0);
  EXPECT_GT(h["green"].get<int>(), h["red"].get<int>());
  std::map<std::string, int> cards;
  for (const auto& s : j["scores"]) ++cards[s["scorecard"].get<std::string>()];
  EXPECT_EQ(cards.size(), 4u);
  // The lowest score comes first.
  EXPECT_LE(j["scores"][0]["score"].get<double>(), j["scores"][1]["score"].get<double>());
}

TEST_F(ScoreTest, UsageErrors) {
  WriteFile(dir_ / "data.csv", kData);
  Result r = Run({"score", "--data", (dir_ / "data.csv").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("exactly one of --config DIR or --scorecards FILE"));
  WriteFile(dir_ / "cards.yaml", kCards);
  r = Run({"score", "--scorecards", (dir_ / "cards.yaml").string(), "--data",
           (dir_ / "data.csv").string(), "--date", "2026-02-30"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("2026-02-30"));
}

}  // namespace
