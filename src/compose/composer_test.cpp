#include "compose/composer.h"

#include <gtest/gtest.h>

namespace rapport::compose {
namespace {

Contact Ada() {
  Contact c;
  c.id = 7;
  c.email = "ada@example.com";
  c.timezone = "Europe/Paris";
  c.locale = "fr";
  c.attributes = boost::json::object{{"first_name", "Ada"}, {"plan", "pro"}};
  return c;
}

Sender Shop() {
  Sender s;
  s.from = mail::Mailbox{"Tea Shop", EmailAddress{"hello", "shop.example"}};
  s.bounce_address = "bounces@shop.example";
  s.list_id = "news.shop.example";
  return s;
}

MessageTemplate Welcome() {
  MessageTemplate t;
  t.name = "welcome";
  t.subject = "Welcome, {{ contact.first_name | default: 'friend' }}!";
  t.preheader = "Your {{ contact.plan }} plan is ready";
  t.html =
      "<html><body><h1>Hi {{ contact.first_name }}</h1><p>{{ data.note }}</p>"
      "<p>{% render 'footer' %}</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></body></html>";
  t.snippets["footer"] = "Tea Shop, 1 rue du Th\xC3\xA9";
  return t;
}

TEST(Composer, RendersEveryPartForTheContact) {
  auto compiled = CompiledTemplate::Compile(Welcome());
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  req.data = boost::json::object{{"note", "<b>10% off</b>"}};
  req.message_class = MessageClass::kMarketing;
  req.unsubscribe_url = "https://shop.example/u/abc";
  auto msg = Compose(**compiled, Shop(), req);
  ASSERT_TRUE(msg.ok()) << msg.error().field << ": " << msg.error().message;
  EXPECT_EQ(msg->subject, "Welcome, Ada!");
  // HTML output is escaped; the preheader is hidden right after <body>.
  EXPECT_NE(msg->html.find("&lt;b&gt;10% off&lt;/b&gt;"), std::string::npos) << msg->html;
  EXPECT_NE(msg->html.find("<body><div style=\"display:none"), std::string::npos);
  EXPECT_NE(msg->html.find("Your pro plan is ready"), std::string::npos);
  // The text part is derived from the HTML.
  EXPECT_NE(msg->text.find("Hi Ada"), std::string::npos) << msg->text;
  EXPECT_NE(msg->text.find("Unsubscribe (https://shop.example/u/abc)"), std::string::npos) << msg->text;
  EXPECT_EQ(msg->rcpt_to, "ada@example.com");
  EXPECT_EQ(msg->mail_from, "bounces@shop.example");
  EXPECT_NE(msg->mime.find("List-Unsubscribe: <https://shop.example/u/abc>"), std::string::npos);
  EXPECT_NE(msg->mime.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
}

TEST(Composer, TransactionalMailCarriesNoBulkHeaders) {
  auto compiled = CompiledTemplate::Compile(Welcome());
  ASSERT_TRUE(compiled.ok());
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  req.unsubscribe_url = "https://shop.example/u/abc";
  auto msg = Compose(**compiled, Shop(), req);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->mime.find("List-Unsubscribe"), std::string::npos);
}

TEST(Composer, CallerReplyToAndHeadersReachTheMessageButNeverInject) {
  auto compiled = CompiledTemplate::Compile(Welcome());
  ASSERT_TRUE(compiled.ok());
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  req.reply_to = mail::Mailbox{"Support", EmailAddress{"help", "shop.example"}};
  req.headers.push_back({"X-Order-Id", "A-1001"});
  auto msg = Compose(**compiled, Shop(), req);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_NE(msg->mime.find("Reply-To: Support <help@shop.example>\r\n"), std::string::npos) << msg->mime;
  EXPECT_NE(msg->mime.find("X-Order-Id: A-1001\r\n"), std::string::npos);
  req.headers = {{"X-Order-Id", "A-1001\r\nBcc: victim@example.org"}};
  auto bad = Compose(**compiled, Shop(), req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  req.headers = {{"Subject", "replaced"}};
  EXPECT_FALSE(Compose(**compiled, Shop(), req).ok());
}

TEST(Composer, SyntaxErrorsNameThePartAndPosition) {
  MessageTemplate t = Welcome();
  t.html = "<p>\n{% if contact.vip %}\nno end";
  auto compiled = CompiledTemplate::Compile(t);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().field, "html");
  EXPECT_NE(compiled.error().message.find(':'), std::string::npos) << compiled.error().message;
  t = Welcome();
  t.subject = "";
  EXPECT_EQ(CompiledTemplate::Compile(t).error().field, "subject");
}

TEST(Composer, ASubjectThatRendersALineBreakIsRefused) {
  MessageTemplate t = Welcome();
  t.subject = "Hi {{ contact.first_name }}";
  auto compiled = CompiledTemplate::Compile(t);
  ASSERT_TRUE(compiled.ok());
  Contact evil = Ada();
  evil.attributes["first_name"] = "x\r\nBcc: victim@example.org";
  ComposeRequest req;
  req.contact = &evil;
  auto msg = Compose(**compiled, Shop(), req);
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kInvalid);
}

TEST(Composer, StrictModeReportsUndefinedVariables) {
  MessageTemplate t = Welcome();
  t.html = "<p>{{ contact.no_such_attribute }}</p>";
  auto compiled = CompiledTemplate::Compile(t);
  ASSERT_TRUE(compiled.ok());
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  EXPECT_TRUE(RenderParts(**compiled, req).ok());
  req.strict = true;
  auto r = RenderParts(**compiled, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "html");
}

TEST(Composer, TracksTheLinksOfTheHtmlPartOnly) {
  MessageTemplate t = Welcome();
  t.html =
      "<html><body><p><a href=\"https://shop.example/tea?a=1&amp;b=2\">Tea</a> "
      "<a href=\"mailto:help@shop.example\">Help</a></p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"
      "</body></html>";
  auto compiled = CompiledTemplate::Compile(t);
  ASSERT_TRUE(compiled.ok());
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  req.message_class = MessageClass::kMarketing;
  req.unsubscribe_url = "https://m.example/u/abc";
  LinkTracking tracking;
  tracking.click_url = [](size_t i) { return "https://m.example/c/K" + std::to_string(i); };
  tracking.pixel_url = "https://m.example/o/P";
  tracking.keep_prefixes = {"https://m.example/u/"};
  req.tracking = tracking;
  auto msg = Compose(**compiled, Shop(), req);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->links, std::vector<std::string>{"https://shop.example/tea?a=1&b=2"});
  EXPECT_NE(msg->html.find("href=\"https://m.example/c/K0\""), std::string::npos) << msg->html;
  EXPECT_NE(msg->html.find("<img src=\"https://m.example/o/P\""), std::string::npos);
  EXPECT_NE(msg->html.find("href=\"https://m.example/u/abc\""), std::string::npos);
  EXPECT_NE(msg->html.find("mailto:help@shop.example"), std::string::npos);
  // The web view has the tracked links but no pixel; the text part keeps the original targets.
  EXPECT_NE(msg->view_html.find("https://m.example/c/K0"), std::string::npos);
  EXPECT_EQ(msg->view_html.find("/o/P"), std::string::npos);
  EXPECT_NE(msg->text.find("https://shop.example/tea?a=1&b=2"), std::string::npos) << msg->text;
  EXPECT_EQ(msg->text.find("m.example/c/"), std::string::npos);
  // Without tracking: no pixel, no rewrite, no links kept.
  req.tracking.reset();
  auto plain = Compose(**compiled, Shop(), req);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->links.empty());
  EXPECT_EQ(plain->html.find("m.example/c/"), std::string::npos);
  EXPECT_EQ(plain->html.find("<img"), std::string::npos);
}

}  // namespace
}  // namespace rapport::compose
