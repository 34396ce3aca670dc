// `rapport campaigns list | send CAMPAIGN | report CAMPAIGN [--json]`: the campaigns of a
// workspace, scheduling a draft (a running `rapport serve` starts it within a second: its tick is
// a work item in the store), and a campaign's report per occurrence, variant and holdout
// (docs/campaigns.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterCampaignsCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
