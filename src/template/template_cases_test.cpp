// Runs every case of tests/liquid/*.liquid (see case_file.h) through rapport's engine and
// checks the expected output or error. The expected outputs come from ruby-liquid
// (tests/liquid/reference.rb fill), except for cases of rapport's extensions.
#include <gtest/gtest.h>

#include "source_dir.h"
#include "template/case_file.h"

namespace rapport::liquid {
namespace {

TEST(LiquidCases, AllCasesMatchExpectations) {
  auto cases = LoadLiquidCases(RAPPORT_SOURCE_DIR "/tests/liquid");
  ASSERT_TRUE(cases.ok()) << cases.error().message;
  ASSERT_GE(cases->size(), 500u) << "the case files should hold at least 500 cases";
  size_t failures = 0;
  for (const LiquidCase& c : *cases) {
    auto r = RenderLiquidCase(c);
    std::string where = c.file + ": " + c.name;
    if (c.expect_error) {
      if (r.ok()) {
        ADD_FAILURE() << where << ": expected an error, got output [" << *r << "]";
        ++failures;
      } else if (!c.expect.empty() && r.error().message.find(c.expect) == std::string::npos) {
        ADD_FAILURE() << where << ": error [" << r.error().message << "] lacks [" << c.expect << "]";
        ++failures;
      }
    } else if (!r.ok()) {
      ADD_FAILURE() << where << ": unexpected error " << r.error().field << " " << r.error().message;
      ++failures;
    } else if (*r != c.expect) {
      ADD_FAILURE() << where << ":\n  expected [" << c.expect << "]\n  got      [" << *r << "]";
      ++failures;
    }
  }
  std::cout << cases->size() - failures << " of " << cases->size() << " Liquid cases pass\n";
}

}  // namespace
}  // namespace rapport::liquid
