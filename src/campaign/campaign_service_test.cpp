// The campaign engine on a FakeClock over a real SQLite store, with a recording mailer (that,
// like the send service, queues nothing twice for one idempotency key, and can queue real outbox
// rows) and an audience the test controls.
#include "campaign/campaign_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "campaign/governor.h"
#include "segment/segment_service.h"
#include "store/open.h"

namespace rapport::campaign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct Sent {
  ContactId contact = 0;
  std::string key;
  std::string variant;
  std::optional<std::string> subject;
  Timestamp at{};
  MessageId id = 0;
};

class RecordingMailer final : public CampaignMailer {
 public:
  explicit RecordingMailer(const Clock& clock) : clock_(clock) {}
  Result<std::vector<BatchItem>> SendBatch(const CampaignBatch& b) override {
    ++calls;
    std::vector<BatchItem> out;
    for (const BatchRecipient& r : b.recipients) {
      auto it = by_key.find(r.idempotency_key);
      if (it == by_key.end()) {
        MessageId id = next_id++;
        if (outbox) {  // a message the outbox holds, created now (what the store can count)
          OutboxMessage m;
          m.workspace_id = b.workspace_id;
          m.contact_id = r.contact_id;
          m.message_class = MessageClass::kMarketing;
          m.template_name = b.variant.template_name;
          m.mail_from = "bounce@acme.test";
          m.rcpt_to = "to@example.com";
          m.subject = "News";
          m.mime = "Subject: News\r\n\r\nHi\r\n";
          m.idempotency_key = r.idempotency_key;
          m.next_attempt_at = clock_.Now();
          auto queued = outbox->Enqueue(m);
          if (!queued.ok()) return queued.error();
          id = queued->message.id;
        }
        Sent s{r.contact_id, r.idempotency_key, b.variant.name, b.variant.subject, clock_.Now(), id};
        sent.push_back(s);
        it = by_key.emplace(r.idempotency_key, s.id).first;
      }
      out.push_back(BatchItem{true, it->second, ""});
    }
    if (fail_after_queueing > 0) {
      --fail_after_queueing;  // queued, then "crashed" before the engine could mark them
      return Error::Unavailable("connection lost");
    }
    return out;
  }
  Result<std::vector<BatchItem>> SendProof(const CampaignBatch&,
                                           const std::vector<std::string>& emails) override {
    proofs += emails.size();
    return std::vector<BatchItem>(emails.size(), BatchItem{true, next_id++, ""});
  }
  // Refuses the senders in `refused_senders` as the send service refuses a domain without a DKIM key.
  Status CheckSender(WorkspaceId, std::optional<int64_t> sender_id, MessageClass c) override {
    sender_checks.emplace_back(sender_id, c);
    if (sender_id && refused_senders.contains(*sender_id))
      return Error::Invalid("from", "no DKIM key is configured for other.example, the domain of sender " +
                                        std::to_string(*sender_id) + ": publish its key");
    return {};
  }
  std::vector<Sent> sent;
  std::set<int64_t> refused_senders;
  std::vector<std::pair<std::optional<int64_t>, MessageClass>> sender_checks;
  std::map<std::string, MessageId> by_key;
  int calls = 0;
  int fail_after_queueing = 0;
  size_t proofs = 0;
  MessageId next_id = 1000;
  OutboxStore* outbox = nullptr;  // set: each new key is queued there too, and its id is the outbox's

 private:
  const Clock& clock_;
};

class FixedAudience final : public AudienceSource {
 public:
  Result<std::vector<ContactId>> Resolve(WorkspaceId, const Audience&) override {
    ++resolved;
    return std::vector<ContactId>(members.begin(), members.end());
  }
  std::set<ContactId> members;
  int resolved = 0;
};

class CampaignServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("campaign_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = OpenStore((dir_ / "rapport.db").string(), clock_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Migrate().ok());
    auto ws = store_->workspaces().Create("acme");
    ASSERT_TRUE(ws.ok());
    ws_ = ws->id;
    MessageTemplate t;
    t.workspace_id = ws_;
    t.name = "news";
    t.subject = "News";
    t.html = "<p>Hi</p>";
    ASSERT_TRUE(store_->templates().Create(t).ok());
    SavedSegment all;
    all.workspace_id = ws_;
    all.name = "all";
    all.expression = "status = \"active\"";
    ASSERT_TRUE(store_->segments().Create(all).ok());
    service_ =
        std::make_unique<CampaignService>(*store_, clock_, CampaignPorts{&mailer_, &audience_, nullptr});
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  ContactId AddContact(const std::string& email, const std::string& tz = "") {
    ContactInput in;
    in.email = email;
    if (!tz.empty()) in.timezone = tz;
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    audience_.members.insert(c->id);
    return c->id;
  }

  Campaign MakeCampaign(json::object doc) {
    doc["name"] = "weekly";
    if (!doc.contains("audience")) doc["audience"] = json::object{{"include_segments", json::array{"all"}}};
    if (!doc.contains("template") && !doc.contains("variants")) doc["template"] = "news";
    auto c = service_->Create(ws_, doc);
    EXPECT_TRUE(c.ok()) << c.error().field << ": " << c.error().message;
    auto s = service_->Schedule(ws_, c->id);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return *s;
  }

  // Runs the engine, moving time to each next due tick, until `until` or nothing is due.
  void RunUntil(Timestamp until) {
    for (int i = 0; i < 100000; ++i) {
      auto n = service_->Step();
      ASSERT_TRUE(n.ok()) << n.error().message;
      auto next = store_->work().NextDue(kCampaignQueue);
      ASSERT_TRUE(next.ok());
      if (!*next || **next > until) {
        clock_.Set(std::max(clock_.Now(), until));
        ASSERT_TRUE(service_->Step().ok());
        return;
      }
      if (**next > clock_.Now()) clock_.Set(**next);
    }
    FAIL() << "the engine never settled";
  }

  CampaignState State(CampaignId id) { return store_->campaigns().Get(ws_, id)->state; }

  std::filesystem::path dir_;
  FakeClock clock_{*ParseTimestamp("2026-10-12T00:00:00Z")};  // a Monday
  std::unique_ptr<Store> store_;
  WorkspaceId ws_ = 0;
  RecordingMailer mailer_{clock_};
  FixedAudience audience_;
  std::unique_ptr<CampaignService> service_;
};

TEST_F(CampaignServiceTest, SendNowFreezesTheAudienceAndSendsEachOnce) {
  for (int i = 0; i < 5; ++i) AddContact("c" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}});
  EXPECT_EQ(c.state, CampaignState::kScheduled);
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), 5u);
  // A contact who joins after the start is not mailed by this occurrence.
  AddContact("late@example.com");
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 5u);
  EXPECT_EQ(audience_.resolved, 1);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
  std::set<std::string> keys;
  for (const Sent& s : mailer_.sent) keys.insert(s.key);
  EXPECT_EQ(keys.size(), 5u);
  EXPECT_TRUE(mailer_.sent[0].key.starts_with("campaign:" + std::to_string(c.id) + ":"));
  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& occ = report->at("occurrences").as_array().at(0).as_object();
  EXPECT_EQ(occ.at("recipients").as_int64(), 5);
  EXPECT_EQ(occ.at("variants").as_array().at(0).as_object().at("sent").as_int64(), 5);
  EXPECT_EQ(occ.at("state").as_string(), "done");
}

