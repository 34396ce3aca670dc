#include "app/segments_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "app/app_context.h"
#include "segment/segment_service.h"

namespace rapport::app {

namespace {

struct SegmentsOptions {
  CommonOptions common;
  std::string workspace;
  std::string expression;
  bool verbose = false;
};

Status Count(const SegmentsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  segment::SegmentService segments(*store, SystemClock::Instance());
  RAPPORT_TRY(segments.Start(/*run_thread=*/false, /*emit=*/false));
  RAPPORT_ASSIGN_OR_RETURN(segment::PreviewResult p, segments.Preview(ws.id, o.expression, 0));
  std::cout << p.count << std::endl;
  if (o.verbose) std::cerr << fmt::format("{} ({} us)", p.canonical, p.micros) << std::endl;
  return {};
}

}  // namespace

void RegisterSegmentsCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<SegmentsOptions>();
  CLI::App* segments = root.add_subcommand("segments", "Segments: count contacts matching an expression");
  segments->require_subcommand(1);
  CLI::App* count = segments->add_subcommand("count", "Print how many contacts match EXPRESSION");
  count->add_option("EXPRESSION", options->expression, "a segment expression (docs/segments.md)")->required();
  count->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  count->add_flag("--verbose", options->verbose, "also print the expression as read and the time to stderr");
  AddCommonOptions(*count, options->common);
  AddDatabaseOption(*count, options->common);
  count->callback([options, &exit_code] {
    Status s = Count(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
}

}  // namespace rapport::app
