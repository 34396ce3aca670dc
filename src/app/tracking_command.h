// `rapport links rotate|keys` and `rapport tracking update-ranges`: the link-signing key ring and
// the machine ranges from the command line (app/tracking_setup.h; docs/tracking.md).
//
// links rotate: a new random key becomes current; the previous one keeps verifying for
// [tracking] key_retention_days; a running serve picks the ring up within a second.
// links keys: the ring's keys (ids, dates; never a secret).
// tracking update-ranges: replaces the Apple ranges with Apple's egress list, read from --from
// FILE ("-": stdin) or fetched from [tracking] apple_ranges_url. Errors: one line on stderr, exit 1.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterLinksCommand(CLI::App& root, int& exit_code);
void RegisterTrackingCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