TEST_F(CampaignServiceTest, AtSendsNothingBeforeItsTimeAndEveryoneOnceAfter) {
  for (int i = 0; i < 3; ++i) AddContact("a" + std::to_string(i) + "@example.com");
  const Timestamp at = *ParseTimestamp("2026-10-13T09:30:00Z");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "at"}, {"at", "2026-10-13T09:30:00Z"}}}});
  RunUntil(at - 1min);
  EXPECT_TRUE(mailer_.sent.empty());
  EXPECT_EQ(audience_.resolved, 0);  // not frozen before its time
  EXPECT_EQ(State(c.id), CampaignState::kScheduled);
  // The audience is frozen at the start: a contact who joins before it is mailed.
  ContactId joined = AddContact("joined@example.com");
  RunUntil(at + 2h);
  ASSERT_EQ(mailer_.sent.size(), 4u);
  std::set<ContactId> got;
  for (const Sent& s : mailer_.sent) {
    EXPECT_EQ(s.at, at) << s.contact;
    EXPECT_TRUE(got.insert(s.contact).second) << "sent twice: " << s.contact;
  }
  EXPECT_TRUE(got.contains(joined));
  EXPECT_EQ(audience_.resolved, 1);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
  RunUntil(at + 48h);
  EXPECT_EQ(mailer_.sent.size(), 4u);
}

TEST_F(CampaignServiceTest, LocalSendsEachContactAtItsOwnWallTime) {
  // 13 October 2026: Paris is on UTC+2, New York on UTC-4; a contact without a zone takes the
  // schedule's (Tokyo, UTC+9).
  ContactId paris = AddContact("paris@example.com", "Europe/Paris");
  ContactId new_york = AddContact("ny@example.com", "America/New_York");
  ContactId tokyo = AddContact("nozone@example.com");
  Campaign c = MakeCampaign(
      {{"schedule",
        json::object{{"type", "local"}, {"local_time", "2026-10-13T10:00"}, {"timezone", "Asia/Tokyo"}}}});
  const std::map<ContactId, std::string> zones{
      {paris, "Europe/Paris"}, {new_york, "America/New_York"}, {tokyo, "Asia/Tokyo"}};
  auto contacts = [&] {
    std::vector<ContactId> out;
    for (const Sent& s : mailer_.sent) out.push_back(s.contact);
    return out;
  };
  RunUntil(*ParseTimestamp("2026-10-13T00:59:00Z"));
  EXPECT_TRUE(mailer_.sent.empty());
  RunUntil(*ParseTimestamp("2026-10-13T07:59:00Z"));
  EXPECT_EQ(contacts(), std::vector<ContactId>{tokyo});
  RunUntil(*ParseTimestamp("2026-10-13T13:59:00Z"));
  EXPECT_EQ(contacts(), (std::vector<ContactId>{tokyo, paris}));
  RunUntil(*ParseTimestamp("2026-10-15T00:00:00Z"));
  ASSERT_EQ(contacts(), (std::vector<ContactId>{tokyo, paris, new_york}));
  EXPECT_EQ(FormatTimestamp(mailer_.sent[0].at), "2026-10-13T01:00:00Z");
  EXPECT_EQ(FormatTimestamp(mailer_.sent[1].at), "2026-10-13T08:00:00Z");
  EXPECT_EQ(FormatTimestamp(mailer_.sent[2].at), "2026-10-13T14:00:00Z");
  for (const Sent& s : mailer_.sent) {
    LocalDateTime local = ToLocal(s.at, zones.at(s.contact));
    EXPECT_EQ(FormatLocalDateTime(local), "2026-10-13T10:00:00") << zones.at(s.contact);
  }
  EXPECT_EQ(audience_.resolved, 1);  // one occurrence, one frozen audience
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

TEST_F(CampaignServiceTest, ScheduleRefusesASenderTheSendServiceRefuses) {
  AddContact("r@example.com");
  mailer_.refused_senders = {7};
  json::object doc{{"name", "weekly"},
                   {"template", "news"},
                   {"audience", json::object{{"include_segments", json::array{"all"}}}},
                   {"sender_id", 7},
                   {"schedule", json::object{{"type", "now"}}}};
  auto c = service_->Create(ws_, doc);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto refused = service_->Schedule(ws_, c->id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(refused.error().field, "sender_id");
  EXPECT_NE(refused.error().message.find("DKIM"), std::string::npos) << refused.error().message;
  ASSERT_EQ(mailer_.sender_checks.size(), 1u);
  ASSERT_TRUE(mailer_.sender_checks[0].first.has_value());
  EXPECT_EQ(*mailer_.sender_checks[0].first, 7);
  EXPECT_EQ(mailer_.sender_checks[0].second, MessageClass::kMarketing);
  // Still a draft: nothing frozen, nothing sent.
  EXPECT_EQ(State(c->id), CampaignState::kDraft);
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(audience_.resolved, 0);
  EXPECT_TRUE(store_->campaigns().ListOccurrences(ws_, c->id)->empty());
  EXPECT_EQ(mailer_.calls, 0);
  EXPECT_TRUE(mailer_.sent.empty());
  // With a sender it accepts, the same campaign schedules and sends.
  doc["sender_id"] = 8;
  ASSERT_TRUE(service_->Update(ws_, c->id, doc).ok());
  auto scheduled = service_->Schedule(ws_, c->id);
  ASSERT_TRUE(scheduled.ok()) << scheduled.error().message;
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 1u);
}

TEST_F(CampaignServiceTest, WeeklyAtEachContactsLocalTenAcrossDstForSixWeeks) {
  // Paris leaves summer time on 25 October, New York on 1 November; Tokyo has none.
  std::map<ContactId, std::string> zones;
  for (const char* tz : {"Europe/Paris", "America/New_York", "Asia/Tokyo"})
    for (int i = 0; i < 2; ++i)
      zones[AddContact(std::string(tz).substr(0, 4) + std::to_string(i) + "@example.com", tz)] = tz;
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "recurring"},
                                                       {"rrule", "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;COUNT=6"},
                                                       {"dtstart", "2026-10-13T10:00"},
                                                       {"timezone", "Europe/Paris"},
                                                       {"local", true}}}});
  RunUntil(*ParseTimestamp("2026-12-01T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), 6u * zones.size());
  std::map<ContactId, std::set<std::string>> days;
  for (const Sent& s : mailer_.sent) {
    LocalDateTime local = ToLocal(s.at, zones[s.contact]);
    EXPECT_EQ(local.hour, 10) << FormatTimestamp(s.at) << " " << zones[s.contact];
    EXPECT_EQ(local.minute, 0);
    days[s.contact].insert(FormatLocalDateTime(local).substr(0, 10));
  }
  for (const auto& [contact, d] : days)
    EXPECT_EQ(d, (std::set<std::string>{"2026-10-13", "2026-10-20", "2026-10-27", "2026-11-03", "2026-11-10",
                                        "2026-11-17"}));
  auto occs = store_->campaigns().ListOccurrences(ws_, c.id);
  ASSERT_EQ(occs->size(), 6u);
  for (const auto& o : *occs) EXPECT_EQ(o.state, OccurrenceState::kDone);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
  EXPECT_EQ(audience_.resolved, 6);  // one frozen audience per occurrence
}

TEST_F(CampaignServiceTest, PauseStopsNewBatchesResumeContinuesNoneTwice) {
  for (int i = 0; i < 10; ++i) AddContact("p" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}, {"throttle_per_minute", 3}});
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), 3u);  // the first minute's budget
  ASSERT_TRUE(service_->Pause(ws_, c.id).ok());
  clock_.Advance(10min);
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 3u);
  EXPECT_EQ(State(c.id), CampaignState::kPaused);
  ASSERT_TRUE(service_->Resume(ws_, c.id).ok());
  // A send that queues and then fails before the marks: the retry sends the same keys.
  mailer_.fail_after_queueing = 1;
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 10u);
  std::set<ContactId> got;
  for (const Sent& s : mailer_.sent) EXPECT_TRUE(got.insert(s.contact).second) << "sent twice: " << s.contact;
  EXPECT_EQ(State(c.id), CampaignState::kDone);
  EXPECT_EQ(service_->Resume(ws_, c.id).error().code, ErrorCode::kConflict);
}

