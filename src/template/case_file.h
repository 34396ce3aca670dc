// The data-driven Liquid case files of tests/liquid/*.liquid, shared by the case test and the
// differential test against ruby-liquid (tests/liquid/reference.rb reads the same format).
//
//   === case name
//   --- template          (or template-json: the template as a JSON string)
//   Hello {{ name }}
//   --- data              (JSON object; optional)
//   {"name": "Ann"}
//   --- mode              (optional: strict)
//   --- snippets          (optional: JSON object name -> source for render/include)
//   --- options           (optional, rapport extras: html tz=Europe/Paris locale=fr now=RFC3339)
//   --- extension         (optional: why ruby-liquid cannot check this case)
//   --- expect            (or expect-json; or `--- error` with an optional message substring)
//   Hello Ann
//
// Thread-safety: plain functions. Failure: a malformed file is an error naming the file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace rapport::liquid {

struct LiquidCase {
  std::string file;
  std::string name;
  std::string template_source;
  std::string data_json = "{}";
  bool strict = false;
  std::map<std::string, std::string, std::less<>> snippets;
  std::string options;    // rapport-only render options
  std::string extension;  // non-empty: not compared with ruby-liquid
  bool expect_error = false;
  std::string expect;  // output, or the error message substring
};

Result<std::vector<LiquidCase>> LoadLiquidCaseFile(const std::string& path);
// Every *.liquid file in `dir`, sorted by file name.
Result<std::vector<LiquidCase>> LoadLiquidCases(const std::string& dir);

}  // namespace rapport::liquid

namespace rapport::liquid {

// Parses and renders a case with rapport: the output, or the parse/render error.
Result<std::string> RenderLiquidCase(const LiquidCase& c);

}  // namespace rapport::liquid
