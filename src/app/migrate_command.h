// `rapport migrate`: applies pending store migrations and prints the schema version.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterMigrateCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