TEST_F(CampaignServiceTest, CancelStopsForGood) {
  for (int i = 0; i < 6; ++i) AddContact("x" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}, {"throttle_per_minute", 2}});
  ASSERT_TRUE(service_->Step().ok());
  ASSERT_TRUE(service_->Cancel(ws_, c.id).ok());
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(store_->campaigns().ListOccurrences(ws_, c.id)->at(0).state, OccurrenceState::kCancelled);
  EXPECT_EQ(service_->Resume(ws_, c.id).error().code, ErrorCode::kConflict);
}

TEST_F(CampaignServiceTest, ThrottleIsTheCampaignsAcrossOverlappingOccurrences) {
  // Daily at each contact's 10:00: Honolulu (UTC-10) gets 13 October's occurrence at 20:00 UTC,
  // the very instant Kiritimati (UTC+14) gets 14 October's, so two occurrences send at once.
  std::set<ContactId> honolulu, kiritimati;
  for (int i = 0; i < 5; ++i) {
    honolulu.insert(AddContact("hnl" + std::to_string(i) + "@example.com", "Pacific/Honolulu"));
    kiritimati.insert(AddContact("cxi" + std::to_string(i) + "@example.com", "Pacific/Kiritimati"));
  }
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "recurring"},
                                                       {"rrule", "FREQ=DAILY;BYHOUR=10;COUNT=2"},
                                                       {"dtstart", "2026-10-13T10:00"},
                                                       {"timezone", "UTC"},
                                                       {"local", true}}},
                             {"throttle_per_minute", 3}});
  RunUntil(*ParseTimestamp("2026-10-16T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), 20u);  // 10 contacts, 2 occurrences
  std::set<std::string> keys;
  for (const Sent& s : mailer_.sent) EXPECT_TRUE(keys.insert(s.key).second) << "sent twice: " << s.key;
  // The campaign's combined rate: no 60 seconds hold more than 3 of its messages.
  for (const Sent& s : mailer_.sent) {
    int64_t in_minute = std::count_if(mailer_.sent.begin(), mailer_.sent.end(),
                                      [&](const Sent& o) { return o.at >= s.at && o.at < s.at + 1min; });
    EXPECT_LE(in_minute, 3) << "from " << FormatTimestamp(s.at);
  }
  // The occurrences did overlap: both sent from 20:00 UTC on 13 October, the 10 messages in 4 minutes.
  const Timestamp overlap = *ParseTimestamp("2026-10-13T20:00:00Z");
  std::set<std::string> occurrences;  // "campaign:<id>:<occurrence>:"
  std::set<ContactId> contacts;
  for (const Sent& s : mailer_.sent) {
    if (s.at < overlap || s.at >= overlap + 1h) continue;
    occurrences.insert(s.key.substr(0, s.key.rfind(':') + 1));
    contacts.insert(s.contact);
    EXPECT_LT(s.at, overlap + 4min) << s.key;
  }
  EXPECT_EQ(occurrences.size(), 2u);
  std::set<ContactId> everyone = honolulu;
  everyone.insert(kiritimati.begin(), kiritimati.end());
  EXPECT_EQ(contacts, everyone);  // Honolulu's 13 October and Kiritimati's 14 October
  auto occs = store_->campaigns().ListOccurrences(ws_, c.id);
  ASSERT_TRUE(occs.ok());
  ASSERT_EQ(occs->size(), 2u);
  for (const auto& o : *occs) EXPECT_EQ(o.state, OccurrenceState::kDone);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

// Issue 19: "a throttle per campaign"; "pause, kill -9 and resume send each message exactly once".
// The throttle's minute lives in the process; a new process seeds it from the messages the outbox
// queued for the campaign in the last 60 s, so a restart within a minute adds no budget to it.
TEST_F(CampaignServiceTest, Issue19ThrottleSurvivesARestartWithinItsMinute) {
  mailer_.outbox = &store_->outbox();
  for (int i = 0; i < 8; ++i) AddContact("r" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}, {"throttle_per_minute", 3}});
  const Timestamp t0 = clock_.Now();
  ASSERT_TRUE(service_->Step().ok());
  ASSERT_EQ(mailer_.sent.size(), 3u);  // the first minute's budget
  // Paused, the process killed, a new one on the same store at the same moment, resumed.
  ASSERT_TRUE(service_->Pause(ws_, c.id).ok());
  service_ = std::make_unique<CampaignService>(*store_, clock_, CampaignPorts{&mailer_, &audience_, nullptr});
  ASSERT_TRUE(service_->Resume(ws_, c.id).ok());
  auto ticked = service_->Step();
  ASSERT_TRUE(ticked.ok()) << ticked.error().message;
  EXPECT_EQ(*ticked, 1u);              // the new process ticked the campaign
  EXPECT_EQ(mailer_.sent.size(), 3u);  // and sent nothing more in that minute
  auto next = store_->work().NextDue(kCampaignQueue);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(**next, t0 + 1min);  // it comes back when the minute ends
  clock_.Set(t0 + 59s);
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), 3u);
  clock_.Set(t0 + 1min);
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), 6u);  // the next minute: its whole budget
  RunUntil(t0 + 1h);
  ASSERT_EQ(mailer_.sent.size(), 8u);
  std::set<ContactId> got;
  for (const Sent& s : mailer_.sent) EXPECT_TRUE(got.insert(s.contact).second) << "sent twice: " << s.contact;
  for (const Sent& s : mailer_.sent) {
    int64_t in_minute = std::count_if(mailer_.sent.begin(), mailer_.sent.end(),
                                      [&](const Sent& o) { return o.at >= s.at && o.at < s.at + 1min; });
    EXPECT_LE(in_minute, 3) << "from " << FormatTimestamp(s.at);
  }
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

