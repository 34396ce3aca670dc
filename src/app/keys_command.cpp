#include "app/keys_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "app/app_context.h"
#include "http/api_key.h"

namespace rapport::app {

namespace {

struct KeysOptions {
  CommonOptions common;
  std::string workspace;
  std::string name;
  std::string scope;
  int64_t id = 0;
};

Status RecordAudit(Store& store, WorkspaceId ws, std::string action, const ApiKey& key) {
  AuditEntry entry;
  entry.workspace_id = ws;
  entry.actor = "cli";
  entry.action = std::move(action);
  entry.entity = "key";
  entry.entity_id = std::to_string(key.id);
  entry.details["name"] = key.name;
  entry.details["scopes"] = FormatScopes(key.scopes);
  entry.at = SystemClock::Instance().Now();
  return store.audit().Record(entry);
}

Status CreateKey(const KeysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Scopes scopes, ParseScopes(o.scope));
  if (o.name.empty() || o.name.size() > 100) return Error::Invalid("name", "--name is 1 to 100 characters");
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/true));
  std::string secret = http::GenerateApiKey();
  ApiKey key;
  key.workspace_id = ws.id;
  key.name = o.name;
  key.prefix = secret.substr(0, http::kApiKeyShownPrefix);
  key.hash = http::HashApiKey(secret);
  key.scopes = scopes;
  key.created_at = SystemClock::Instance().Now();
  RAPPORT_ASSIGN_OR_RETURN(ApiKey created, store->keys().Create(key));
  RAPPORT_TRY(RecordAudit(*store, ws.id, "key.create", created));
  std::cout << fmt::format("created key {} \"{}\" ({}) in workspace {}; it is shown only once:\n", created.id,
                           created.name, FormatScopes(created.scopes), ws.name)
            << secret << std::endl;
  return {};
}

Status ListKeys(const KeysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  auto ws = ResolveWorkspace(*store, o.workspace, /*create_default=*/false);
  if (!ws.ok() && !(o.workspace.empty() && ws.error().code == ErrorCode::kNotFound))
    return std::move(ws).error();
  std::vector<ApiKey> keys;
  if (ws.ok()) {
    RAPPORT_ASSIGN_OR_RETURN(keys, store->keys().List(ws->id));
  }
  std::string out = fmt::format("{:<6} {:<24} {:<12} {:<22} {:<22} {:<22} {}\n", "ID", "NAME", "PREFIX",
                                "SCOPES", "CREATED", "LAST USED", "STATUS");
  for (const ApiKey& k : keys) {
    out += fmt::format("{:<6} {:<24} {:<12} {:<22} {:<22} {:<22} {}\n", k.id, k.name, k.prefix + "…",
                       FormatScopes(k.scopes), FormatTimestamp(k.created_at),
                       k.last_used_at ? FormatTimestamp(*k.last_used_at) : "never",
                       k.revoked_at ? "revoked " + FormatTimestamp(*k.revoked_at) : "active");
  }
  std::cout << out << std::flush;
  return {};
}

Status RevokeKey(const KeysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<ApiKey> keys, store->keys().List(ws.id));
  auto it = std::find_if(keys.begin(), keys.end(), [&](const ApiKey& k) { return k.id == o.id; });
  if (it == keys.end()) return Error::NotFound(fmt::format("no key {} in workspace {}", o.id, ws.name));
  RAPPORT_TRY(store->keys().Revoke(ws.id, o.id, SystemClock::Instance().Now()));
  RAPPORT_TRY(RecordAudit(*store, ws.id, "key.revoke", *it));
  std::cout << fmt::format("revoked key {} \"{}\"", it->id, it->name) << std::endl;
  return {};
}

int Run(const Status& status) { return status.ok() ? 0 : PrintError(status.error()); }

}  // namespace

void RegisterKeysCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<KeysOptions>();
  CLI::App* keys = root.add_subcommand("keys", "Create, list and revoke API keys");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand("create", "Create an API key; prints it once, on the last line");
  create->add_option("--name", options->name, "a name to recognise the key by")->required();
  create->add_option("--scope", options->scope, "admin, write, read, send (comma-separated)")->required();
  create->add_option("--workspace", options->workspace,
                     "workspace name (default: \"default\", created if missing)");
  AddCommonOptions(*create, options->common);
  AddDatabaseOption(*create, options->common);
  create->callback([options, &exit_code] { exit_code = Run(CreateKey(*options)); });

  CLI::App* list =
      keys->add_subcommand("list", "List the API keys of a workspace (never the keys themselves)");
  list->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*list, options->common);
  AddDatabaseOption(*list, options->common);
  list->callback([options, &exit_code] { exit_code = Run(ListKeys(*options)); });

  CLI::App* revoke = keys->add_subcommand("revoke", "Revoke an API key by its id");
  revoke->add_option("ID", options->id, "the key's id (see keys list)")->required();
  revoke->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*revoke, options->common);
  AddDatabaseOption(*revoke, options->common);
  revoke->callback([options, &exit_code] { exit_code = Run(RevokeKey(*options)); });
}

}  // namespace rapport::app
