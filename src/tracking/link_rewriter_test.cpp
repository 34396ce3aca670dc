#include "tracking/link_rewriter.h"

#include <gtest/gtest.h>

namespace rapport::tracking {
namespace {

RewriteOptions Options() {
  RewriteOptions o;
  o.click_url = [](size_t i) { return "https://t.example/c/T" + std::to_string(i); };
  o.keep_prefixes = {"https://t.example/u/", "https://t.example/p/"};
  return o;
}

TEST(LinkRewriter, RewritesHttpLinksInOrderAndKeepsTheirTargets) {
  auto r = RewriteLinks(
      "<p><a href=\"https://shop.example/a?x=1&amp;y=2\">A</a> <A class=b HREF='http://b.example/'>B</A>"
      " <a href=https://c.example/c>C</a> <area shape=rect href=\"https://d.example\"></p>",
      Options());
  ASSERT_EQ(r.links.size(), 4u);
  EXPECT_EQ(r.links[0], "https://shop.example/a?x=1&y=2");
  EXPECT_EQ(r.links[1], "http://b.example/");
  EXPECT_EQ(r.links[2], "https://c.example/c");
  EXPECT_EQ(r.links[3], "https://d.example");
  EXPECT_EQ(
      r.html,
      "<p><a href=\"https://t.example/c/T0\">A</a> <A class=b HREF=\"https://t.example/c/T1\">B</A>"
      " <a href=\"https://t.example/c/T2\">C</a> <area shape=rect href=\"https://t.example/c/T3\"></p>");
}

TEST(LinkRewriter, LeavesOtherSchemesAnchorsMarkedAndOwnLinksAlone) {
  std::string html =
      "<a href=\"mailto:a@example.com\">m</a><a href=\"tel:+331\">t</a><a href=\"#top\">x</a>"
      "<a href=\"/relative\">r</a><a href=\"javascript:alert(1)\">j</a>"
      "<a data-rapport-notrack href=\"https://keep.example\">k</a>"
      "<a href=\"https://t.example/u/TOKEN\">unsubscribe</a><a href=\"https://t.example/p/TOKEN\">prefs</a>"
      "<!-- <a href=\"https://comment.example\">c</a> -->"
      "<style>a[href=\"https://style.example\"]{}</style><script>var s='<a "
      "href=\"https://s.example\">'</script>"
      "<link href=\"https://css.example/x.css\"><img src=\"https://img.example/i.png\">";
  auto r = RewriteLinks(html, Options());
  EXPECT_TRUE(r.links.empty());
  EXPECT_EQ(r.html, html);
}

TEST(LinkRewriter, AddsThePixelBeforeTheLastBody) {
  std::string html = AddOpenPixel("<html><body><p>Hi</p></BODY></html>", "https://t.example/o/P&Q");
  EXPECT_EQ(html,
            "<html><body><p>Hi</p><img src=\"https://t.example/o/P&amp;Q\" width=\"1\" height=\"1\" alt=\"\" "
            "style=\"display:block;border:0;width:1px;height:1px\"></BODY></html>");
  std::string bare = AddOpenPixel("<p>Hi</p>", "https://t.example/o/P");
  EXPECT_TRUE(bare.starts_with("<p>Hi</p><img src=\"https://t.example/o/P\""));
}

TEST(LinkRewriter, EscapesTheNewUrlAndSurvivesBrokenHtml) {
  RewriteOptions o = Options();
  o.click_url = [](size_t) { return std::string("https://t.example/c/\"><script>"); };
  auto r = RewriteLinks("<a href=\"https://x.example\">x</a>", o);
  EXPECT_EQ(r.html, "<a href=\"https://t.example/c/&quot;&gt;&lt;script&gt;\">x</a>");
  for (std::string_view broken : {"<a href=\"https://x", "<a href=", "<a", "<", "<a href='https://x.example'",
                                  "<!-- <a href=https://x.example>", "<script><a href=https://x.example>"}) {
    auto b = RewriteLinks(broken, Options());
    EXPECT_LE(b.links.size(), 1u) << broken;
  }
}

TEST(LinkRewriter, NeverKeepsATargetWithAControlCharacter) {
  std::string html =
      "<a href=\"https://x.example/&#10;Set-Cookie: a=b\">x</a><a href=\"https://y.example/\tz\">y</a>";
  auto r = RewriteLinks(html, Options());
  EXPECT_TRUE(r.links.empty());
  EXPECT_EQ(r.html, html);
}

TEST(LinkRewriter, StopsAtMaxLinks) {
  std::string html;
  for (int i = 0; i < 5; ++i) html += "<a href=\"https://x.example/" + std::to_string(i) + "\">x</a>";
  RewriteOptions o = Options();
  o.max_links = 3;
  auto r = RewriteLinks(html, o);
  EXPECT_EQ(r.links.size(), 3u);
  EXPECT_NE(r.html.find("https://x.example/4"), std::string::npos);
}

TEST(LinkRewriter, DecodesAttributeEntities) {
  EXPECT_EQ(DecodeHtmlAttribute("a&amp;b&#38;c&#x26;d&lt;&gt;&quot;&apos;"), "a&b&c&d<>\"'");
  EXPECT_EQ(DecodeHtmlAttribute("&unknown; & &#xZZ; &#233;"), "&unknown; & &#xZZ; \xc3\xa9");
}

}  // namespace
}  // namespace rapport::tracking