// Issue 19: the seeded minute is the one the campaign was in (it opened at its earliest send of
// the last 60 s), not a minute from the restart: 40 s in, the new process waits 20 s, not 60.
TEST_F(CampaignServiceTest, Issue19AfterARestartTheMinuteEndsAMinuteAfterItsFirstSend) {
  mailer_.outbox = &store_->outbox();
  for (int i = 0; i < 6; ++i) AddContact("m" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}, {"throttle_per_minute", 3}});
  const Timestamp t0 = clock_.Now();
  ASSERT_TRUE(service_->Step().ok());
  ASSERT_EQ(mailer_.sent.size(), 3u);
  clock_.Set(t0 + 40s);
  ASSERT_TRUE(service_->Pause(ws_, c.id).ok());
  service_ = std::make_unique<CampaignService>(*store_, clock_, CampaignPorts{&mailer_, &audience_, nullptr});
  ASSERT_TRUE(service_->Resume(ws_, c.id).ok());
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), 3u);
  auto next = store_->work().NextDue(kCampaignQueue);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(**next, t0 + 1min);
  RunUntil(t0 + 1h);
  ASSERT_EQ(mailer_.sent.size(), 6u);
  EXPECT_EQ(mailer_.sent[3].at, t0 + 1min);
  EXPECT_EQ(mailer_.sent[5].at, t0 + 1min);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

TEST_F(CampaignServiceTest, HoldoutGetsNothingButStaysInTheReport) {
  for (int i = 0; i < 400; ++i) AddContact("h" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}, {"holdout_share", 0.1}});
  RunUntil(clock_.Now() + 1h);
  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& occ = report->at("occurrences").as_array().at(0).as_object();
  int64_t held = occ.at("holdout").as_object().at("recipients").as_int64();
  EXPECT_GT(held, 20);
  EXPECT_LT(held, 65);
  EXPECT_EQ(static_cast<int64_t>(mailer_.sent.size()), 400 - held);
  EXPECT_TRUE(occ.at("lift").is_object());
}

TEST_F(CampaignServiceTest, ExperimentPicksTheBetterVariantAndSendsItToTheRest) {
  for (int i = 0; i < 600; ++i) AddContact("e" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign(
      {{"schedule", json::object{{"type", "now"}}},
       {"variants",
        json::array{json::object{{"name", "plain"}, {"template", "news"}, {"subject", "News"}},
                    json::object{{"name", "bold"}, {"template", "news"}, {"subject", "Big news!"}}}},
       {"experiment", json::object{{"test_share", 0.5},
                                   {"metric", "clicks"},
                                   {"wait_minutes", 60},
                                   {"min_recipients", 100},
                                   {"probability", 0.9}}}});
  ASSERT_TRUE(service_->Step().ok());
  size_t test_sent = mailer_.sent.size();
  EXPECT_GT(test_sent, 240u);
  EXPECT_LT(test_sent, 360u);
  // Synthetic engagement: "bold" is clicked by 40% of its recipients, "plain" by 10%.
  std::vector<NewEvent> clicks;
  std::map<std::string, int> n;
  for (const Sent& s : mailer_.sent) {
    int k = n[s.variant]++;
    if (k % 10 < (s.variant == "bold" ? 4 : 1)) {
      NewEvent e;
      e.contact.id = s.contact;
      e.name = "email_clicked";
      e.properties = json::object{{"message_id", s.id}, {"machine", false}};
      clicks.push_back(std::move(e));
    }
  }
  ASSERT_TRUE(store_->events().Append(ws_, clicks, clock_.Now()).ok());
  clock_.Advance(30min);
  ASSERT_TRUE(service_->Step().ok());
  EXPECT_EQ(mailer_.sent.size(), test_sent);  // still waiting
  RunUntil(clock_.Now() + 2h);
  EXPECT_EQ(mailer_.sent.size(), 600u);
  for (size_t i = test_sent; i < mailer_.sent.size(); ++i) EXPECT_EQ(mailer_.sent[i].variant, "bold");
  auto occ = store_->campaigns().ListOccurrences(ws_, c.id)->at(0);
  json::object d = json::parse(occ.decision).as_object();
  EXPECT_EQ(d.at("winner").as_string(), "bold");
  EXPECT_NE(json::value_to<std::string>(d.at("reason")).find("variant bold wins"), std::string::npos)
      << d.at("reason");
  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok());
  const auto& e = report->at("occurrences").as_array().at(0).as_object().at("experiment").as_object();
  EXPECT_GT(e.at("probability_best").as_object().at("bold").as_double(), 0.9);
  EXPECT_FALSE(e.at("srm_warning").as_bool());
}

TEST_F(CampaignServiceTest, EqualVariantsDeclareNoWinnerAndSendTheFallback) {
  for (int i = 0; i < 300; ++i) AddContact("q" + std::to_string(i) + "@example.com");
  Campaign c = MakeCampaign(
      {{"schedule", json::object{{"type", "now"}}},
       {"variants", json::array{json::object{{"name", "A"}, {"template", "news"}},
                                json::object{{"name", "B"}, {"template", "news"}, {"subject", "Other"}}}},
       {"experiment", json::object{{"test_share", 0.5}, {"wait_minutes", 10}, {"fallback", "B"}}}});
  RunUntil(clock_.Now() + 1h);
  EXPECT_EQ(mailer_.sent.size(), 300u);
  auto occ = store_->campaigns().ListOccurrences(ws_, c.id)->at(0);
  json::object d = json::parse(occ.decision).as_object();
  EXPECT_TRUE(d.at("winner").is_null());
  EXPECT_EQ(d.at("send_variant").as_string(), "B");
  EXPECT_FALSE(d.at("reason").as_string().empty());
}

class HourAdvisor final : public SendTimeAdvisor {
 public:
  // Contact n's best moment: n hours into the window (clamped to it).
  Result<SendTimeChoice> BestTime(WorkspaceId, ContactId contact, Timestamp start,
                                  Timestamp end) const override {
    SendTimeChoice c;
    c.at = std::min(start + std::chrono::hours(contact), end - std::chrono::minutes(1));
    c.personal = true;
    return c;
  }
};

