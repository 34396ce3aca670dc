#include "app/version_command.h"

#include <fmt/format.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>
#include <boost/version.hpp>

#include <iostream>
#include <memory>

#include "app/app_context.h"

namespace rapport::app {

void RegisterVersionCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<CommonOptions>();
  CLI::App* version = root.add_subcommand("version", "Print the version");
  AddCommonOptions(*version, *options);  // accepted so that every command takes them
  version->callback([options, &exit_code] {
    std::cout << "rapport " << RAPPORT_VERSION << '\n'
              << fmt::format("built with g++ {}.{}, Boost {}.{}, SQLite {}, {}", __GNUC__, __GNUC_MINOR__,
                             BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, SQLITE_VERSION,
                             OPENSSL_VERSION_TEXT)
              << std::endl;
    exit_code = 0;
  });
}

}  // namespace rapport::app
