#include "app/app_context.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "app/delivery_setup.h"
#include "store/open.h"

namespace rapport::app {

void AddCommonOptions(CLI::App& command, CommonOptions& options) {
  command.add_option("--config", options.config_file, "TOML configuration file");
  command.add_option_function<std::string>(
      "--data", [&options](const std::string& dir) { options.flags.data_dir = dir; },
      "data directory (default ./var)");
}

void AddDatabaseOption(CLI::App& command, CommonOptions& options) {
  command.add_option_function<std::string>(
      "--database", [&options](const std::string& url) { options.flags.database_url = url; },
      "store URL or SQLite path (default <data>/rapport.db)");
}

Result<Config> LoadAppConfig(const CommonOptions& options) {
  return LoadConfig(options.config_file, ProcessEnvironment(), options.flags);
}

void SetupLogging(const LogConfig& log) {
  auto logger = spdlog::stderr_color_mt("rapport");
  if (log.format == "json") {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(log.level));
  spdlog::set_default_logger(logger);
}

Result<std::unique_ptr<Store>> OpenAndMigrateStore(const Config& config) {
  std::string url = config.StoreUrl();
  if (config.store.url.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec)
      return Error::Unavailable(
          fmt::format("cannot create the data directory {}: {}", config.data_dir, ec.message()));
  }
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(url));
  auto version = store->Migrate();
  if (!version.ok()) {
    Error e = std::move(version).error();
    e.message = "migrating the store failed: " + e.message;
    return e;
  }
  // The key of the erasure list (store/sql/erasure_list.h): erased addresses are kept as HMACs
  // under a secret of the data directory, never as a hash a dictionary of addresses reverses.
  RAPPORT_ASSIGN_OR_RETURN(
      std::string erasure_secret,
      LoadOrCreateSecretFile(config.data_dir + "/erasure-secret", "data_dir", "erasure secret"));
  store->SetErasureKey(std::move(erasure_secret));
  return store;
}

Result<Workspace> ResolveWorkspace(Store& store, const std::string& name, bool create_default) {
  const std::string wanted = name.empty() ? "default" : name;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Workspace> found, store.workspaces().FindByName(wanted));
  if (found) return *found;
  if (name.empty() && create_default) return store.workspaces().Create(wanted);
  return Error::NotFound(fmt::format("no workspace named \"{}\"", wanted));
}

int PrintError(const Error& error) {
  std::cerr << "rapport: " << error.message << std::endl;
  return 1;
}

}  // namespace rapport::app