TEST_F(CampaignServiceTest, SendTimeOptimizedWithinTheWindowAndAtATime) {
  HourAdvisor advisor;
  service_ =
      std::make_unique<CampaignService>(*store_, clock_, CampaignPorts{&mailer_, &audience_, &advisor});
  std::vector<ContactId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(AddContact("s" + std::to_string(i) + "@example.com"));
  Campaign c = MakeCampaign(
      {{"schedule",
        json::object{{"type", "sto"}, {"at", "2026-10-13T00:00:00Z"}, {"until", "2026-10-14T00:00:00Z"}}}});
  RunUntil(*ParseTimestamp("2026-10-15T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), ids.size());
  Timestamp start = *ParseTimestamp("2026-10-13T00:00:00Z");
  for (const Sent& s : mailer_.sent) EXPECT_EQ(s.at, start + std::chrono::hours(s.contact)) << s.contact;
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

// Contact n's best moment: (n mod 12) hours into the window.
class ModuloAdvisor final : public SendTimeAdvisor {
 public:
  Result<SendTimeChoice> BestTime(WorkspaceId, ContactId contact, Timestamp start, Timestamp) const override {
    SendTimeChoice c;
    c.at = start + std::chrono::hours(contact % 12);
    c.personal = true;
    return c;
  }
};

// Send time as an experiment variant: STO against the scheduled time in one campaign. The
// optimized variant's test recipients go at their best hours; each is judged over the same wait
// after its own send; the winner's rest goes at each contact's best hour after the decision, and
// the report says whether STO helped.
TEST_F(CampaignServiceTest, SendTimeIsAVariantAndTheWinnersRestGoesAtEachBestHour) {
  ModuloAdvisor advisor;
  service_ =
      std::make_unique<CampaignService>(*store_, clock_, CampaignPorts{&mailer_, &audience_, &advisor});
  for (int i = 0; i < 600; ++i) AddContact("t" + std::to_string(i) + "@example.com");
  const Timestamp t0 = clock_.Now();
  Campaign c = MakeCampaign(
      {{"schedule", json::object{{"type", "now"}}},
       {"send_time_window_hours", 24},
       {"variants",
        json::array{json::object{{"name", "fixed"}, {"template", "news"}},
                    json::object{{"name", "sto"}, {"template", "news"}, {"send_time", "optimized"}}}},
       {"experiment", json::object{{"test_share", 0.5},
                                   {"metric", "clicks"},
                                   {"wait_minutes", 60},
                                   {"min_recipients", 100},
                                   {"probability", 0.9}}}});
  RunUntil(t0 + 11h + 30min);  // every test send is out (the last at t0 + 11h), no decision yet
  size_t test_sent = mailer_.sent.size();
  EXPECT_GT(test_sent, 240u);
  EXPECT_LT(test_sent, 360u);
  std::vector<NewEvent> clicks;
  std::map<std::string, int> n;
  for (const Sent& s : mailer_.sent) {
    if (s.variant == "fixed") EXPECT_EQ(s.at, t0) << s.contact;
    if (s.variant == "sto") EXPECT_EQ(s.at, t0 + std::chrono::hours(s.contact % 12)) << s.contact;
    // "sto" is clicked by 40% of its recipients, "fixed" by 10%, a minute after each send.
    int k = n[s.variant]++;
    if (k % 10 < (s.variant == "sto" ? 4 : 1)) {
      NewEvent e;
      e.contact.id = s.contact;
      e.name = "email_clicked";
      e.occurred_at = s.at + 1min;
      e.properties = json::object{{"message_id", s.id}, {"machine", false}};
      clicks.push_back(std::move(e));
    }
  }
  ASSERT_TRUE(store_->events().Append(ws_, clicks, clock_.Now()).ok());
  RunUntil(t0 + 13h);  // the last test send was at t0 + 11h: decided at t0 + 12h
  auto occ = store_->campaigns().ListOccurrences(ws_, c.id)->at(0);
  ASSERT_FALSE(occ.decision.empty());
  json::object d = json::parse(occ.decision).as_object();
  EXPECT_EQ(d.at("winner").as_string(), "sto");
  const Timestamp decided = *ParseTimestamp(std::string(d.at("decided_at").as_string()));
  RunUntil(t0 + 48h);
  ASSERT_EQ(mailer_.sent.size(), 600u);
  for (size_t i = test_sent; i < mailer_.sent.size(); ++i) {
    EXPECT_EQ(mailer_.sent[i].variant, "sto");
    EXPECT_EQ(mailer_.sent[i].at, decided + std::chrono::hours(mailer_.sent[i].contact % 12));
  }
  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok());
  const auto& e = report->at("occurrences").as_array().at(0).as_object().at("experiment").as_object();
  EXPECT_EQ(e.at("send_time").at("verdict").as_string(), "helped");
  EXPECT_NE(e.at("send_time").at("summary").as_string().find("Send-time optimization helped"),
            std::string::npos);
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

// Morning against evening (issue 19): variants sent at a local time of day. Each test recipient
// gets its variant at the first 09:00 or 18:00 in its own zone at or after the scheduled moment
// (Paris leaves summer time in between: its 09:00 is then 08:00 UTC, not 07:00), never before; the
// winner is chosen the wait after the later variant's last send; the rest gets the winner at each
// contact's next 18:00 after the decision; the report compares the two times of day.
TEST_F(CampaignServiceTest, TimeOfDayVariantsSendAtEachContactsLocalTimeAcrossDst) {
  std::map<ContactId, std::string> zones;
  for (int i = 0; i < 100; ++i) {
    zones[AddContact("par" + std::to_string(i) + "@example.com", "Europe/Paris")] = "Europe/Paris";
    zones[AddContact("nyc" + std::to_string(i) + "@example.com", "America/New_York")] = "America/New_York";
  }
  // 24 October 2026 at 20:00 UTC: 22:00 in Paris (summer time ends at 03:00 the next morning),
  // 16:00 in New York.
  Campaign c = MakeCampaign(
      {{"schedule", json::object{{"type", "at"}, {"at", "2026-10-24T20:00:00Z"}}},
       {"variants",
        json::array{json::object{{"name", "morning"}, {"template", "news"}, {"send_time", "09:00"}},
                    json::object{{"name", "evening"}, {"template", "news"}, {"send_time", "18:00"}}}},
       {"experiment", json::object{{"test_share", 0.5},
                                   {"metric", "clicks"},
                                   {"wait_minutes", 60},
                                   {"min_recipients", 10},
                                   {"probability", 0.9}}}});
  // When each test message is due, by zone and variant.
  const std::map<std::pair<std::string, std::string>, std::string> due{
      {{"Europe/Paris", "morning"}, "2026-10-25T08:00:00Z"},       // 09:00 CET, the next day
      {{"Europe/Paris", "evening"}, "2026-10-25T17:00:00Z"},       // 18:00 CET, the next day
      {{"America/New_York", "morning"}, "2026-10-25T13:00:00Z"},   // 09:00 EDT, the next day
      {{"America/New_York", "evening"}, "2026-10-24T22:00:00Z"}};  // 18:00 EDT, the same day
  RunUntil(*ParseTimestamp("2026-10-24T21:59:00Z"));
  EXPECT_TRUE(mailer_.sent.empty());  // frozen at 20:00, nothing due before New York's 18:00
  EXPECT_EQ(audience_.resolved, 1);
  RunUntil(*ParseTimestamp("2026-10-25T17:30:00Z"));  // every test message is out (the last at 17:00)
  auto occs = store_->campaigns().ListOccurrences(ws_, c.id);
  ASSERT_TRUE(occs.ok());
  ASSERT_EQ(occs->size(), 1u);
  EXPECT_TRUE(occs->at(0).decision.empty());
  auto recipients = store_->campaigns().Recipients(occs->at(0).id, 0, 1000);
  ASSERT_TRUE(recipients.ok());
  size_t tests = 0;
  for (const CampaignRecipient& r : *recipients) tests += r.arm == RecipientArm::kTest;
  EXPECT_GT(tests, 60u);
  EXPECT_LT(tests, 140u);
  ASSERT_EQ(mailer_.sent.size(), tests);  // the test portion only: the rest waits for the winner
  std::map<std::pair<std::string, std::string>, int> cells;
  for (const Sent& s : mailer_.sent) {
    const std::string& zone = zones.at(s.contact);
    EXPECT_EQ(FormatTimestamp(s.at), due.at({zone, s.variant})) << zone << " " << s.variant;
    LocalDateTime local = ToLocal(s.at, zone);
    EXPECT_EQ(local.hour, s.variant == "morning" ? 9 : 18) << zone << " " << s.variant;
    EXPECT_EQ(local.minute, 0);
    ++cells[{zone, s.variant}];
  }
  EXPECT_EQ(cells.size(), 4u);  // both variants in both zones
  // "evening" is clicked by 60% of its recipients, "morning" by 10%, a minute after each send.
  std::vector<NewEvent> clicks;
  std::map<std::string, int> n;
  for (const Sent& s : mailer_.sent) {
    int k = n[s.variant]++;
    if (k % 10 < (s.variant == "evening" ? 6 : 1)) {
      NewEvent e;
      e.contact.id = s.contact;
      e.name = "email_clicked";
      e.occurred_at = s.at + 1min;
      e.properties = json::object{{"message_id", s.id}, {"machine", false}};
      clicks.push_back(std::move(e));
    }
  }
  ASSERT_TRUE(store_->events().Append(ws_, clicks, clock_.Now()).ok());
  // The wait starts at the later variant's last send (Paris's 18:00, 17:00 UTC), not the first's.
  RunUntil(*ParseTimestamp("2026-10-25T17:59:00Z"));
  EXPECT_TRUE(store_->campaigns().ListOccurrences(ws_, c.id)->at(0).decision.empty());
  RunUntil(*ParseTimestamp("2026-10-25T18:30:00Z"));
  auto occ = store_->campaigns().ListOccurrences(ws_, c.id)->at(0);
  ASSERT_FALSE(occ.decision.empty());
  json::object d = json::parse(occ.decision).as_object();
  EXPECT_EQ(d.at("winner").as_string(), "evening");
  EXPECT_EQ(d.at("decided_at").as_string(), "2026-10-25T18:00:00Z");
  EXPECT_EQ(mailer_.sent.size(), tests);  // the rest is not sent at once: it waits for its 18:00
  RunUntil(*ParseTimestamp("2026-10-27T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), zones.size());
  std::set<ContactId> got;
  for (const Sent& s : mailer_.sent) EXPECT_TRUE(got.insert(s.contact).second) << "sent twice: " << s.contact;
  for (size_t i = tests; i < mailer_.sent.size(); ++i) {
    const Sent& s = mailer_.sent[i];
    const std::string& zone = zones.at(s.contact);
    EXPECT_EQ(s.variant, "evening");
    // The first 18:00 after the decision: New York's the same evening, Paris's the next day.
    EXPECT_EQ(FormatTimestamp(s.at), zone == "Europe/Paris" ? "2026-10-26T17:00:00Z" : "2026-10-25T22:00:00Z")
        << zone;
  }
  EXPECT_EQ(State(c.id), CampaignState::kDone);
  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& e = report->at("occurrences").as_array().at(0).as_object().at("experiment").as_object();
  const auto& st = e.at("send_time").as_object();
  const auto& groups = st.at("groups").as_array();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups.at(0).at("send_time").as_string(), "09:00");
  EXPECT_EQ(groups.at(0).at("variants").as_array().at(0).as_string(), "morning");
  EXPECT_EQ(groups.at(1).at("send_time").as_string(), "18:00");
  EXPECT_GT(groups.at(1).at("value").as_double(), groups.at(0).at("value").as_double());
  EXPECT_GT(groups.at(1).at("probability_best").as_double(), 0.9);
  EXPECT_EQ(st.at("best").as_string(), "18:00");
  EXPECT_EQ(st.at("reference").as_string(), "09:00");
  const auto& cmp = st.at("comparisons").as_array().at(0).as_object();
  EXPECT_EQ(cmp.at("send_time").as_string(), "18:00");
  EXPECT_EQ(cmp.at("verdict").as_string(), "helped");
  EXPECT_NE(cmp.at("summary").as_string().find("Sending at 18:00 local time helped"), std::string::npos)
      << cmp.at("summary");
  EXPECT_FALSE(st.contains("verdict"));  // no optimized variant: nothing to say about STO
}

// One variant at a time of day: no experiment, each contact at its next 18:00 (a contact without a
// zone in the schedule's); pause holds the per-recipient due times and resume sends each once.
TEST_F(CampaignServiceTest, ATimeOfDayWithoutAnExperimentPausesAndResumes) {
  ContactId tokyo = AddContact("tokyo@example.com", "Asia/Tokyo");
  ContactId nozone = AddContact("nozone@example.com");
  // 12 October 2026, 00:00 UTC: 09:00 in Tokyo; 20:00 on the 11th in New York.
  Campaign c =
      MakeCampaign({{"schedule", json::object{{"type", "now"}, {"timezone", "America/New_York"}}},
                    {"variants", json::array{json::object{{"template", "news"}, {"send_time", "18:00"}}}}});
  RunUntil(*ParseTimestamp("2026-10-12T08:59:00Z"));
  EXPECT_TRUE(mailer_.sent.empty());
  RunUntil(*ParseTimestamp("2026-10-12T09:00:00Z"));  // Tokyo's 18:00
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].contact, tokyo);
  EXPECT_EQ(FormatTimestamp(mailer_.sent[0].at), "2026-10-12T09:00:00Z");
  ASSERT_TRUE(service_->Pause(ws_, c.id).ok());
  RunUntil(*ParseTimestamp("2026-10-13T00:00:00Z"));  // New York's 18:00 (22:00 UTC) passes paused
  EXPECT_EQ(mailer_.sent.size(), 1u);
  ASSERT_TRUE(service_->Resume(ws_, c.id).ok());
  RunUntil(*ParseTimestamp("2026-10-14T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(mailer_.sent[1].contact, nozone);
  EXPECT_EQ(FormatTimestamp(mailer_.sent[1].at), "2026-10-13T00:00:00Z");  // at the resume, once
  EXPECT_EQ(State(c.id), CampaignState::kDone);
}

TEST_F(CampaignServiceTest, ASendTimeIsScheduledOptimizedOrATimeOfDay) {
  for (const char* bad : {"25:00", "24:00", "9:00", "18:00:00", "evening"}) {
    json::object doc{{"name", "x"},
                     {"audience", json::object{{"include_topics", json::array{"n"}}}},
                     {"variants", json::array{json::object{{"template", "news"}},
                                              json::object{{"template", "news"}, {"send_time", bad}}}}};
    auto r = service_->Create(ws_, doc);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "variants[1].send_time") << bad;
    EXPECT_NE(r.error().message.find("HH:MM"), std::string::npos) << r.error().message;
  }
  // A "sto" schedule already chooses every send time.
  auto sto = service_->Create(ws_, json::parse(R"({"name":"x","audience":{"include_topics":["n"]},
      "schedule":{"type":"sto","at":"2026-10-13T00:00:00Z","until":"2026-10-14T00:00:00Z"},
      "variants":[{"template":"news","send_time":"18:00"},{"template":"news"}]})"));
  ASSERT_FALSE(sto.ok());
  EXPECT_EQ(sto.error().field, "variants[0].send_time");
  // Written back as given.
  auto ok = service_->Create(ws_, json::parse(R"({"name":"x","audience":{"include_topics":["n"]},
      "variants":[{"name":"morning","template":"news","send_time":"09:00"},
                  {"name":"evening","template":"news","send_time":"18:30"},
                  {"template":"news","send_time":"optimized"},{"template":"news"}]})"));
  ASSERT_TRUE(ok.ok()) << ok.error().field << ": " << ok.error().message;
  json::object settings = CampaignService::ToJson(*ok).at("settings").as_object();
  const auto& vs = settings.at("variants").as_array();
  ASSERT_EQ(vs.size(), 4u);
  EXPECT_EQ(vs.at(0).at("send_time").as_string(), "09:00");
  EXPECT_EQ(vs.at(1).at("send_time").as_string(), "18:30");
  EXPECT_EQ(vs.at(2).at("send_time").as_string(), "optimized");
  EXPECT_EQ(vs.at(3).at("send_time").as_string(), "scheduled");
  auto parsed = ParseCampaign(json::value(settings));
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->variants.at(1).local_send_time.has_value());
  EXPECT_EQ(*parsed->variants.at(1).local_send_time, (TimeOfDay{18, 30}));
  EXPECT_FALSE(parsed->variants.at(1).optimized_send_time);
  EXPECT_FALSE(parsed->variants.at(2).local_send_time.has_value());
}

TEST_F(CampaignServiceTest, AMissedRecurringOccurrenceIsSkippedNotSentLate) {
  AddContact("m@example.com");
  // Daily at 09:00 UTC since 1 October; the node starts on 12 October at 00:00: the ten days
  // missed by more than a day are skipped; 11 October (15 hours late) is sent now, 12 October on time.
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "recurring"},
                                                       {"rrule", "FREQ=DAILY;BYHOUR=9;COUNT=20"},
                                                       {"dtstart", "2026-10-01T09:00"}}}});
  RunUntil(*ParseTimestamp("2026-10-13T00:00:00Z"));
  ASSERT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(FormatTimestamp(mailer_.sent[0].at), "2026-10-12T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(mailer_.sent[1].at), "2026-10-12T09:00:00Z");
  auto occs = store_->campaigns().ListOccurrences(ws_, c.id);
  ASSERT_EQ(occs->size(), 2u);
  EXPECT_EQ(occs->at(0).seq, 11);
  EXPECT_EQ(occs->at(1).seq, 12);
}

