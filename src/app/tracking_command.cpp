#include "app/tracking_command.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/app_context.h"
#include "app/http_fetch.h"
#include "app/tracking_setup.h"

namespace rapport::app {

namespace {

struct LinksOptions {
  CommonOptions common;
  std::string from;
};

int Run(const Status& status) { return status.ok() ? 0 : PrintError(status.error()); }

std::string Date(Timestamp t) { return FormatTimestamp(t); }

Status Rotate(const LinksOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  Timestamp now = SystemClock::Instance().Now();
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing ring, RotateKeyRing(config, now));
  std::cout << fmt::format(
                   "key {} is now current in {}; links signed with earlier keys keep working for {} days\n",
                   ring.current().id, config.KeyRingFile(), config.tracking.key_retention_days)
            << std::flush;
  return {};
}

Status ListRing(const LinksOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  Timestamp now = SystemClock::Instance().Now();
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing ring, LoadOrCreateKeyRing(config, now));
  std::string out = fmt::format("{:<6} {:<22} {:<22} {}\n", "ID", "CREATED", "RETIRED", "VERIFIES UNTIL");
  for (const tracking::SigningKey& k : ring.keys())
    out += fmt::format("{:<6} {:<22} {:<22} {}\n", k.id, Date(k.created_at),
                       k.retired_at ? Date(*k.retired_at) : "-",
                       k.retired_at ? Date(*k.retired_at + ring.retention()) : "current");
  std::cout << out << std::flush;
  return {};
}

Status UpdateRanges(const LinksOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  std::string csv, source;
  if (o.from == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    csv = ss.str();
    source = "stdin";
  } else if (!o.from.empty()) {
    std::ifstream in(o.from, std::ios::binary);
    if (!in) return Error::Invalid("from", "cannot read " + o.from);
    std::stringstream ss;
    ss << in.rdbuf();
    csv = ss.str();
    source = o.from;
  } else {
    RAPPORT_ASSIGN_OR_RETURN(csv, HttpGet(config.tracking.apple_ranges_url, 64 * 1024 * 1024));
    source = config.tracking.apple_ranges_url;
  }
  RAPPORT_ASSIGN_OR_RETURN(size_t n, UpdateAppleRanges(config, csv, source));
  std::cout << fmt::format("{} Apple ranges written to {} (restart rapport serve to use them)\n", n,
                           config.RangesFile())
            << std::flush;
  return {};
}

}  // namespace

void RegisterLinksCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<LinksOptions>();
  CLI::App* links = root.add_subcommand("links", "The keys that sign links (unsubscribe, opens, clicks)");
  links->require_subcommand(1);
  CLI::App* rotate =
      links->add_subcommand("rotate", "Make a new current signing key; earlier links keep working");
  AddCommonOptions(*rotate, options->common);
  rotate->callback([options, &exit_code] { exit_code = Run(Rotate(*options)); });
  CLI::App* keys = links->add_subcommand("keys", "List the signing keys (never their secrets)");
  AddCommonOptions(*keys, options->common);
  keys->callback([options, &exit_code] { exit_code = Run(ListRing(*options)); });
}

void RegisterTrackingCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<LinksOptions>();
  CLI::App* tracking = root.add_subcommand("tracking", "Open and click tracking");
  tracking->require_subcommand(1);
  CLI::App* update = tracking->add_subcommand(
      "update-ranges", "Refresh Apple's Mail Privacy Protection ranges (from Apple's egress list)");
  update->add_option("--from", options->from,
                     "read the list from this CSV file (- for stdin) instead of [tracking] apple_ranges_url");
  AddCommonOptions(*update, options->common);
  update->callback([options, &exit_code] { exit_code = Run(UpdateRanges(*options)); });
}

}  // namespace rapport::app
