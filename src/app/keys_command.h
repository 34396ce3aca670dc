// `rapport keys create|list|revoke`: API keys from the command line.
//
// create prints the new key alone on the last line of stdout (it is shown once and stored only
// as a hash); list never shows a key, only its prefix; create and revoke write an audit entry
// with actor "cli". Errors go to stderr as one line and the exit code is 1.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

// Adds the `keys` command and its subcommands to `root`; their outcome is written to `exit_code`.
void RegisterKeysCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
