// The preference center's pure parts: wording by locale, the page, and the reading of its form.
#include "tracking/preference_center.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rapport::tracking
