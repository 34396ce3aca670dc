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
    // The data directory holds the contacts and the secrets: created private (0700).
    std::error_code ec;
    bool existed = std::filesystem::exists(config.data_dir, ec);
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec)
      return Error::Unavailable(
          fmt::format("cannot create the data directory {}: {}", config.data_dir, ec.message()));
    if (!existed) {
      std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all, ec);
      if (ec)
        return Error::Unavailable(
            fmt::format("cannot make the data directory {} private: {}", config.data_dir, ec.message()));
    }
  }
  const StoreOptions store_options{.sqlite_cache_mb = config.store.sqlite_cache_mb,
                                   .sqlite_mmap_mb = config.store.sqlite_mmap_mb};
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(url, store_options));
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
  const std::string wanted = name.empty() ? std::string(kDefaultWorkspace) : name;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Workspace> found, store.workspaces().FindByName(wanted));
  if (found) return *found;
  if (name.empty() && create_default) return store.workspaces().Create(wanted);
  return Error::NotFound(fmt::format("no workspace named \"{}\"", wanted));
}

std::string EscapeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](unsigned char c) { out += fmt::format("\\x{:02X}", c); };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation bytes (no overlong
    // forms, no surrogates, nothing past U+10FFFF).
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    bool valid = n != 0 && i + n <= text.size();
    for (size_t k = 1; valid && k < n; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      unsigned char lo = 0x80, hi = 0xBF;
      if (k == 1 && c == 0xE0) lo = 0xA0;
      if (k == 1 && c == 0xED) hi = 0x9F;
      if (k == 1 && c == 0xF0) lo = 0x90;
      if (k == 1 && c == 0xF4) hi = 0x8F;
      valid = cc >= lo && cc <= hi;
    }
    if (!valid) {
      escape(c);
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

int PrintError(const Error& error) {
  std::cerr << "rapport: " << EscapeForTerminal(error.message) << std::endl;
  return 1;
}

}  // namespace rapport::app
