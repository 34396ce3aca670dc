// The preference center's pure parts: wording by locale, the page, and the reading of its form;
// and the sender the pages name, against a real SQLite store.
#include "tracking/preference_center.h"

#include <gtest/gtest.h>

#include <optional>

#include "store/testing/temp_sqlite_store.h"

namespace rapport::tracking {
namespace {

TEST(PreferenceCenter, WordsFollowTheLocale) {
  EXPECT_EQ(WordsFor("fr").lang, "fr");
  EXPECT_EQ(WordsFor("fr-CA").lang, "fr");
  EXPECT_EQ(WordsFor("FR").lang, "fr");
  EXPECT_EQ(WordsFor("en-GB").lang, "en");
  EXPECT_EQ(WordsFor("").lang, "en");
  EXPECT_EQ(WordsFor("fry").lang, "en");
  EXPECT_NE(WordsFor("fr").version, WordsFor("en").version);
  // Every field is filled, in its place (the lists are positional).
  for (const PageWords* w : {&WordsFor("en"), &WordsFor("fr")}) {
    EXPECT_NE(w->paused_until.find("{}"), std::string_view::npos);
    EXPECT_NE(w->sent_by.find("{}"), std::string_view::npos);
    EXPECT_NE(w->confirm_body.find("{}"), std::string_view::npos);
    EXPECT_NE(w->confirmed_body.find("{}"), std::string_view::npos);
    EXPECT_NE(w->unsubscribe_question.find("{}"), std::string_view::npos);
    EXPECT_FALSE(w->unsubscribed_body.empty());
  }
  EXPECT_NE(WordsFor("fr").weekly_note.find("hebdomadaire"), std::string_view::npos);
  EXPECT_EQ(WordsFor("fr").unsubscribed_title, "Vous êtes désabonné");
  EXPECT_EQ(WordsFor("en").unsubscribed_title, "You are unsubscribed");
}

PreferencePage Sample() {
  PreferencePage p;
  p.sender_name = "Shop <&> Co";
  p.masked_email = MaskedEmail("ada@example.com");
  p.first_name = "Ada\"><script>";
  p.timezone = "Europe/London";
  p.topics = {{"news", "News", "Every week", true}, {"offers", "Offers", "", false}};
  p.now = Timestamp(std::chrono::seconds(1'700'000'000));
  return p;
}

TEST(PreferenceCenter, ThePageIsOneSelfContainedForm) {
  std::string html = RenderPreferencePage(Sample(), WordsFor("en"));
  EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(html.find("<form method=\"post\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // escaped, and none of ours
  EXPECT_EQ(html.find("src="), std::string::npos);     // nothing loaded from anywhere
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_NE(html.find("value=\"news\" checked"), std::string::npos);
  EXPECT_NE(html.find("value=\"offers\">"), std::string::npos);
  EXPECT_NE(html.find("Sent by Shop &lt;&amp;&gt; Co"), std::string::npos);
  EXPECT_NE(html.find("a***@example.com"), std::string::npos);
  EXPECT_NE(html.find("<label for=\"timezone\">"), std::string::npos);  // every field labelled
  EXPECT_NE(html.find("value=\"everything\" checked"), std::string::npos);
}

TEST(PreferenceCenter, FrenchAndAPauseShownAsKept) {
  PreferencePage p = Sample();
  p.locale = "fr";
  p.preferences.paused_until = p.now + std::chrono::hours(24 * 30);
  std::string html = RenderPreferencePage(p, WordsFor("fr"));
  EXPECT_NE(html.find("<html lang=\"fr\">"), std::string::npos);
  EXPECT_NE(html.find("Enregistrer mes choix"), std::string::npos);
  EXPECT_NE(html.find("value=\"keep\" checked"), std::string::npos);
  EXPECT_NE(html.find("2023-12-14"), std::string::npos);
  EXPECT_NE(html.find("<option value=\"fr\" selected>"), std::string::npos);
}

Result<PreferenceChoice> Read(std::string_view body) {
  auto form = ParseFormBody(body);
  if (!form.ok()) return form.error();
  return ReadPreferenceForm(*form);
}

TEST(PreferenceCenter, ReadsTheForm) {
  auto c = Read(
      "topic=news&topic=news&topic=offers&frequency=weekly&first_name=+Ada+&locale=fr&timezone=Europe%"
      "2FParis");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->topics, (std::vector<std::string>{"news", "offers"}));
  EXPECT_EQ(c->frequency, MailFrequency::kWeeklyDigest);
  EXPECT_EQ(c->first_name, "Ada");
  EXPECT_EQ(c->locale, "fr");
  EXPECT_EQ(c->timezone, "Europe/Paris");
  auto pause = Read("frequency=pause-90");
  ASSERT_TRUE(pause.ok());
  EXPECT_EQ(pause->pause_days, 90);
  EXPECT_TRUE(pause->topics.empty());  // nothing checked: leave every topic
  EXPECT_TRUE(Read("frequency=keep")->keep_pause);
}

TEST(PreferenceCenter, RefusesWhatThePageDoesNotOffer) {
  EXPECT_EQ(Read("frequency=daily").error().field, "frequency");
  EXPECT_EQ(Read("frequency=pause-7").error().field, "frequency");
  EXPECT_EQ(Read("locale=de").error().field, "locale");
  EXPECT_EQ(Read("timezone=Mars%2FOlympus").error().field, "timezone");
  EXPECT_FALSE(Read("topic=Not+A+Key").ok());
  EXPECT_EQ(Read("first_name=" + std::string(101, 'a')).error().field, "first_name");
}

TEST(PreferenceCenter, MasksTheAddress) {
  EXPECT_EQ(MaskedEmail("ada@example.com"), "a***@example.com");
  EXPECT_EQ(MaskedEmail("nobody"), "");
  EXPECT_EQ(EscapeText("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

TEST(PageSender, TheFromAddressOfAStoredMessage) {
  EXPECT_EQ(MessageFromAddress(
                "Subject: Hi\r\nFrom: Coffee Corner <coffee@shop.example>\r\n\r\nFrom: x@y.example\r\n")
                .value_or(""),
            "coffee@shop.example");
  // Folded, with a quoted name that holds '<' and '>' of its own; any letter case of the name.
  EXPECT_EQ(MessageFromAddress("from: \"A <b> C\"\r\n <news@shop.example>\r\nTo: ada@example.com\r\n\r\n")
                .value_or(""),
            "news@shop.example");
  EXPECT_EQ(MessageFromAddress("From:  club@shop.example \r\n\r\nbody").value_or(""), "club@shop.example");
  // No From in the header block (one in the body does not count), or an unclosed address.
  EXPECT_FALSE(MessageFromAddress("Subject: Hi\r\n\r\nFrom: x@y.example\r\n").has_value());
  EXPECT_FALSE(MessageFromAddress("From: Broken <a@b.example\r\n\r\n").has_value());
  EXPECT_FALSE(MessageFromAddress("").has_value());
}

class PageSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_.emplace(clock_, "shop");
    store_ = temp_->store.get();
    ws_ = temp_->workspace;
    tea_ = AddSender("Tea Club", "club@shop.example");  // the first: the default
    coffee_ = AddSender("Coffee Corner", "coffee@shop.example");
    ada_ = AddContact("ada@example.com");
    bob_ = AddContact("bob@example.com");
  }
  SenderId AddSender(const std::string& name, const std::string& email) {
    SenderIdentity in;
    in.workspace_id = ws_;
    in.name = name;
    in.email = email;
    auto s = store_->senders().Create(in);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? s->id : 0;
  }
  ContactId AddContact(const std::string& email) {
    ContactInput in;
    in.email = email;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? c->id : 0;
  }
  // A tracked message to `contact` with tracking key `key`, from `from`.
  void Queue(ContactId contact, int64_t key, const std::string& from) {
    OutboxMessage m;
    m.workspace_id = ws_;
    m.contact_id = contact;
    m.template_name = "news";
    m.mail_from = "bounces@shop.example";
    m.rcpt_to = "ada@example.com";
    m.subject = "News";
    m.mime = "From: " + from + "\r\nTo: ada@example.com\r\nSubject: News\r\n\r\nHello\r\n";
    m.next_attempt_at = clock_.Now();
    m.tracking = MessageTracking{key, {}, "<p>Hello</p>"};
    auto queued = store_->outbox().Enqueue(m);
    ASSERT_TRUE(queued.ok()) << queued.error().message;
  }
  std::string Name(ContactId contact, int64_t key) {
    auto name = PageSenderName(*store_, ws_, contact, key, configured_);
    EXPECT_TRUE(name.ok()) << name.error().message;
    return name.ok() ? *name : std::string("<error>");
  }

  FakeClock clock_{FromMicros(1'700'000'000'000'000)};
  std::optional<TempSqliteStore> temp_;
  Store* store_ = nullptr;
  WorkspaceId ws_ = 0;
  SenderId tea_ = 0, coffee_ = 0;
  ContactId ada_ = 0, bob_ = 0;
  const mail::Mailbox configured_{"Tea Shop", EmailAddress{"hello", "shop.example"}};
};

TEST_F(PageSenderTest, TheMessagesOwnSenderElseTheDefaultElseTheConfiguredOne) {
  Queue(ada_, 71, "Coffee Corner <coffee@shop.example>");
  Queue(ada_, 72, "Tea Club <club@shop.example>");
  Queue(ada_, 73, "Tea Shop <hello@shop.example>");  // the configured [sender]'s message
  EXPECT_EQ(Name(ada_, 71), "Coffee Corner");
  EXPECT_EQ(Name(ada_, 72), "Tea Club");
  EXPECT_EQ(Name(ada_, 73), "Tea Shop");
  // No message named, an unknown one, or another contact's: the workspace's default.
  EXPECT_EQ(Name(ada_, 0), "Tea Club");
  EXPECT_EQ(Name(ada_, 99), "Tea Club");
  EXPECT_EQ(Name(bob_, 71), "Tea Club");
  // The identity is renamed: the page says its name now; deleted: the default.
  SenderIdentity renamed = *store_->senders().Get(ws_, coffee_);
  renamed.name = "Coffee Corner & Co";
  ASSERT_TRUE(store_->senders().Update(renamed).ok());
  EXPECT_EQ(Name(ada_, 71), "Coffee Corner & Co");
  ASSERT_TRUE(store_->senders().Delete(ws_, coffee_).ok());
  EXPECT_EQ(Name(ada_, 71), "Tea Club");
  // No default left: the configured sender; an identity without a name: its domain.
  ASSERT_TRUE(store_->senders().Delete(ws_, tea_).ok());
  EXPECT_EQ(Name(ada_, 72), "Tea Shop");
  EXPECT_EQ(Name(ada_, 0), "Tea Shop");
  AddSender("", "club@shop.example");
  EXPECT_EQ(Name(ada_, 72), "shop.example");
  EXPECT_EQ(ConfiguredSenderName(mail::Mailbox{"", EmailAddress{"hello", "shop.example"}}), "shop.example");
}

}  // namespace
}  // namespace rapport::tracking
