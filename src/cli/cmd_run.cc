// `cscore run`: the daily run over a config directory, a data directory and a store file.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "cscore/engine/config_dir.h"
#include "cscore/engine/engine.h"
#include "cscore/store/sqlite_store.h"

namespace cscore::cli {
namespace {

struct RunArgs {
  std::string config;
  std::string data;
  std::string db;
  std::string date;
  bool json = false;
};

// A one-line bar on stderr, drawn only on a terminal and only once the run has taken a
// while, so short runs and pipes stay quiet.
class ProgressBar {
 public:
  ProgressBar() : tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (drawn_) std::fprintf(stderr, "\r%70s\r", "");
  }
  void Update(std::string_view step, double fraction) {
    if (!tty_) return;
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (!drawn_ && elapsed < std::chrono::milliseconds(500)) return;
    drawn_ = true;
    int filled = static_cast<int>(fraction * 40);
    std::string bar(filled, '#');
    bar.resize(40, '.');
    std::fprintf(stderr, "\r[%s] %3d%% %-16.*s", bar.c_str(), static_cast<int>(fraction * 100),
                 static_cast<int>(step.size()), step.data());
    std::fflush(stderr);
  }

 private:
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

void PrintHuman(const RunReport& r) {
  std::cout << absl::StrFormat("cscore run %s%s\n", FormatDay(r.date),
                               r.from_store ? " (already complete; stored report)" : "");
  std::cout << absl::StrFormat("  accounts   %d (%d new), %d metrics kept as history\n", r.accounts,
                               r.new_accounts, r.metrics);
  std::cout << absl::StrFormat("  health     green %d, yellow %d, red %d, unscored %d\n",
                               r.health.green, r.health.yellow, r.health.red, r.health.unscored);
  std::string risk;
  for (size_t d = 0; d < kRiskDomainNames.size(); ++d) {
    risk += absl::StrFormat("%s%s %d", d ? ", " : "", kRiskDomainNames[d], r.risk_red[d]);
  }
  std::cout << "  risk red   " << risk << "\n";
  std::cout << absl::StrFormat(
      "  ctas       opened %d, updated %d, closed %d, escalated %d; %d open\n", r.ctas.opened,
      r.ctas.updated, r.ctas.closed, r.ctas.escalated, r.ctas.open);
  if (r.ctas.woken || r.ctas.breached || r.ctas.rejected) {
    std::cout << absl::StrFormat("             snoozes ended %d, due dates passed %d, refused %d\n",
                                 r.ctas.woken, r.ctas.breached, r.ctas.rejected);
  }
  if (r.rules.run) {
    std::cout << absl::StrFormat(
        "  rules      %d run, %d matches, %d intents (suppressed: %d snoozed, %d re-entry)\n",
        r.rules.run, r.rules.matched, r.rules.intents, r.rules.suppressed_snoozed,
        r.rules.suppressed_reentry);
  }
  if (r.timed.opened || r.sponsors.assigned || r.sponsors.unassigned) {
    std::cout << absl::StrFormat(
        "  timed      %d CTAs opened (%d check-ins); sponsors %d assigned, %d unassigned, %d "
        "changed\n",
        r.timed.opened, r.timed.check_ins, r.sponsors.assigned, r.sponsors.unassigned,
        r.sponsors.changed);
  }
  if (!r.new_red_accounts.empty()) {
    std::cout << "  new red    " << r.new_red_accounts.size() << " accounts\n";
  }
  for (const std::string& e : r.escalations) std::cout << "  escalated  " << e << "\n";
  std::string steps;
  for (const std::string& s : r.steps) steps += (steps.empty() ? "" : ", ") + s;
  std::cout << "  steps      " << steps << "\n";
}

void Run(const RunArgs& args) {
  absl::CivilDay date;
  if (args.date.empty()) {
    date = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  } else {
    absl::StatusOr<absl::CivilDay> d = ParseDay(args.date);
    CheckOrExit(d.status(), 2);
    date = *d;
  }
  ConfigCheck check = CheckConfigDir(args.config);
  for (const absl::Status& e : check.errors) std::cerr << "error: " << e.message() << "\n";
  if (!check.ok()) throw Exit{1};

  absl::StatusOr<EngineOptions> loaded = LoadEngineOptions(args.config);
  CheckOrExit(loaded.status());
  absl::StatusOr<AccountFrame> snapshot = ReadSnapshot(args.data, date, *loaded);
  CheckOrExit(snapshot.status());
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(args.db);
  CheckOrExit(store.status());

  ProgressBar bar;
  EngineOptions options = *std::move(loaded);
  options.progress = [&bar](std::string_view step, double f) { bar.Update(step, f); };
  Engine engine(**store, options);
  absl::StatusOr<RunReport> report = engine.Run(*snapshot, date);
  CheckOrExit(report.status());
  if (args.json) {
    std::cout << report->ToJson() << "\n";
  } else {
    PrintHuman(*report);
  }
}

CommandRegistrar reg(
    "run",
    [](CLI::App& app) {
      auto args = std::make_shared<RunArgs>();
      CLI::App* cmd = app.add_subcommand(
          "run", "The daily run: ingest, score, rules, CTAs, escalations, into a store");
      cmd->add_option("--config", args->config, "Configuration directory")->required();
      cmd->add_option("--data", args->data,
                      "Data directory (accounts-YYYY-MM-DD.csv or accounts.csv)")
          ->required();
      cmd->add_option("--db", args->db, "SQLite store file (created if absent)")->required();
      cmd->add_option("--date", args->date, "Day to run, YYYY-MM-DD (default: today, UTC)");
      cmd->add_flag("--json", args->json, "Print the run report as JSON");
      cmd->callback([args] { Run(*args); });
    },
    20);

}  // namespace
}  // namespace cscore::cli
