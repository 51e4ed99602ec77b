// Entry point of the `cscore` tool: builds the CLI11 app from the registered subcommands.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

namespace cscore::cli {
namespace {

struct Entry {
  std::string name;
  Registration registration;
  int order;
};

std::vector<Entry>& Registry() {
  static std::vector<Entry> entries;
  return entries;
}

}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, Registration registration, int order) {
  Registry().push_back({std::move(name), std::move(registration), order});
}

void CheckOrExit(const absl::Status& status, int code) {
  if (status.ok()) return;
  std::cerr << "error: " << status.message() << "\n";
  throw Exit{code};
}

}  // namespace cscore::cli

int main(int argc, char** argv) {
  using namespace cscore::cli;
  CLI::App app{"cscore: customer-success health scores, risk, CTAs and escalation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cscore 0.1.0");
  auto& entries = Registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (const Entry& e : entries) e.registration(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Exit& e) {
    return e.code;
  }
  return 0;
}
