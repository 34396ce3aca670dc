// `rapport segments count "EXPRESSION"`: the number of contacts of a workspace that match a
// segment expression (docs/segments.md), counted on a profile index built from the store's log.
// Read-only: appends nothing. A parse or type error prints its line, column and hint to stderr
// and the exit code is 1.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterSegmentsCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
