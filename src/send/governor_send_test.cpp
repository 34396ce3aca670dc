// The frequency governor applied by the send service, against a real SQLite store and a fake
// clock: caps, defer versus skip, priorities, transactional mail never governed, the contact's
// weekly digest, the bulk path; and issue 19's item 8: overlapping campaigns and journeys over
// two simulated weeks never exceed the caps and defer or skip as configured.
#include <gtest/gtest.h>

#include <date/date.h>
#include <date/tz.h>

#include <map>
#include <optional>
#include <random>
#include <set>

#include "campaign/experiment.h"
#include "campaign/governor.h"
#include "mail/header.h"
#include "send/send_service.h"
#include "send/testing/send_fixture.h"

namespace rapport::send {
namespace {

using namespace std::chrono_literals;

Timestamp T(std::string_view iso) { return *ParseTimestamp(iso); }

class GovernedSendTest : public testing::SendFixture {
 protected:
  GovernedSendTest() : SendFixture(T("2026-12-07T10:00:00Z")) {}  // a Monday
  void SetUp() override {
    OpenStore();
    AddTemplate("news", "News for {{ contact.first_name | default: 'you' }}", "",
                "Hello. Unsubscribe: {{ unsubscribe_url }}");
    for (const char* key : {"news", "offers"}) AddTopic(key, key);
    StartService();
  }
  ContactId AddContact(const std::string& email, const std::string& tz = "") {
    ContactInput in;
    in.email = email;
    if (!tz.empty()) in.timezone = tz;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    Consent consent;
    consent.source = "test";
    for (const char* key : {"news", "offers"})
      EXPECT_TRUE(
          store_->topics().SetSubscription(ws_, c->id, key, SubscriptionStatus::kSubscribed, consent).ok());
    return c->id;
  }
  void SetPolicy(const std::string& json) {
    auto p = campaign::ParsePolicy(boost::json::parse(json));
    ASSERT_TRUE(p.ok()) << p.error().message;
    ASSERT_TRUE(store_->governor().SetPolicy(ws_, boost::json::serialize(campaign::PolicyToJson(*p))).ok());
  }
  SendRequest Marketing(ContactId id, std::string source = "campaign:1", int priority = 0,
                        Governance::OnCap on_cap = Governance::OnCap::kDefer,
                        std::optional<std::string> topic = std::nullopt) {
    SendRequest r;
    r.template_name = "news";
    r.contact_id = id;
    r.message_class = MessageClass::kMarketing;
    r.topic = std::move(topic);
    r.governance = {std::move(source), priority, on_cap};
    return r;
  }
  OutboxMessage Send(SendRequest r) {
    auto sent = service_->Send(ws_, std::move(r));
    EXPECT_TRUE(sent.ok()) << sent.error().message;
    return sent.ok() ? sent->message : OutboxMessage{};
  }
  std::vector<Event> Governed(ContactId c) {
    std::vector<Event> out;
    auto page = store_->events().ListForContact(ws_, c, {.limit = 1000});
    EXPECT_TRUE(page.ok());
    for (auto& e : page->items)
      if (e.name == "message.governed") out.push_back(e);
    return out;
  }
  std::vector<OutboxMessage> ClaimAt(Timestamp t, MessageClass lane = MessageClass::kMarketing) {
    auto claimed = store_->outbox().Claim(lane, 1000, "node/1", t, 60s);
    EXPECT_TRUE(claimed.ok());
    return claimed.ok() ? *claimed : std::vector<OutboxMessage>{};
  }
};

TEST_F(GovernedSendTest, TheGlobalHoldoutGetsNoMarketingMailFromAnySourceButStillItsTransactionalMail) {
  // Caps off: the holdout applies on its own.
  SetPolicy(R"({"enabled": false, "global_holdout": 0.2})");
  std::vector<ContactId> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(AddContact("c" + std::to_string(i) + "@example.com"));
  int held = 0;
  for (ContactId id : ids) {
    const bool in = campaign::InGlobalHoldout(ws_, id, 0.2);
    held += in;
    for (const char* source : {"campaign:1", "journey:2:welcome", ""}) {
      OutboxMessage m = Send(Marketing(id, source, /*priority=*/1000));
      if (in) {
        EXPECT_EQ(m.state, MessageState::kSuppressed) << source;
        EXPECT_NE(m.last_reply.find("global holdout (20% of contacts"), std::string::npos) << m.last_reply;
      } else {
        EXPECT_EQ(m.state, MessageState::kQueued) << source;
      }
    }
    SendRequest receipt = Marketing(id);
    receipt.message_class = MessageClass::kTransactional;
    EXPECT_EQ(Send(std::move(receipt)).state, MessageState::kQueued);
  }
  // About a fifth, stable, and the timeline says why.
  EXPECT_GT(held, 20);
  EXPECT_LT(held, 60);
  for (ContactId id : ids) {
    if (!campaign::InGlobalHoldout(ws_, id, 0.2)) continue;
    auto governed = Governed(id);
    ASSERT_EQ(governed.size(), 3u);
    EXPECT_EQ(governed[0].properties.at("decision").as_string(), "skipped");
    break;
  }
}

TEST_F(GovernedSendTest, MarketingPastTheDayCapIsDeferredToTheNextAllowedMomentAndSaysWhy) {
  SetPolicy(
      R"({"enabled": true, "per_day": 1, "per_week": 3, "quiet_hours": {"start": "21:00", "end": "08:00"}})");
  ContactId ada = AddContact("ada@example.com", "Europe/Berlin");
  OutboxMessage first = Send(Marketing(ada));
  EXPECT_EQ(first.next_attempt_at, clock_.Now());
  EXPECT_EQ(first.last_reply, "");
  OutboxMessage second = Send(Marketing(ada, "journey:3:promo"));
  EXPECT_EQ(second.state, MessageState::kQueued);
  // The next Berlin day starts at 23:00Z, in the quiet hours: 08:00 Berlin = 07:00Z.
  EXPECT_EQ(second.next_attempt_at, T("2026-12-08T07:00:00Z"));
  EXPECT_NE(second.last_reply.find("the cap of 1 marketing message per day"), std::string::npos)
      << second.last_reply;
  auto governed = Governed(ada);
  ASSERT_EQ(governed.size(), 1u);
  EXPECT_EQ(governed[0].properties.at("decision").as_string(), "deferred");
  EXPECT_EQ(governed[0].properties.at("source").as_string(), "journey:3:promo");
  EXPECT_EQ(governed[0].properties.at("until").as_string(), FormatTimestamp(T("2026-12-08T07:00:00Z")));
  // The deferred message is not claimed before its time.
  auto now = ClaimAt(clock_.Now());
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].id, first.id);
  DeliveryAttempt a;
  a.message_id = first.id;
  a.attempt = 1;
  a.at = clock_.Now();
  a.smtp_code = 250;
  ASSERT_TRUE(store_->outbox().Complete(first.id, "node/1", a, clock_.Now()).ok());
  EXPECT_TRUE(ClaimAt(T("2026-12-08T06:59:59Z")).empty());
  auto later = ClaimAt(T("2026-12-08T07:00:00Z"));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, second.id);
}

