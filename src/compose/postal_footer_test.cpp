// The sender's postal address in marketing mail (CAN-SPAM) and the `sender` variables.
#include <gtest/gtest.h>

#include "compose/composer.h"

namespace rapport::compose {
namespace {

constexpr const char* kPostal = "Tea & Co, 1 Main St, Springfield";

Contact Ada() {
  Contact c;
  c.id = 7;
  c.email = "ada@example.com";
  return c;
}

Sender Shop() {
  Sender s;
  s.from = mail::Mailbox{"Tea Shop", EmailAddress{"hello", "shop.example"}};
  return s;
}

Result<ComposedMessage> ComposeWith(const std::string& html, const std::string& text, MessageClass c) {
  MessageTemplate t;
  t.name = "t";
  t.subject = "Hi from {{ sender.name }}";
  t.html = html;
  t.text = text;
  auto compiled = CompiledTemplate::Compile(t);
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  Contact ada = Ada();
  ComposeRequest req;
  req.contact = &ada;
  req.message_class = c;
  req.unsubscribe_url = "https://shop.example/u/abc";
  req.sender = boost::json::object{{"name", "Tea Shop"}, {"postal_address", kPostal}};
  req.postal_address = kPostal;
  return Compose(**compiled, Shop(), req);
}

TEST(PostalFooter, AddedBeforeBodyEndAndToTheTextWhenTheTemplateLacksIt) {
  auto m = ComposeWith("<html><body><p>Hi</p></BODY></html>", "Hi", MessageClass::kMarketing);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->subject, "Hi from Tea Shop");
  size_t footer = m->html.find("Tea &amp; Co, 1 Main St, Springfield</p>");
  ASSERT_NE(footer, std::string::npos) << m->html;
  EXPECT_LT(footer, m->html.find("</BODY>"));
  EXPECT_EQ(m->text, std::string("Hi\n\n") + kPostal + "\n");
  EXPECT_NE(m->view_html.find("Tea &amp; Co"), std::string::npos);
}

TEST(PostalFooter, AppendedToHtmlWithoutBody) {
  auto m = ComposeWith("<p>Hi</p>", "", MessageClass::kMarketing);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->html.ends_with("Tea &amp; Co, 1 Main St, Springfield</p>")) << m->html;
  // The derived text part has it too.
  EXPECT_NE(m->text.find(kPostal), std::string::npos) << m->text;
}

TEST(PostalFooter, NotRepeatedWhenTheTemplateShowsIt) {
  auto m = ComposeWith("<body><footer>{{ sender.postal_address }}</footer></body>",
                       "{{ sender.postal_address }}", MessageClass::kMarketing);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->html, "<body><footer>Tea &amp; Co, 1 Main St, Springfield</footer></body>");
  EXPECT_EQ(m->text, kPostal);
}

TEST(PostalFooter, NeverInTransactionalMail) {
  auto m = ComposeWith("<body><p>Receipt</p></body>", "Receipt", MessageClass::kTransactional);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->html.find("Main St"), std::string::npos);
  EXPECT_EQ(m->text, "Receipt");
}

}  // namespace
}  // namespace rapport::compose