TEST_F(CampaignServiceTest, SettingsAreCheckedWithTheirPath) {
  auto bad = service_->Create(ws_, json::parse(R"({"name":"x","template":"news","audience":{}})"));
  EXPECT_EQ(bad.error().field, "audience.include_segments");
  bad =
      service_->Create(ws_, json::parse(R"({"name":"x","template":"news","audience":{"include_topics":["n"]},
                                              "schedule":{"type":"recurring","rrule":"FREQ=YEARLY","dtstart":"2026-12-01T10:00"}})"));
  EXPECT_EQ(bad.error().field, "schedule.rrule");
  bad =
      service_->Create(ws_, json::parse(R"({"name":"x","template":"news","audience":{"include_topics":["n"]},
                                              "holdout_share":0.9})"));
  EXPECT_EQ(bad.error().field, "holdout_share");
  bad = service_->Create(ws_, json::parse(R"({"name":"x","audience":{"include_topics":["n"]},
      "variants":[{"template":"news"},{"template":"news","send_time":"later"}]})"));
  EXPECT_EQ(bad.error().field, "variants[1].send_time");
  bad = service_->Create(ws_, json::parse(R"({"name":"x","audience":{"include_topics":["n"]},
      "schedule":{"type":"sto","at":"2026-10-13T00:00:00Z","until":"2026-10-14T00:00:00Z"},
      "variants":[{"template":"news"},{"template":"news","send_time":"optimized"}]})"));
  EXPECT_EQ(bad.error().field, "variants[1].send_time");
  bad =
      service_->Create(ws_, json::parse(R"({"name":"x","template":"news","audience":{"include_topics":["n"]},
      "send_time_window_hours":0})"));
  EXPECT_EQ(bad.error().field, "send_time_window_hours");
  auto ok = service_->Create(
      ws_, json::parse(R"({"name":"x","template":"missing","audience":{"include_topics":["n"]}})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(service_->Schedule(ws_, ok->id).error().field, "template");
  auto unknown = service_->Create(
      ws_,
      json::parse(
          R"({"name":"y","template":"news","audience":{"include_segments":["all"],"exclude_segments":["gone"]}})"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(service_->Schedule(ws_, unknown->id).error().field, "audience.exclude_segments[0]");
  auto proof = service_->SendProof(ws_, ok->id, {"a@example.com"});
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(mailer_.proofs, 1u);
  EXPECT_TRUE(mailer_.sent.empty());
}

// The global holdout's report over the real profile index (the segment service), with the port as
// app/ wires it.
class IndexOutcomes final : public OutcomeSource {
 public:
  explicit IndexOutcomes(segment::SegmentService& segments) : segments_(segments) {}
  Status ForEachContact(WorkspaceId ws, const std::string& event, const std::string& property, Timestamp from,
                        Timestamp to, const std::function<void(ContactId, int64_t, double)>& fn) override {
    return segments_.ForEachEventTotals(ws, event, property, ToMicros(from), ToMicros(to), fn);
  }

 private:
  segment::SegmentService& segments_;
};

TEST_F(CampaignServiceTest, TheGlobalHoldoutReportComparesTheProgrammeWithTheContactsHeldOut) {
  segment::SegmentService segments(*store_, clock_);
  ASSERT_TRUE(segments.Start(false, false).ok());
  IndexOutcomes outcomes(segments);
  service_ = std::make_unique<CampaignService>(*store_, clock_,
                                               CampaignPorts{&mailer_, &audience_, nullptr, &outcomes});

  // No holdout yet: the report says how to set one, and measures nothing.
  auto none = service_->ProgrammeReport(ws_, std::nullopt, std::nullopt);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->at("lift").is_null());
  EXPECT_NE(json::value_to<std::string>(none->at("summary")).find("global_holdout"), std::string::npos);

  GovernorPolicy policy = DefaultPolicy();
  policy.global_holdout = 0.2;
  ASSERT_TRUE(store_->governor().SetPolicy(ws_, json::serialize(PolicyToJson(policy))).ok());

  // 1,500 contacts; held-out ones convert 1 in 25, the others 1 in 8 (by their order of creation,
  // independent of the holdout's hash), each order worth 10 + i % 7.
  struct Expected {
    int64_t contacts = 0, converters = 0, conversions = 0;
    double revenue = 0;
  } held, treated;
  std::vector<NewEvent> orders;
  for (int i = 0; i < 1500; ++i) {
    ContactId id = AddContact("p" + std::to_string(i) + "@example.com");
    const bool in_holdout = InGlobalHoldout(ws_, id, 0.2);
    Expected& e = in_holdout ? held : treated;
    ++e.contacts;
    if (i % (in_holdout ? 25 : 8) != 0) continue;
    const int n = i % 3 == 0 ? 2 : 1;  // some convert twice
    ++e.converters;
    for (int k = 0; k < n; ++k) {
      NewEvent o;
      o.contact.id = id;
      o.name = "order_placed";
      o.properties = json::object{{"total", 10 + i % 7}};
      o.occurred_at = clock_.Now() + std::chrono::hours(24 * 8 + k);
      orders.push_back(std::move(o));
      ++e.conversions;
      e.revenue += 10 + i % 7;
    }
  }
  ASSERT_GT(held.contacts, 200);
  ASSERT_GT(treated.contacts, 1000);
  clock_.Advance(std::chrono::hours(24 * 10));
  // An order before the period counts for nothing.
  NewEvent old;
  old.contact.id = *audience_.members.begin();
  old.name = "order_placed";
  old.properties = json::object{{"total", 1000}};
  old.occurred_at = clock_.Now() - std::chrono::hours(24 * 45);
  orders.push_back(std::move(old));
  ASSERT_TRUE(store_->events().Append(ws_, orders, clock_.Now()).ok());
  // A contact created today is outside a period that ends yesterday.
  AddContact("late@example.com");

  const int64_t today = LocalDayOf("UTC", clock_.Now());
  auto r = service_->ProgrammeReport(ws_, std::nullopt, today - 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json::object& h = r->at("holdout").as_object();
  const json::object& t = r->at("treated").as_object();
  EXPECT_EQ(h.at("contacts").as_int64(), held.contacts);
  EXPECT_EQ(h.at("converters").as_int64(), held.converters);
  EXPECT_EQ(h.at("conversions").as_int64(), held.conversions);
  EXPECT_DOUBLE_EQ(h.at("revenue").to_number<double>(), held.revenue);
  EXPECT_EQ(t.at("contacts").as_int64(), treated.contacts);
  EXPECT_EQ(t.at("converters").as_int64(), treated.converters);
  EXPECT_EQ(t.at("conversions").as_int64(), treated.conversions);
  EXPECT_DOUBLE_EQ(t.at("revenue").to_number<double>(), treated.revenue);
  EXPECT_DOUBLE_EQ(t.at("conversion_rate").to_number<double>(),
                   static_cast<double>(treated.converters) / static_cast<double>(treated.contacts));
  EXPECT_EQ(r->at("verdict").as_string(), "helped");
  const json::object& lift = r->at("lift").at("conversion").as_object();
  EXPECT_GT(lift.at("low").to_number<double>(), 0);
  EXPECT_NEAR(lift.at("absolute").to_number<double>(),
              static_cast<double>(treated.converters) / static_cast<double>(treated.contacts) -
                  static_cast<double>(held.converters) / static_cast<double>(held.contacts),
              1e-9);
  EXPECT_NE(json::value_to<std::string>(r->at("summary")).find("The marketing programme helped"),
            std::string::npos);

  // The late contact counts from today; the old order is outside every period checked above.
  auto now = service_->ProgrammeReport(ws_, std::nullopt, std::nullopt);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->at("holdout").at("contacts").as_int64() + now->at("treated").at("contacts").as_int64(),
            held.contacts + treated.contacts + 1);
  auto wide = service_->ProgrammeReport(ws_, today - 60, today);
  ASSERT_TRUE(wide.ok());
  EXPECT_DOUBLE_EQ(wide->at("holdout").at("revenue").to_number<double>() +
                       wide->at("treated").at("revenue").to_number<double>(),
                   held.revenue + treated.revenue + 1000);

  auto bad = service_->ProgrammeReport(ws_, today, today - 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "from");
  EXPECT_EQ(service_->ProgrammeReport(ws_, today - 2000, today).error().field, "from");
  segments.Stop();
}

// The report reads each recipient's outcome events by name from the occurrence's start: a
// recipient with 2,500 page views after its delivery, open and order still counts as delivered,
// opened and converted (only the newest 2,000 events were read before), and an order from before
// the campaign does not count.
TEST_F(CampaignServiceTest, ABusyRecipientStillCountsAsOpenedAndConverted) {
  ContactId ada = AddContact("ada@example.com");  // delivered, opens, orders, then browses a lot
  ContactId bob = AddContact("bob@example.com");  // delivered, browses as much
  auto append = [&](std::vector<NewEvent> events) {
    auto r = store_->events().Append(ws_, events, clock_.Now());
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (const AppendResult& a : *r) ASSERT_EQ(a.outcome, AppendOutcome::kAccepted);
  };
  auto event = [](ContactId c, std::string name, json::object props) {
    NewEvent e;
    e.contact.id = c;
    e.name = std::move(name);
    e.properties = std::move(props);
    return e;
  };
  append({event(ada, "order_placed", json::object{{"total", 500}})});  // before the campaign
  clock_.Advance(1min);
  Campaign c = MakeCampaign({{"schedule", json::object{{"type", "now"}}}});
  RunUntil(clock_.Now() + 1min);
  ASSERT_EQ(mailer_.sent.size(), 2u);
  std::map<ContactId, MessageId> message;
  for (const Sent& s : mailer_.sent) message[s.contact] = s.id;
  clock_.Advance(1min);
  append({event(ada, "message.sent", json::object{{"message_id", message[ada]}}),
          event(bob, "message.sent", json::object{{"message_id", message[bob]}}),
          event(ada, "email_opened", json::object{{"message_id", message[ada]}, {"machine", false}}),
          event(ada, "order_placed", json::object{{"total", 30}})});
  clock_.Advance(1min);
  std::vector<NewEvent> views;
  for (ContactId who : {ada, bob})
    for (int i = 0; i < 2500; ++i)
      views.push_back(event(who, "page_viewed", json::object{{"path", "/p/" + std::to_string(i)}}));
  append(std::move(views));
  clock_.Advance(1h);

  auto report = service_->Report(ws_, c.id);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& v =
      report->at("occurrences").as_array().at(0).as_object().at("variants").as_array().at(0).as_object();
  EXPECT_EQ(v.at("sent").as_int64(), 2);
  EXPECT_EQ(v.at("delivered").as_int64(), 2);
  EXPECT_EQ(v.at("opens_human").as_int64(), 1);
  EXPECT_EQ(v.at("conversions").as_int64(), 1);
  EXPECT_EQ(v.at("converters").as_int64(), 1);
  EXPECT_DOUBLE_EQ(v.at("revenue").to_number<double>(), 30.0);
}

}  // namespace
}  // namespace rapport::campaign