// A batch of sends is governed in order: the second marketing message to a contact in the same
// batch sees the first and is deferred by the day's cap, as two single sends would be.
TEST_F(GovernedSendTest, ManyGovernsTheBatchInOrderAsSingleSendsWould) {
  SetPolicy(R"({"enabled": true, "per_day": 1, "per_week": 3})");
  ContactId ada = AddContact("ada@example.com", "Europe/Berlin");
  ContactId bob = AddContact("bob@example.com", "Europe/Berlin");
  std::vector<SendRequest> batch{Marketing(ada), Marketing(bob), Marketing(ada, "journey:3:promo")};
  auto out = service_->SendMany(ws_, batch);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 3u);
  for (const auto& r : *out) ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*out)[0]->message.next_attempt_at, clock_.Now());
  EXPECT_EQ((*out)[1]->message.next_attempt_at, clock_.Now());
  // The next Berlin day starts at 23:00Z, in the default quiet hours: 08:00 Berlin = 07:00Z.
  EXPECT_EQ((*out)[2]->message.next_attempt_at, T("2026-12-08T07:00:00Z"));
  EXPECT_NE((*out)[2]->message.last_reply.find("the cap of 1 marketing message per day"), std::string::npos);
  ASSERT_EQ(Governed(ada).size(), 1u);
  EXPECT_TRUE(Governed(bob).empty());
}

