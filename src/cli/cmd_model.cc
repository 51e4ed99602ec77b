// `cscore model fit|score|backtest`: the logistic churn model from CSV files.
//
// fit and backtest share a stratified hold-out split (--holdout F --split-seed S): fit uses
// the training rows, backtest the held-out rows, so the two commands with the same options
// evaluate a model on data it never saw. With --holdout 0 (the default) both use every row.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "commands.h"
#include "cscore/frame/csv.h"
#include "cscore/health/backtest.h"
#include "cscore/health/design_matrix.h"
#include "cscore/health/logistic.h"
#include "nlohmann/json.hpp"

namespace cscore::cli {
namespace {

struct SplitArgs {
  double holdout = 0.0;
  uint64_t seed = 42;
};

void AddSplitOptions(CLI::App* cmd, SplitArgs& s) {
  cmd->add_option("--holdout", s.holdout,
                  "Share of rows held out for testing (stratified by the target)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--split-seed", s.seed, "Seed of the hold-out split");
}

AccountFrame ReadOrExit(const std::string& path, const std::string& id_column) {
  CsvOptions opt;
  opt.id_column = id_column;
  absl::StatusOr<AccountFrame> f = ReadCsv(path, opt);
  CheckOrExit(f.status());
  return *std::move(f);
}

// The rows a command works on: training rows (`test` false) or held-out rows.
std::vector<size_t> SelectRows(std::span<const uint8_t> y, const SplitArgs& s, bool test) {
  std::vector<size_t> rows;
  if (s.holdout <= 0.0) {
    rows.resize(y.size());
    for (size_t i = 0; i < y.size(); ++i) rows[i] = i;
    return rows;
  }
  absl::StatusOr<Split> split = StratifiedSplit(y, s.holdout, s.seed);
  CheckOrExit(split.status());
  return test ? split->test : split->train;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::ofstream OpenOrExit(const std::string& path) {
  std::ofstream out(path);
  if (!out) CheckOrExit(absl::NotFoundError("cannot write '" + path + "'"));
  return out;
}

// Every row of the design matrix with its split and outcome, so another tool can refit on
// exactly the same numbers.
void ExportDesign(const std::string& path, const AccountFrame& frame, const LogisticModel& model,
                  std::span<const uint8_t> y, std::span<const size_t> train) {
  absl::StatusOr<Eigen::MatrixXd> x = model.design().Transform(frame);
  CheckOrExit(x.status());
  std::vector<uint8_t> is_train(frame.num_rows(), 0);
  for (size_t r : train) is_train[r] = 1;
  std::ofstream out = OpenOrExit(path);
  out << "id,split,target";
  for (const DesignFeature& f : model.design().features()) out << "," << CsvField(f.Name());
  out << "\n";
  for (size_t r = 0; r < frame.num_rows(); ++r) {
    out << CsvField(frame.ids()[r]) << (is_train[r] ? ",train," : ",test,") << int{y[r]};
    for (Eigen::Index j = 0; j < x->cols(); ++j) {
      out << absl::StrFormat(",%.17g", (*x)(static_cast<Eigen::Index>(r), j));
    }
    out << "\n";
  }
  if (!out) CheckOrExit(absl::DataLossError("failed writing '" + path + "'"));
}

LogisticModel LoadModelOrExit(const std::string& path) {
  std::ifstream in(path);
  if (!in) CheckOrExit(absl::NotFoundError("cannot read model '" + path + "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<LogisticModel> m = LogisticModel::FromJson(ss.str());
  if (!m.ok())
    CheckOrExit(absl::InvalidArgumentError(path + ": " + std::string(m.status().message())));
  return *std::move(m);
}

void RegisterFit(CLI::App* model) {
  struct Args {
    std::string data, target, positive, out, id_column, export_design;
    std::vector<std::string> drop;
    double l2 = 1.0;
    bool impute = false;
    SplitArgs split;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("fit", "Fit a logistic churn model to a CSV file");
  cmd->add_option("--data", a->data, "CSV of accounts")->required();
  cmd->add_option("--target", a->target, "Outcome column")->required();
  cmd->add_option("--positive", a->positive, "Value of the target meaning churned");
  cmd->add_option("--drop", a->drop, "Columns left out of the model")->delimiter(',');
  cmd->add_option("--l2", a->l2, "Inverse L2 strength, as scikit-learn's C")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--id-column", a->id_column, "Account id column (default: row number)");
  cmd->add_flag("--impute-mean", a->impute, "Fill missing numbers with the training mean");
  cmd->add_option("--export-design", a->export_design,
                  "Also write the design matrix of every row (with split and target) here");
  cmd->add_option("--out", a->out, "Model JSON to write")->required();
  AddSplitOptions(cmd, a->split);
  cmd->callback([a] {
    AccountFrame frame = ReadOrExit(a->data, a->id_column);
    absl::StatusOr<std::vector<uint8_t>> y = EncodeTarget(frame, a->target, a->positive);
    CheckOrExit(y.status());
    std::vector<size_t> train = SelectRows(*y, a->split, false);
    ModelSpec spec;
    spec.target = a->target;
    spec.positive = a->positive;
    spec.design.exclude = a->drop;
    if (!a->id_column.empty()) spec.design.exclude.push_back(a->id_column);
    spec.design.missing = a->impute ? MissingPolicy::kImputeMean : MissingPolicy::kError;
    spec.fit.l2_C = a->l2;
    absl::StatusOr<LogisticModel> m = LogisticModel::Fit(frame, spec, train);
    CheckOrExit(m.status());
    {
      std::ofstream out = OpenOrExit(a->out);
      out << m->ToJson() << "\n";
      if (!out) CheckOrExit(absl::DataLossError("failed writing '" + a->out + "'"));
    }
    if (!a->export_design.empty()) ExportDesign(a->export_design, frame, *m, *y, train);
    std::cout << absl::StrFormat("fitted %d features on %d of %d rows -> %s\n",
                                 m->design().num_features(), train.size(), frame.num_rows(),
                                 a->out);
  });
}

void RegisterScore(CLI::App* model) {
  struct Args {
    std::string model, data, out, id_column;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("score", "Churn probability of every account");
  cmd->add_option("--model", a->model, "Model JSON from `model fit`")->required();
  cmd->add_option("--data", a->data, "CSV of accounts")->required();
  cmd->add_option("--id-column", a->id_column, "Account id column (default: row number)");
  cmd->add_option("--out", a->out, "CSV to write: id,probability")->required();
  cmd->callback([a] {
    LogisticModel m = LoadModelOrExit(a->model);
    AccountFrame frame = ReadOrExit(a->data, a->id_column);
    absl::StatusOr<std::vector<double>> p = m.PredictProba(frame);
    CheckOrExit(p.status());
    std::ofstream out = OpenOrExit(a->out);
    out << "id,probability\n";
    for (size_t r = 0; r < p->size(); ++r) {
      out << CsvField(frame.ids()[r]) << absl::StrFormat(",%.17g\n", (*p)[r]);
    }
    if (!out) CheckOrExit(absl::DataLossError("failed writing '" + a->out + "'"));
  });
}

void RegisterBacktest(CLI::App* model) {
  struct Args {
    std::string model, data, target, positive, id_column;
    double green_below = 0.2;
    bool json = false;
    SplitArgs split;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand(
      "backtest", "AUC, worst-decile lift, Brier score, calibration and surprise rate");
  cmd->add_option("--model", a->model, "Model JSON from `model fit`")->required();
  cmd->add_option("--data", a->data, "CSV of accounts with known outcomes")->required();
  cmd->add_option("--target", a->target, "Outcome column")->required();
  cmd->add_option("--positive", a->positive, "Value meaning churned (default: the model's)");
  cmd->add_option("--id-column", a->id_column, "Account id column (default: row number)");
  cmd->add_option("--green-below", a->green_below,
                  "Accounts with a churn probability below this count as green")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", a->json, "Print the report as JSON");
  AddSplitOptions(cmd, a->split);
  cmd->callback([a] {
    LogisticModel m = LoadModelOrExit(a->model);
    AccountFrame frame = ReadOrExit(a->data, a->id_column);
    std::string positive = a->positive.empty() ? m.positive() : a->positive;
    absl::StatusOr<std::vector<uint8_t>> y_all = EncodeTarget(frame, a->target, positive);
    CheckOrExit(y_all.status());
    std::vector<size_t> rows = SelectRows(*y_all, a->split, true);
    absl::StatusOr<std::vector<double>> p = m.PredictProba(frame, rows);
    CheckOrExit(p.status());
    std::vector<uint8_t> y;
    y.reserve(rows.size());
    for (size_t r : rows) y.push_back((*y_all)[r]);
    absl::StatusOr<BacktestReport> rep = Backtest(*p, y, {.green_below = a->green_below});
    CheckOrExit(rep.status());
    if (a->json) {
      nlohmann::ordered_json j;
      j["accounts"] = rep->accounts;
      j["churned"] = rep->churned;
      j["base_rate"] = rep->base_rate;
      j["auc"] = rep->auc;
      j["lift_top_decile"] = rep->lift_top_decile;
      j["brier"] = rep->brier;
      j["green_below"] = a->green_below;
      j["green_churned"] = rep->green_churned;
      j["surprise_rate"] = rep->surprise_rate;
      nlohmann::ordered_json bins = nlohmann::ordered_json::array();
      for (const CalibrationBin& b : rep->calibration) {
        bins.push_back({{"lower", b.lower},
                        {"upper", b.upper},
                        {"count", b.count},
                        {"mean_predicted", b.mean_predicted},
                        {"observed_rate", b.observed_rate}});
      }
      j["calibration"] = std::move(bins);
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << absl::StrFormat(
        "accounts       %d (%d churned, %.1f%%)\n"
        "AUC            %.4f\n"
        "lift (top 10%%) %.2f\n"
        "Brier          %.4f\n"
        "surprise rate  %.3f (%d churned accounts had p < %.2f)\n"
        "calibration    bin          count  predicted  observed\n",
        rep->accounts, rep->churned, 100.0 * rep->base_rate, rep->auc, rep->lift_top_decile,
        rep->brier, rep->surprise_rate, rep->green_churned, a->green_below);
    for (const CalibrationBin& b : rep->calibration) {
      std::cout << absl::StrFormat("               [%.1f, %.1f)  %5d  %9.3f  %8.3f\n", b.lower,
                                   b.upper, b.count, b.mean_predicted, b.observed_rate);
    }
  });
}

CommandRegistrar reg(
    "model",
    [](CLI::App& app) {
      CLI::App* model = app.add_subcommand("model", "Logistic churn model: fit, score, backtest");
      model->require_subcommand(1);
      RegisterFit(model);
      RegisterScore(model);
      RegisterBacktest(model);
    },
    40);

}  // namespace
}  // namespace cscore::cli
