// The differential test: renders every case of tests/liquid/*.liquid (except those marked
// `extension`, which use rapport-only features) with ruby-liquid 5.4 (tests/liquid/reference.rb,
// one process for all cases) and with rapport, and requires the same output, or an error from
// both. Prints each mismatch and a closing "N passed, M failed" line; exits 1 on any mismatch.
//
//   liquid_differential RUBY CASES_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <boost/json.hpp>

#include "template/case_file.h"

using rapport::liquid::LiquidCase;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: liquid_differential RUBY CASES_DIR\n";
    return 2;
  }
  std::string ruby = argv[1];
  std::string dir = argv[2];
  auto loaded = rapport::liquid::LoadLiquidCases(dir);
  if (!loaded.ok()) {
    std::cerr << loaded.error().message << "\n";
    return 2;
  }
  std::vector<const LiquidCase*> cases;
  boost::json::array input;
  for (const LiquidCase& c : *loaded) {
    if (!c.extension.empty()) continue;
    cases.push_back(&c);
    boost::json::object o;
    o["name"] = c.file + ": " + c.name;
    o["template"] = c.template_source;
    o["data"] = boost::json::parse(c.data_json);
    o["strict"] = c.strict;
    boost::json::object snippets;
    for (const auto& [k, v] : c.snippets) snippets[k] = v;
    o["snippets"] = std::move(snippets);
    input.push_back(std::move(o));
  }
  auto tmp = std::filesystem::temp_directory_path() /
             ("liquid_differential_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream f(tmp, std::ios::binary);
    f << boost::json::serialize(input);
  }
  std::string cmd = ruby + " " + dir + "/reference.rb run < " + tmp.string();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::cerr << "cannot run " << cmd << "\n";
    return 2;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  int rc = ::pclose(pipe);
  std::filesystem::remove(tmp);
  if (rc != 0) {
    std::cerr << "reference.rb failed (" << rc << ")\n";
    return 2;
  }
  boost::system::error_code ec;
  boost::json::value results = boost::json::parse(text, ec);
  if (ec || !results.is_object()) {
    std::cerr << "reference.rb printed no JSON object\n";
    return 2;
  }
  size_t passed = 0, failed = 0;
  for (const LiquidCase* c : cases) {
    std::string key = c->file + ": " + c->name;
    const boost::json::value* ref = results.as_object().if_contains(key);
    auto ours = rapport::liquid::RenderLiquidCase(*c);
    bool ok = false;
    std::string ref_text;
    if (ref != nullptr && ref->is_object()) {
      const auto& r = ref->as_object();
      if (const auto* out = r.if_contains("output")) {
        ref_text = "output [" + std::string(out->as_string()) + "]";
        ok = ours.ok() && *ours == out->as_string();
      } else if (const auto* err = r.if_contains("error")) {
        ref_text = "error [" + std::string(err->as_string()) + "]";
        ok = !ours.ok();
      }
    }
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::cout << "MISMATCH " << key << "\n  ruby-liquid: " << ref_text << "\n  rapport:     "
                << (ours.ok() ? "output [" + *ours + "]"
                              : "error [" + ours.error().field + " " + ours.error().message + "]")
                << "\n";
    }
  }
  std::cout << "liquid_differential: " << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