TEST_F(GovernedSendTest, SkipOnCapRecordsTheSkippedMessageWithItsReason) {
  SetPolicy(R"({"enabled": true, "per_day": 1, "quiet_hours": null})");
  ContactId bo = AddContact("bo@example.com");
  Send(Marketing(bo));
  OutboxMessage skipped = Send(Marketing(bo, "campaign:9", 0, Governance::OnCap::kSkip));
  EXPECT_EQ(skipped.state, MessageState::kSuppressed);
  EXPECT_TRUE(skipped.last_reply.starts_with("skipped: the cap of 1 marketing message per day"))
      << skipped.last_reply;
  auto governed = Governed(bo);
  ASSERT_EQ(governed.size(), 1u);
  EXPECT_EQ(governed[0].properties.at("decision").as_string(), "skipped");
  EXPECT_EQ(governed[0].properties.at("on_cap").as_string(), "skip");
  EXPECT_FALSE(governed[0].properties.contains("until"));
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kSuppressed), 1);
}

TEST_F(GovernedSendTest, TransactionalMailIsNeverGoverned) {
  SetPolicy(R"({"enabled": true, "per_day": 1, "quiet_hours": {"start": "00:00", "end": "23:59"}})");
  ContactId cy = AddContact("cy@example.com");
  for (int i = 0; i < 3; ++i) {
    SendRequest r = Marketing(cy);
    r.message_class = MessageClass::kTransactional;
    OutboxMessage m = Send(std::move(r));
    EXPECT_EQ(m.next_attempt_at, clock_.Now());
    EXPECT_EQ(m.last_reply, "");
  }
  EXPECT_TRUE(Governed(cy).empty());
  std::vector<ContactId> ids{cy};
  EXPECT_TRUE(store_->governor().Recent(ws_, ids, clock_.Now() - 24h)->empty());
  // ... and it does not use up the marketing cap (but the quiet hours defer marketing mail).
  OutboxMessage m = Send(Marketing(cy));
  EXPECT_EQ(m.next_attempt_at, T("2026-12-07T23:59:00Z"));
  EXPECT_TRUE(m.last_reply.find("quiet hours") != std::string::npos) << m.last_reply;
}

TEST_F(GovernedSendTest, AHigherPriorityMessageTakesTheSlotOfALowerQueuedOne) {
  SetPolicy(R"({"enabled": true, "per_day": 1, "per_week": 0, "quiet_hours": null})");
  ContactId di = AddContact("di@example.com");
  OutboxMessage low = Send(Marketing(di, "campaign:newsletter", 0));
  OutboxMessage high = Send(Marketing(di, "journey:cart:reminder", 5));
  EXPECT_EQ(high.next_attempt_at, clock_.Now());
  EXPECT_NE(high.last_reply.find("took the place of message " + std::to_string(low.id)), std::string::npos);
  auto moved = store_->outbox().Get(ws_, low.id);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->state, MessageState::kQueued);
  EXPECT_EQ(moved->next_attempt_at, T("2026-12-08T00:00:00Z"));
  EXPECT_NE(moved->last_reply.find("a message of priority 5 took its place"), std::string::npos);
  // Both decisions are on the timeline: the yield (deferred, with its source) and the new one.
  auto governed = Governed(di);
  ASSERT_EQ(governed.size(), 2u);
  std::set<std::string> sources;
  for (auto& e : governed) sources.insert(std::string(e.properties.at("source").as_string()));
  EXPECT_TRUE(sources.contains("campaign:newsletter"));
  EXPECT_TRUE(sources.contains("journey:cart:reminder"));
  // A third of equal priority to the first waits its turn: the 8th is taken by the moved one.
  OutboxMessage third = Send(Marketing(di, "campaign:other", 0));
  EXPECT_EQ(third.next_attempt_at, T("2026-12-09T00:00:00Z"));
  // Once sent, a message never yields.
  auto claimed = ClaimAt(clock_.Now());
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, high.id);
}

