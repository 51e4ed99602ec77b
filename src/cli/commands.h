// Subcommand registry of the `cscore` tool: each cmd_*.cc defines a static
// CommandRegistrar that adds its subcommand to the CLI11 app; main() runs them all.
//
//   static cscore::cli::CommandRegistrar reg("score", [](CLI::App& app) {
//     auto* cmd = app.add_subcommand("score", "...");
//     cmd->callback([] { ... throw cscore::cli::Exit(1); });
//   });
#ifndef CSCORE_CLI_COMMANDS_H_
#define CSCORE_CLI_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace cscore::cli {

using Registration = std::function<void(CLI::App&)>;

struct CommandRegistrar {
  // `order` sorts the subcommands in --help; ties keep registration order.
  CommandRegistrar(std::string name, Registration registration, int order = 100);
};

// Thrown from a subcommand callback to end the program with `code` after the message
// (if any) was printed; main() turns it into the exit status.
struct Exit {
  int code;
};

// Prints "error: <message>" to stderr and throws Exit{code} when `status` is not ok.
void CheckOrExit(const absl::Status& status, int code = 1);

}  // namespace cscore::cli

#endif  // CSCORE_CLI_COMMANDS_H_
