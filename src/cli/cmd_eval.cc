// `cscore eval 'EXPR'`: compiles a CEL expression against the schema of a day's data and
// evaluates it for one account or all of them; without data, a constant expression.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "cscore/engine/engine.h"
#include "cscore/engine/persist.h"
#include "cscore/expr/cel.h"
#include "cscore/frame/csv.h"
#include "cscore/store/sqlite_store.h"

namespace cscore::cli {
namespace {

struct EvalArgs {
  std::string expr;
  std::string data;
  std::string csv;
  std::string account;
  std::string date;
  std::string db;
};

template <typename T>
T ValueOrExit(absl::StatusOr<T> v) {
  CheckOrExit(v.status());
  return *std::move(v);
}

// Values as CEL literals; doubles in their shortest exact form, always with a point or an
// exponent so that 2.0 does not read as the int 2.
std::string Show(const cel::Value& v) {
  if (v.is_error()) return "error: " + v.error_message();
  if (v.kind() != cel::Kind::kDouble) return v.DebugString();
  double d = v.double_value();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  std::string s;
  for (int prec = 1; prec <= 17; ++prec) {
    s = absl::StrFormat("%.*g", prec, d);
    if (std::strtod(s.c_str(), nullptr) == d) break;
  }
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

void Eval(const EvalArgs& args) {
  absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  if (!args.date.empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay(args.date);
    CheckOrExit(d.status(), 2);
    day = *d;
  }
  // `now` is the start of the day, as in the daily run.
  const cel::EvalContext ctx{.now = absl::FromCivil(day, absl::UTCTimeZone())};

  if (args.data.empty() && args.csv.empty()) {
    if (!args.account.empty() || !args.db.empty()) {
      CheckOrExit(absl::InvalidArgumentError("--account and --db need --data or --csv"), 2);
    }
    cel::Program p = ValueOrExit(cel::Compile(args.expr, cel::Environment()));
    cel::Value v = p.Evaluate({}, ctx);
    std::cout << Show(v) << "\n";
    if (v.is_error()) throw Exit{1};
    return;
  }

  CsvOptions csv_options;
  csv_options.id_column = "account_id";
  AccountFrame frame = args.csv.empty() ? ValueOrExit(ReadSnapshot(args.data, day))
                                        : ValueOrExit(ReadCsv(args.csv, csv_options));
  // Every column the daily run keeps as history may be named in avg/sum/trend/pct_change.
  const std::vector<std::string> metric_columns = MetricColumns(frame);
  cel::Environment env = cel::Environment::ForFrame(frame);
  for (const std::string& m : metric_columns) env.DeclareMetric(m);
  cel::Program program = ValueOrExit(cel::Compile(args.expr, env));

  std::optional<size_t> only;
  if (!args.account.empty()) {
    only = frame.RowOf(args.account);
    if (!only) {
      CheckOrExit(absl::NotFoundError(absl::StrFormat(
          "account '%s' is not in the data (%d accounts)", args.account, frame.num_rows())));
    }
    std::vector<size_t> rows = {*only};
    frame = frame.Take(rows);
  }

  std::optional<MetricHistory> history;
  std::vector<std::pair<std::string, int64_t>> windows = program.metric_windows();
  if (!windows.empty()) {
    if (args.db.empty()) {
      CheckOrExit(absl::FailedPreconditionError(absl::StrFormat(
          "'%s' reads metric history (avg/sum/trend/pct_change of '%s'): pass --db FILE, the "
          "store the daily runs wrote",
          args.expr, windows[0].first)));
    }
    std::unique_ptr<SqliteStore> store = ValueOrExit(SqliteStore::Open(args.db));
    Engine engine(*store);
    std::vector<std::string> metrics;
    int64_t days = 1;
    for (const auto& [m, d] : windows) {
      metrics.push_back(m);
      days = std::max(days, d == 0 ? int64_t{EngineOptions().history_days} : d + 1);
    }
    history = ValueOrExit(engine.LoadHistory(frame, metrics, day, static_cast<int>(days)));
  }

  cel::ResultColumn col =
      ValueOrExit(program.EvaluateFrame(frame, history ? &*history : nullptr, ctx, {.threads = 2}));
  if (only) {
    cel::Value v = col.ok(0) || col.status[0] == cel::RowStatus::kNull
                       ? col.ValueAt(0)
                       : cel::Value::Error(col.first_error);
    std::cout << frame.ids()[0] << "\t" << Show(v) << "\n";
    if (v.is_error()) throw Exit{1};
    return;
  }
  size_t trues = 0, falses = 0;
  for (size_t i = 0; i < col.size(); ++i) {
    std::string shown = col.status[i] == cel::RowStatus::kError ? "error" : Show(col.ValueAt(i));
    std::cout << frame.ids()[i] << "\t" << shown << "\n";
    if (col.kind == cel::Kind::kBool && col.ok(i)) ++(col.b[i] ? trues : falses);
  }
  if (col.kind == cel::Kind::kBool) {
    std::cout << absl::StrFormat("%d true, %d false, %d errors of %d accounts\n", trues, falses,
                                 col.num_errors, col.size());
  } else {
    std::cout << absl::StrFormat("%d accounts, %d errors\n", col.size(), col.num_errors);
  }
  if (col.num_errors > 0) std::cerr << "first error: " << col.first_error << "\n";
}

CommandRegistrar reg(
    "eval",
    [](CLI::App& app) {
      auto args = std::make_shared<EvalArgs>();
      CLI::App* cmd = app.add_subcommand(
          "eval", "Evaluate a CEL expression for one account or all, over a day's data");
      cmd->add_option("expression", args->expr, "CEL expression, e.g. 'nps < 0'")->required();
      auto* data = cmd->add_option("--data", args->data,
                                   "Data directory (accounts-YYYY-MM-DD.csv or accounts.csv)");
      auto* csv = cmd->add_option("--csv", args->csv, "Accounts CSV file (id column account_id)");
      data->excludes(csv);
      cmd->add_option("--account", args->account, "Evaluate for this account only");
      cmd->add_option("--date", args->date,
                      "Day of the data and of `now`, YYYY-MM-DD (default: today, UTC)");
      cmd->add_option("--db", args->db,
                      "Store of the daily runs, for the history in avg/sum/trend/pct_change");
      cmd->callback([args] { Eval(*args); });
    },
    60);

}  // namespace
}  // namespace cscore::cli
