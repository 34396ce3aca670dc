#include "app/app_context.h"

#include <gtest/gtest.h>

namespace rapport::app {
namespace {

TEST(EscapeForTerminalTest, Issue14ControlBytesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(EscapeForTerminal("plain text, Chloé 東京"), "plain text, Chloé 東京");
  EXPECT_EQ(EscapeForTerminal(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForTerminal("\x1b[31mred\r\n\x7f"), "\\x1B[31mred\\x0D\\x0A\\x7F");
  EXPECT_EQ(EscapeForTerminal("\xff\xfe"), "\\xFF\\xFE");
  EXPECT_EQ(EscapeForTerminal("\xC3"), "\\xC3");                    // a truncated sequence
  EXPECT_EQ(EscapeForTerminal("\xC0\xAF"), "\\xC0\\xAF");           // an overlong '/'
  EXPECT_EQ(EscapeForTerminal("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate
  EXPECT_EQ(EscapeForTerminal("back\\slash"), "back\\\\slash");
}

}  // namespace
}  // namespace rapport::app
