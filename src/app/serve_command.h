// `rapport serve`: opens and migrates the store, optionally seeds the demo workspace, and serves
// the HTTP API until SIGINT or SIGTERM.
//
// Signals are blocked in every thread and taken by one watcher thread (sigwait), which calls
// http::Server::Shutdown(); the server drains in-flight requests and Run() returns. With --demo,
// every start prints what to do next once on stdout when it listens (DemoNextSteps); the first
// start, which seeds the demo, includes "admin API key: rk_...".
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace rapport::app {

// What to do next after `serve --demo`: the admin key (when `admin_key` is set: the start that
// seeded the demo; otherwise how to make one), a first curl against `base_url`, the docs, and
// the CLI with `data_dir`. Pure.
std::string DemoNextSteps(const std::string& base_url, const std::string& data_dir,
                          const std::string& admin_key);

void RegisterServeCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
