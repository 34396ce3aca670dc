// `rapport serve`: opens and migrates the store, optionally seeds the demo workspace, and serves
// the HTTP API until SIGINT or SIGTERM.
//
// Signals are blocked in every thread and taken by one watcher thread (sigwait), which calls
// http::Server::Shutdown(); the server drains in-flight requests and Run() returns. With --demo,
// the first start prints "admin API key: rk_..." once on stdout.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterServeCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
