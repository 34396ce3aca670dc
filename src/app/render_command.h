// `rapport render FILE --data DATA.json [--snippets DIR] [--strict] [--html] [--repeat N]
//                    [--timezone ZONE] [--locale LANG]`
// Renders a Liquid template with a JSON data file and prints the result to stdout. On failure
// prints `FILE:line:col: message` on stderr and returns 1. With --repeat N the template is
// parsed once and rendered N times; the output is printed once and "N renders in S s (R
// renders/s)" goes to stderr. Snippets for {% render %} / {% include %} are DIR/<name>.liquid.
//
// Wiring (in rapport_main.cpp, by the owner of main):
//   #include "app/render_command.h"
//   rapport::app::RegisterRenderCommand(app, exit_code);
// or call RunRender directly with filled RenderCommandOptions.
//
// Thread-safety: call from one thread. Failure: returns the process exit code (0 ok, 1 error).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

namespace rapport::app {

struct RenderCommandOptions {
  std::string file;
  std::string data_path;
  std::string snippets_dir;  // empty: {% render %} and {% include %} fail
  bool strict = false;
  bool html = false;
  int64_t repeat = 1;
  std::string timezone = "UTC";
  std::string locale = "en";
};

int RunRender(const RenderCommandOptions& options);
int RunRender(const RenderCommandOptions& options, std::ostream& out, std::ostream& err);

void RegisterRenderCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