TEST_F(GovernedSendTest, TheContactsWeeklyDigestChoiceIsEnforcedWithoutAPolicy) {
  ContactId ed = AddContact("ed@example.com");
  ContactPreferences prefs;
  prefs.contact_id = ed;
  prefs.frequency = MailFrequency::kWeeklyDigest;
  Consent origin;
  origin.source = "preference_center";
  ASSERT_TRUE(store_->consents().SetPreferences(ws_, ed, prefs, origin).ok());
  ContactId fay = AddContact("fay@example.com");
  EXPECT_EQ(Send(Marketing(ed)).next_attempt_at, clock_.Now());
  OutboxMessage second = Send(Marketing(ed));
  EXPECT_EQ(second.next_attempt_at, T("2026-12-14T00:00:00Z"));  // next Monday
  EXPECT_NE(second.last_reply.find("weekly digest"), std::string::npos);
  // Everyone else is not governed while the workspace has no policy.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Send(Marketing(fay)).next_attempt_at, clock_.Now());
}

TEST_F(GovernedSendTest, BulkGovernsEveryRecipientIncludingOneNamedTwice) {
  SetPolicy(R"({"enabled": true, "per_day": 1, "quiet_hours": null})");
  std::vector<ContactId> ids;
  for (int i = 0; i < 700; ++i) ids.push_back(AddContact("bulk" + std::to_string(i) + "@example.com"));
  Send(Marketing(ids[5], "campaign:1", 2));  // already mailed today, with a higher priority
  Send(Marketing(ids[6], "campaign:1", 0));  // queued today with a lower priority: yields
  BulkSend bulk;
  bulk.template_name = "news";
  bulk.governance = {"campaign:7", 1, Governance::OnCap::kSkip};
  for (ContactId id : ids) bulk.recipients.push_back({id, {}, std::nullopt});
  bulk.recipients.push_back({ids[600], {}, std::nullopt});  // twice, in another chunk
  auto out = service_->SendBulk(ws_, bulk);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 701u);
  int queued = 0, skipped = 0;
  for (auto& r : *out) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    (r->message.state == MessageState::kQueued ? queued : skipped)++;
  }
  EXPECT_EQ(queued, 699);
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ((*out)[5]->message.state, MessageState::kSuppressed);
  EXPECT_EQ((*out)[700]->message.state, MessageState::kSuppressed);
  EXPECT_EQ((*out)[6]->message.state, MessageState::kQueued);
  EXPECT_EQ((*out)[6]->message.next_attempt_at, clock_.Now());
  EXPECT_EQ(Governed(ids[6]).size(), 2u);  // the yield and the message that took its place
  EXPECT_EQ(Governed(ids[600]).size(), 1u);
}

// ---- issue 19, item 8 ------------------------------------------------------------------------

