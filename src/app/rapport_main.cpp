// rapport: one binary. main only builds the command tree; each command lives in its own file.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/contacts_command.h"
#include "app/keys_command.h"
#include "app/migrate_command.h"
#include "app/serve_command.h"
#include "app/version_command.h"

int main(int argc, char** argv) {
  CLI::App app{"rapport: a self-hosted relationship email platform"};
  app.name("rapport");
  int exit_code = 0;
  rapport::app::RegisterServeCommand(app, exit_code);
  rapport::app::RegisterMigrateCommand(app, exit_code);
  rapport::app::RegisterKeysCommand(app, exit_code);
  rapport::app::RegisterContactsCommand(app, exit_code);
  rapport::app::RegisterVersionCommand(app, exit_code);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, then where to look.
    std::cerr << "rapport: " << e.what() << " (see rapport --help)" << std::endl;
    return e.get_exit_code() == 0 ? 2 : e.get_exit_code();
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }
  return exit_code;
}
