#include "app/migrate_command.h"

#include <iostream>
#include <memory>

#include "app/app_context.h"

namespace rapport::app {

namespace {

Status Migrate(const CommonOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(int version, store->SchemaVersion());
  std::cout << store->Backend() << " store at schema version " << version << std::endl;
  return {};
}

}  // namespace

void RegisterMigrateCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<CommonOptions>();
  CLI::App* migrate = root.add_subcommand("migrate", "Apply pending store migrations");
  AddCommonOptions(*migrate, *options);
  AddDatabaseOption(*migrate, *options);
  migrate->callback([options, &exit_code] {
    Status st = Migrate(*options);
    exit_code = st.ok() ? 0 : PrintError(st.error());
  });
}

}  // namespace rapport::app