// Two simulated weeks of overlapping campaigns (bulk sends) and journeys (single sends) with
// different priorities and on_cap choices, transactional mail between them, and a worker that
// claims and "sends" whatever is due every hour. Every marketing message that went out is then
// counted per local day, per local week and per topic of its contact: never over the caps, never
// in the quiet hours; skip-on-cap sends were skipped (never deferred past a cap), defer sends
// never skipped; every stop is on the message and the timeline with its source.
TEST_F(GovernedSendTest, Issue19OverlappingCampaignsAndJourneysNeverExceedTheCapsAndDeferOrSkipAsConfigured) {
  SetPolicy(
      R"({"enabled": true, "per_day": 2, "per_week": 5, "topics": {"offers": {"per_day": 1, "per_week": 2}},
                "quiet_hours": {"start": "21:00", "end": "08:00"}, "timezone": "Europe/Berlin"})");
  const std::vector<std::string> zones = {"", "America/New_York", "Asia/Tokyo", "UTC", "Europe/Berlin"};
  std::vector<ContactId> contacts;
  std::map<ContactId, std::string> zone_of;
  for (int i = 0; i < 20; ++i) {
    ContactId id = AddContact("p" + std::to_string(i) + "@example.com", zones[i % zones.size()]);
    contacts.push_back(id);
    zone_of[id] = zones[i % zones.size()].empty() ? "Europe/Berlin" : zones[i % zones.size()];
  }
  std::mt19937 rng(19);
  clock_.Set(T("2026-12-07T00:00:00Z"));
  std::map<MessageId, Timestamp> sent_at;  // marketing, by the hour the worker claimed it
  std::map<MessageId, std::string> source_of;
  std::map<MessageId, Governance::OnCap> on_cap_of;
  int transactional = 0, transactional_sent = 0;
  for (int hour = 0; hour < 24 * 14; ++hour) {
    Timestamp now = clock_.Now();
    int h = hour % 24;
    auto bulk = [&](const std::string& source, int priority, Governance::OnCap on_cap,
                    std::optional<std::string> topic) {
      BulkSend b;
      b.template_name = "news";
      b.topic = std::move(topic);
      b.governance = {source, priority, on_cap};
      for (ContactId id : contacts) b.recipients.push_back({id, {}, std::nullopt});
      auto out = service_->SendBulk(ws_, b);
      ASSERT_TRUE(out.ok()) << out.error().message;
      for (auto& r : *out) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        source_of[r->message.id] = source;
        on_cap_of[r->message.id] = on_cap;
      }
    };
    // Campaign A: a newsletter Monday, Wednesday and Friday at 09:00 UTC, defers. Campaign B:
    // offers every other day at 15:00 UTC, skips. Campaign C: a weekly announcement, Tuesdays
    // 20:00 UTC, priority 3, defers.
    const int weekday = (hour / 24) % 7;  // 0: Monday
    if (h == 9 && (weekday == 0 || weekday == 2 || weekday == 4))
      bulk("campaign:a", 1, Governance::OnCap::kDefer, "news");
    if (h == 15 && (hour / 24) % 2 == 0) bulk("campaign:b", 0, Governance::OnCap::kSkip, "offers");
    if (h == 20 && (hour / 24) % 7 == 1) bulk("campaign:c", 3, Governance::OnCap::kDefer, std::nullopt);
    // Journeys: one contact every three hours, random priority and on_cap.
    for (int j = 0; j < (h % 3 == 0 ? 1 : 0); ++j) {
      ContactId id = contacts[rng() % contacts.size()];
      Governance::OnCap on_cap = rng() % 2 ? Governance::OnCap::kSkip : Governance::OnCap::kDefer;
      std::string source = "journey:" + std::to_string(rng() % 3) + ":step";
      auto topic = rng() % 3 == 0 ? std::optional<std::string>("offers") : std::nullopt;
      OutboxMessage m = Send(Marketing(id, source, static_cast<int>(rng() % 4), on_cap, topic));
      source_of[m.id] = source;
      on_cap_of[m.id] = on_cap;
    }
    if (rng() % 2 == 0) {
      SendRequest r = Marketing(contacts[rng() % contacts.size()]);
      r.message_class = MessageClass::kTransactional;
      Send(std::move(r));
      ++transactional;
    }
    // The worker: everything due now is sent.
    for (MessageClass lane : {MessageClass::kMarketing, MessageClass::kTransactional}) {
      for (const OutboxMessage& m : ClaimAt(now, lane)) {
        DeliveryAttempt a;
        a.message_id = m.id;
        a.attempt = 1;
        a.at = now;
        a.outcome = MessageState::kSent;
        a.smtp_code = 250;
        ASSERT_TRUE(store_->outbox().Complete(m.id, "node/1", a, now).ok());
        if (lane == MessageClass::kMarketing) {
          sent_at[m.id] = now;
          EXPECT_GE(now, m.next_attempt_at);
        } else {
          ++transactional_sent;
        }
      }
    }
    clock_.Advance(std::chrono::duration_cast<Micros>(1h));
  }
  EXPECT_EQ(transactional_sent, transactional);  // never held back
  ASSERT_GT(sent_at.size(), 150u);

  // Caps and quiet hours, per contact, in its local days and weeks.
  std::map<ContactId, std::vector<std::pair<Timestamp, std::optional<std::string>>>> sent_by_contact;
  std::map<MessageId, OutboxMessage> all;
  for (ContactId c : contacts) {
    std::string cursor;
    do {
      auto page = store_->outbox().ListForContact(ws_, c, {.limit = 500, .cursor = cursor});
      ASSERT_TRUE(page.ok());
      for (auto& m : page->items) all[m.id] = m;
      cursor = page->next_cursor;
    } while (!cursor.empty());
  }
  int deferred_by_governor = 0, skipped = 0, yielded = 0;
  for (const auto& [id, m] : all) {
    if (m.message_class != MessageClass::kMarketing) continue;
    if (auto it = sent_at.find(id); it != sent_at.end())
      sent_by_contact[m.contact_id].push_back({it->second, m.topic});
    const bool skip = on_cap_of.at(id) == Governance::OnCap::kSkip;
    if (m.state == MessageState::kSuppressed) {
      ++skipped;
      EXPECT_TRUE(m.last_reply.starts_with("skipped")) << m.last_reply;
      // Only a skip-on-cap send is skipped (a defer send only past the 35-day horizon).
      EXPECT_TRUE(skip) << source_of.at(id) << ": " << m.last_reply;
    }
    if (m.last_reply.starts_with("deferred")) {
      ++deferred_by_governor;
      // A skip send is deferred by quiet hours only, never past a full cap, unless it yielded its
      // place or took another's (then it goes when the quiet hours end, in the place it took).
      const bool displacement = m.last_reply.find("took its place") != std::string::npos ||
                                m.last_reply.find("took the place") != std::string::npos;
      if (skip && !displacement)
        EXPECT_TRUE(m.last_reply.find("quiet hours") != std::string::npos &&
                    m.last_reply.find("the cap") == std::string::npos)
            << m.last_reply;
    }
    if (m.last_reply.find("took its place") != std::string::npos) ++yielded;
  }
  EXPECT_GT(deferred_by_governor, 0);
  EXPECT_GT(skipped, 0);
  EXPECT_GT(yielded, 0);
  for (const auto& [contact, sends] : sent_by_contact) {
    const date::time_zone* zone = date::locate_zone(zone_of.at(contact));
    std::map<int, int> per_day, per_week, offers_day, offers_week;
    for (const auto& [at, topic] : sends) {
      auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(at));
      auto day = date::floor<date::days>(local);
      int day_n = static_cast<int>(day.time_since_epoch().count());
      int week_n = (day_n + 3) / 7;  // 1970-01-01 was a Thursday: weeks from Monday
      int minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
      EXPECT_FALSE(minute >= 21 * 60 || minute < 8 * 60)
          << "contact " << contact << " was mailed at " << FormatTimestamp(at) << " in its quiet hours";
      ++per_day[day_n];
      ++per_week[week_n];
      if (topic == "offers") {
        ++offers_day[day_n];
        ++offers_week[week_n];
      }
    }
    for (auto [d, n] : per_day) EXPECT_LE(n, 2) << "contact " << contact << " day " << d;
    for (auto [w, n] : per_week) EXPECT_LE(n, 5) << "contact " << contact << " week " << w;
    for (auto [d, n] : offers_day) EXPECT_LE(n, 1) << "contact " << contact << " day " << d;
    for (auto [w, n] : offers_week) EXPECT_LE(n, 2) << "contact " << contact << " week " << w;
  }
  // Every stop is on the timeline, with its message's source.
  for (ContactId c : contacts) {
    for (const Event& e : Governed(c)) {
      MessageId id = e.properties.at("message_id").as_int64();
      EXPECT_EQ(e.properties.at("source").as_string(), source_of.at(id));
    }
  }
}

}  // namespace
}  // namespace rapport::send
