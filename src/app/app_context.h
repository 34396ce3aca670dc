// What every command shares: the common options (--config, --data), loading the configuration,
// logging set-up, opening and migrating the store, and finding a workspace.
//
// The functions return errors as values; commands print them with PrintError and exit non-zero.
// Not thread-safe (called from main before threads start).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.h"
#include "core/error.h"
#include "core/model.h"
#include "core/store.h"

namespace rapport::app {

// The options every command takes.
struct CommonOptions {
  std::string config_file;  // --config; empty: none
  ConfigFlags flags;        // --data (and --listen/--database where a command offers them)
};

// Adds --config and --data to `command`.
void AddCommonOptions(CLI::App& command, CommonOptions& options);
// Adds --database (store URL) to `command`.
void AddDatabaseOption(CLI::App& command, CommonOptions& options);

// LoadConfig from the file, the process environment and the flags.
Result<Config> LoadAppConfig(const CommonOptions& options);

// Sets spdlog's default logger to stderr with the configured level and format.
void SetupLogging(const LogConfig& log);

// Opens the configured store (creating the data directory for the default SQLite path) and
// applies pending migrations.
Result<std::unique_ptr<Store>> OpenAndMigrateStore(const Config& config);

// The data directory's default workspace: every command without --workspace and the demo data
// of `serve --demo` use it.
inline constexpr std::string_view kDefaultWorkspace = "default";

// The workspace named `name`; when `name` is empty, the default workspace (kDefaultWorkspace),
// created when `create_default` (otherwise kNotFound).
Result<Workspace> ResolveWorkspace(Store& store, const std::string& name, bool create_default);

// `text` safe to print on a terminal: control bytes (C0, DEL) and bytes that are not valid
// UTF-8 become \xNN, a backslash becomes \\; valid UTF-8 text is kept as it is. Pure.
std::string EscapeForTerminal(std::string_view text);

// Prints "rapport: <message>" on one line to stderr (escaped by EscapeForTerminal) and returns
// the exit code 1.
int PrintError(const Error& error);

}  // namespace rapport::app
