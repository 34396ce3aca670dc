#include "compose/html_to_text.h"

#include <gtest/gtest.h>

namespace rapport::compose {
namespace {

TEST(HtmlToText, KeepsTextAndStructure) {
  std::string html =
      "<html><head><title>x</title><style>p{color:red}</style></head><body>"
      "<h1>Hello&nbsp;Ada</h1><p>Your order   is <b>ready</b>.</p>"
      "<ul><li>Tea</li><li>Books &amp; more</li></ul>"
      "<p><a href=\"https://shop.example/o/1?a=1&amp;b=2\">Track it</a></p>"
      "<!-- hidden --><script>alert(1)</script>Line<br>break &#233;&#x20AC;</body></html>";
  EXPECT_EQ(HtmlToText(html),
            "Hello Ada\n\nYour order is ready.\n\n- Tea\n- Books & more\n\n"
            "Track it (https://shop.example/o/1?a=1&b=2)\n\nLine\nbreak \xC3\xA9\xE2\x82\xAC\n");
}

TEST(HtmlToText, DoesNotRepeatALinkWhoseLabelIsItsUrl) {
  EXPECT_EQ(HtmlToText("<a href=\"https://x.example\">https://x.example</a>"), "https://x.example\n");
  EXPECT_EQ(HtmlToText("<a href=\"mailto:a@x.example\">write to us</a>"), "write to us\n");
}

TEST(HtmlToText, SurvivesBrokenMarkup) {
  EXPECT_EQ(HtmlToText("plain text"), "plain text\n");
  EXPECT_EQ(HtmlToText("a < b"), "a\n");  // an unterminated tag ends the text
  EXPECT_EQ(HtmlToText("<p>unclosed &bogus; &#xZZ;"), "unclosed &bogus; &#xZZ;\n");
  EXPECT_EQ(HtmlToText(""), "");
}

}  // namespace
}  // namespace rapport::compose
