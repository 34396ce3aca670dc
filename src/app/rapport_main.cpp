// rapport: one binary. main only builds the command tree; each command lives in its own file.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "app/campaigns_command.h"
#include "app/contacts_command.h"
#include "app/dkim_command.h"
#include "app/journeys_command.h"
#include "app/keys_command.h"
#include "app/migrate_command.h"
#include "app/render_command.h"
#include "app/segments_command.h"
#include "app/senders_command.h"
#include "app/serve_command.h"
#include "app/tracking_command.h"
#include "app/version_command.h"

namespace {

// `rapport dkim keygen`: the command function lives in dkim_command.h; this only parses.
void RegisterDkimCommand(CLI::App& root, int& exit_code) {
  struct Options {
    std::string domain, selector, algorithm = "rsa", key_file;
  };
  auto options = std::make_shared<Options>();
  CLI::App* dkim = root.add_subcommand("dkim", "DKIM signing keys");
  dkim->require_subcommand(1);
  CLI::App* keygen = dkim->add_subcommand("keygen", "Make a DKIM key pair and print the DNS TXT record");
  keygen->add_option("--domain", options->domain, "the signing domain (d=)")->required();
  keygen->add_option("--selector", options->selector, "the selector (s=)")->required();
  keygen->add_option("--algorithm", options->algorithm, "rsa (default) or ed25519");
  keygen->add_option("--out", options->key_file, "where to write the private key (PEM, mode 0600)")
      ->required();
  keygen->callback([options, &exit_code] {
    exit_code =
        rapport::RunDkimKeygen(options->domain, options->selector, options->algorithm, options->key_file);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rapport: a self-hosted relationship email platform"};
  app.name("rapport");
  int exit_code = 0;
  rapport::app::RegisterServeCommand(app, exit_code);
  rapport::app::RegisterMigrateCommand(app, exit_code);
  rapport::app::RegisterKeysCommand(app, exit_code);
  rapport::app::RegisterContactsCommand(app, exit_code);
  rapport::app::RegisterRenderCommand(app, exit_code);
  rapport::app::RegisterSegmentsCommand(app, exit_code);
  rapport::app::RegisterJourneysCommand(app, exit_code);
  rapport::app::RegisterCampaignsCommand(app, exit_code);
  rapport::app::RegisterLinksCommand(app, exit_code);
  rapport::app::RegisterTrackingCommand(app, exit_code);
  RegisterDkimCommand(app, exit_code);
  rapport::app::RegisterSendersCommand(app, exit_code);
  rapport::app::RegisterVersionCommand(app, exit_code);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, then where to look.
    std::cerr << "rapport: " << e.what() << " (see rapport --help)" << std::endl;
    return 2;  // a usage error
  }
  if (app.get_subcommands().empty()) {  // no command: show what there is
    std::cout << app.help();
    return 0;
  }
  return exit_code;
}
