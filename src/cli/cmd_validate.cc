// `cscore validate`: checks every YAML file of a configuration directory and prints every
// error as file:line:column: message.
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "cscore/engine/config_dir.h"

namespace cscore::cli {
namespace {

CommandRegistrar reg(
    "validate",
    [](CLI::App& app) {
      auto dir = std::make_shared<std::string>();
      CLI::App* cmd = app.add_subcommand("validate", "Check a configuration directory");
      cmd->add_option("--config", *dir, "Configuration directory")->required();
      cmd->callback([dir] {
        ConfigCheck check = CheckConfigDir(*dir);
        for (const absl::Status& e : check.errors) std::cout << e.message() << "\n";
        if (!check.ok()) {
          std::cerr << check.errors.size() << " error(s)\n";
          throw Exit{1};
        }
        std::cout << "ok: " << check.files.size() << " files\n";
      });
    },
    21);

}  // namespace
}  // namespace cscore::cli
