// `rapport version`: prints "rapport <version>" and the versions of the libraries that matter.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterVersionCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
