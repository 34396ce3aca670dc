// `rapport journeys list | install NAME | stats JOURNEY`: the journeys of a workspace, installing
// a recipe (docs/journeys.md, "Recipes") with its default templates, and a journey's counters per
// version and step. A running `rapport serve` picks an installed journey up within two seconds.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterJourneysCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
