#include "app/journeys_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "app/app_context.h"
#include "app/journey_setup.h"
#include "automation/journey_service.h"
#include "automation/recipes.h"

namespace rapport::app {

namespace {

struct JourneysOptions {
  CommonOptions common;
  std::string workspace;
  std::string name;
  std::string journey;
  bool draft = false;
};

Status List(const JourneysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Journey> list, store->journeys().List(ws.id));
  std::cout << fmt::format("{:>6}  {:<28} {:<9} {:>7}\n", "ID", "NAME", "STATUS", "VERSION");
  for (const Journey& j : list)
    std::cout << fmt::format("{:>6}  {:<28} {:<9} {:>7}\n", j.id, EscapeForTerminal(j.name),
                             JourneyStatusName(j.status), j.version);
  std::cout << "\nrecipes (rapport journeys install NAME):\n";
  for (const automation::Recipe& r : automation::Recipes())
    std::cout << fmt::format("  {:<20} {}\n", r.name, r.description);
  return {};
}

Status Install(const JourneysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/true));
  std::unique_ptr<automation::StepRegistry> registry = BuildStepRegistry();
  automation::JourneyService journeys(*store, SystemClock::Instance(), *registry, {});
  json::object options{{"activate", !o.draft}};
  RAPPORT_ASSIGN_OR_RETURN(automation::InstalledRecipe r,
                           automation::InstallRecipe(journeys, ws.id, o.name, options));
  std::cout << fmt::format("installed journey {} '{}' ({}), version {}\n", r.journey.id, r.journey.name,
                           JourneyStatusName(r.journey.status), r.journey.version);
  for (const std::string& t : r.templates_created) std::cout << "  template created: " << t << "\n";
  return {};
}

Status Stats(const JourneysOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  Result<Journey> j = Error::NotFound("");
  if (!o.journey.empty() && o.journey.find_first_not_of("0123456789") == std::string::npos)
    j = store->journeys().Get(ws.id, std::stoll(o.journey));
  else
    j = store->journeys().GetByName(ws.id, o.journey);
  if (!j.ok()) return j.error();
  RAPPORT_ASSIGN_OR_RETURN(std::vector<JourneyStatsRow> rows, store->journeys().Stats(ws.id, j->id));
  std::cout << fmt::format("journey {} '{}' ({})\n", j->id, EscapeForTerminal(j->name),
                           JourneyStatusName(j->status));
  std::cout << fmt::format("{:>7}  {:<24} {:>8} {:>9} {:>8} {:>7} {:>9} {:>10}\n", "VERSION", "STEP",
                           "ENTERED", "COMPLETED", "WAITING", "EXITED", "CONVERTED", "REVENUE");
  for (const JourneyStatsRow& r : rows)
    std::cout << fmt::format("{:>7}  {:<24} {:>8} {:>9} {:>8} {:>7} {:>9} {:>10.2f}\n", r.version,
                             r.step.empty() ? "(all)" : EscapeForTerminal(r.step), r.entered, r.completed,
                             r.waiting, r.exited, r.converted, static_cast<double>(r.revenue_cents) / 100.0);
  return {};
}

void Add(CLI::App* cmd, const std::shared_ptr<JourneysOptions>& options) {
  cmd->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*cmd, options->common);
  AddDatabaseOption(*cmd, options->common);
}

}  // namespace

void RegisterJourneysCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<JourneysOptions>();
  CLI::App* journeys = root.add_subcommand("journeys", "Journeys: list, install a recipe, stats");
  journeys->require_subcommand(1);
  CLI::App* list = journeys->add_subcommand("list", "List the journeys and the recipes");
  Add(list, options);
  list->callback([options, &exit_code] {
    Status s = List(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
  CLI::App* install =
      journeys->add_subcommand("install", "Install a recipe with its templates, and activate it");
  install->add_option("NAME", options->name, "the recipe (rapport journeys list shows them)")->required();
  install->add_flag("--draft", options->draft, "leave the journey a draft (activate it later)");
  Add(install, options);
  install->callback([options, &exit_code] {
    Status s = Install(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
  CLI::App* stats = journeys->add_subcommand("stats", "Counters of a journey per version and step");
  stats->add_option("JOURNEY", options->journey, "the journey's id or name")->required();
  Add(stats, options);
  stats->callback([options, &exit_code] {
    Status s = Stats(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
}

}  // namespace rapport::app
