// Journeys end to end on a fake clock with the real parts: a SQLite store, the one send service
// and its outbox, the recipes and their templates, and a webhook receiver on loopback.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "app/journey_setup.h"
#include "automation/journey_service.h"
#include "automation/recipes.h"
#include "mail/header.h"
#include "segment/segment_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::app {
namespace {

using automation::JourneyService;

Timestamp At(const char* text) { return *ParseTimestamp(text); }

class JourneysE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_.emplace(clock_, "shop");
    store_ = temp_->store.get();
    ws_ = temp_->workspace;
    links_.emplace(std::move(tracking::LinkSigner::Create(std::string(32, 'k'))).value());
    send::SendOptions options;
    options.sender.from = *mail::ParseMailbox("from", "Shop <hello@shop.example>");
    options.public_url = "https://mail.shop.example";
    sender_.emplace(*store_, clock_, *links_, std::move(options));
    mailer_.emplace(*store_, *sender_, clock_);
    registry_ = BuildStepRegistry();
    journeys_.emplace(*store_, clock_, *registry_, automation::JourneyPorts{&*mailer_, nullptr, &webhooks_});
    ASSERT_TRUE(journeys_->Step().ok());  // the consumer's first start: at the head of the log
  }
  void TearDown() override {
    journeys_.reset();
    membership_.reset();
    segments_.reset();
    temp_.reset();
  }
  // Journeys with the real segment service behind their segments port (entry.expression,
  // branches on an expression), as `rapport serve` wires them.
  void UseSegments() {
    journeys_.reset();
    segments_.emplace(*store_, clock_);
    ASSERT_TRUE(segments_->Start(/*run_thread=*/false, /*emit=*/false).ok());
    membership_.emplace(*segments_);
    journeys_.emplace(*store_, clock_, *registry_,
                      automation::JourneyPorts{&*mailer_, &*membership_, &webhooks_});
    ASSERT_TRUE(journeys_->Step().ok());
  }
  ContactId AddContact(const std::string& email, json::object attributes = {}, std::string tz = "") {
    ContactInput in;
    in.email = email;
    in.attributes = std::move(attributes);
    if (!tz.empty()) in.timezone = tz;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c->id;
  }
  void Post(ContactId c, const std::string& name, json::object props) {
    NewEvent e;
    e.contact.id = c;
    e.contact.create_contact = false;
    e.name = name;
    e.properties = std::move(props);
    auto r = store_->events().Append(ws_, {e}, clock_.Now());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->at(0).outcome, AppendOutcome::kAccepted);
  }
  void Run() {
    auto r = journeys_->Step();
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  void Advance(Micros d) {
    clock_.Advance(d);
    Run();
  }
  Journey Install(const std::string& recipe, json::object options = {}) {
    auto r = automation::InstallRecipe(*journeys_, ws_, recipe, options);
    EXPECT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
    return r->journey;
  }
  // The outbox's messages to `c`, oldest first: their template names.
  std::vector<std::string> Mail(ContactId c) {
    std::vector<std::string> out;
    EventQuery q;
    q.limit = 1000;
    auto page = store_->events().ListForContact(ws_, c, q);
    EXPECT_TRUE(page.ok());
    for (auto it = page->items.rbegin(); it != page->items.rend(); ++it)
      if (it->name == "message.queued") {
        const json::value* t = it->properties.if_contains("template");
        out.push_back(t && t->is_string() ? std::string(t->get_string()) : "?");
      }
    return out;
  }
  // The id of the first message queued to `c` (its timeline is newest first).
  int64_t FirstMessageTo(ContactId c) {
    EventQuery q;
    q.limit = 100;
    auto page = store_->events().ListForContact(ws_, c, q);
    EXPECT_TRUE(page.ok());
    int64_t id = 0;
    for (const Event& e : page->items)
      if (e.name == "message.queued") id = e.properties.at("message_id").as_int64();
    return id;
  }
  void AddTemplate(const std::string& name) {
    MessageTemplate t;
    t.workspace_id = ws_;
    t.name = name;
    t.subject = "Hi";
    t.text = "Hello";
    ASSERT_TRUE(store_->templates().Create(t).ok());
  }
  JourneyStatsRow VersionStats(JourneyId id, int version = 1) {
    auto rows = store_->journeys().Stats(ws_, id);
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows)
      if (r.step.empty() && r.version == version) return r;
    return {};
  }

  FakeClock clock_{At("2026-03-01T00:00:00Z")};
  std::optional<TempSqliteStore> temp_;
  Store* store_ = nullptr;
  WorkspaceId ws_ = 0;
  std::optional<tracking::LinkSigner> links_;
  std::optional<send::SendService> sender_;
  std::optional<SendServiceMailer> mailer_;
  HttpWebhookClient webhooks_;
  std::unique_ptr<automation::StepRegistry> registry_;
  std::optional<segment::SegmentService> segments_;
  std::optional<SegmentServiceMembership> membership_;
  std::optional<JourneyService> journeys_;
};

TEST_F(JourneysE2E, AbandonedCartSendsTwoRemindersWithoutAPurchaseAndNoneAfterOne) {
  Journey cart = Install("abandoned_cart");
  ContactId ada = AddContact("ada@example.com");
  ContactId bob = AddContact("bob@example.com");
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});
  Post(bob, "cart_updated", json::object{{"cart_id", "c-2"}});
  Run();
  EXPECT_TRUE(Mail(ada).empty());
  Advance(std::chrono::minutes(30));
  Post(bob, "order_placed", json::object{{"cart_id", "c-2"}, {"total", 42.5}});
  Run();
  Advance(std::chrono::minutes(30));
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"cart-reminder"});
  Advance(std::chrono::hours(24));
  EXPECT_EQ(Mail(ada), (std::vector<std::string>{"cart-reminder", "cart-reminder-discount"}));
  Advance(std::chrono::hours(72));
  EXPECT_EQ(Mail(ada).size(), 2u);
  EXPECT_TRUE(Mail(bob).empty());
  JourneyStatsRow s = VersionStats(cart.id);
  EXPECT_EQ(s.entered, 2);
  EXPECT_EQ(s.completed, 1);
  EXPECT_EQ(s.converted, 1);
  EXPECT_EQ(s.revenue_cents, 4250);
  auto runs = store_->journeys().ContactRuns(ws_, bob, 10);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0).state, RunState::kConverted);
}

TEST_F(JourneysE2E, OneLiveRunPerCartAndANewCartIsANewRun) {
  Install("abandoned_cart",
          json::object{{"steps", json::object{{"wait_1h", json::object{{"duration", "10s"}}}}}});
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});  // the same cart again
  Post(ada, "cart_updated", json::object{{"cart_id", "c-9"}});
  Run();
  EXPECT_EQ(store_->journeys().LiveRuns(ws_, ada)->size(), 2u);
  Advance(std::chrono::seconds(10));
  EXPECT_EQ(Mail(ada).size(), 2u);
}

TEST_F(JourneysE2E, BirthdayOnceAYearAtNineLocalAcrossDaylightSaving) {
  // Paris changes to summer time on 29 March 2026: 09:00 is 08:00 UTC before, 07:00 UTC after.
  ContactId ada = AddContact("ada@example.com", json::object{{"birthday", "1990-03-30"}}, "Europe/Paris");
  ContactId bob = AddContact("bob@example.com", json::object{{"birthday", "1985-03-02"}}, "Europe/Paris");
  Install("birthday");
  Run();
  clock_.Set(At("2026-03-02T07:59:00Z"));
  Run();
  EXPECT_TRUE(Mail(bob).empty());
  clock_.Set(At("2026-03-02T08:00:00Z"));
  Run();
  EXPECT_EQ(Mail(bob).size(), 1u);
  clock_.Set(At("2026-03-30T06:59:00Z"));
  Run();
  EXPECT_TRUE(Mail(ada).empty());
  clock_.Set(At("2026-03-30T07:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"birthday"});
  clock_.Set(At("2027-03-30T06:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 1u);
  clock_.Set(At("2027-03-30T07:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 2u);
  EXPECT_EQ(Mail(bob).size(), 2u);  // 2 March 2027 came on the way
}

// Issue 18: the sign-up anniversary recipe fires at 09:00 in the contact's timezone one year after
// the sign-up, once a year, and not on the sign-up day itself (a sign-up at 07:00 local time was
// "anniversaried" at 09:00 the same day before).
TEST_F(JourneysE2E, SignUpAnniversaryAtNineLocalAYearLaterAndOnceAYear) {
  Install("signup_anniversary");
  Run();
  clock_.Set(At("2026-03-10T06:00:00Z"));  // 07:00 in Paris
  ContactId ada = AddContact("ada@example.com", {}, "Europe/Paris");
  Run();
  clock_.Set(At("2026-03-10T08:00:00Z"));  // 09:00 in Paris, the sign-up day
  Run();
  clock_.Set(At("2026-12-31T12:00:00Z"));
  Run();
  EXPECT_TRUE(Mail(ada).empty());
  clock_.Set(At("2027-03-10T07:59:00Z"));
  Run();
  EXPECT_TRUE(Mail(ada).empty());
  clock_.Set(At("2027-03-10T08:00:00Z"));  // 09:00 in Paris (winter time) a year later
  Run();
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"signup-anniversary"});
  clock_.Set(At("2027-03-11T08:00:00Z"));
  Run();
  clock_.Set(At("2027-12-31T12:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 1u);  // once that year
  clock_.Set(At("2028-03-10T08:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 2u);
}

// A sign-up on 29 February is remembered on 28 February in common years (local_time.h), on the
// 29th in leap years, and never on 1 March as well.
TEST_F(JourneysE2E, SignUpAnniversaryOf29FebruaryIsThe28thInCommonYears) {
  Install("signup_anniversary");
  Run();
  clock_.Set(At("2028-02-29T10:00:00Z"));  // 11:00 in Paris
  ContactId ada = AddContact("ada@example.com", {}, "Europe/Paris");
  Run();
  clock_.Set(At("2029-02-28T07:59:00Z"));
  Run();
  EXPECT_TRUE(Mail(ada).empty());
  clock_.Set(At("2029-02-28T08:00:00Z"));  // 09:00 in Paris
  Run();
  EXPECT_EQ(Mail(ada).size(), 1u);
  clock_.Set(At("2029-03-01T08:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 1u);
  for (const char* at : {"2030-02-28T08:00:00Z", "2031-02-28T08:00:00Z"}) {
    clock_.Set(At(at));
    Run();
  }
  EXPECT_EQ(Mail(ada).size(), 3u);
  clock_.Set(At("2032-02-28T08:00:00Z"));  // a leap year: the 29th
  Run();
  EXPECT_EQ(Mail(ada).size(), 3u);
  clock_.Set(At("2032-02-29T08:00:00Z"));
  Run();
  EXPECT_EQ(Mail(ada).size(), 4u);
}

// Issue 18: entry rules and branches on a segment EXPRESSION, evaluated by the real segment
// service over the real store's events: the entry expression reads an attribute (and sees a
// change of it), the branch counts events; a bad expression is refused at its path.
TEST_F(JourneysE2E, AnEntryExpressionAndABranchExpressionDecideOnRealEvents) {
  UseSegments();
  AddTemplate("pro-loyal");
  AddTemplate("pro-new");
  ContactId ada = AddContact("ada@example.com", json::object{{"plan", "pro"}});
  ContactId bob = AddContact("bob@example.com", json::object{{"plan", "pro"}});
  ContactId cat = AddContact("cat@example.com", json::object{{"plan", "free"}});

  auto bad = journeys_->Create(ws_, json::parse(R"({"name":"x","trigger":{"type":"api"},
      "entry":{"expression":"pln = \"pro\""},"steps":[{"id":"a","kind":"exit"}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(bad.error().field, "entry.expression");
  EXPECT_NE(bad.error().message.find("line 1, column 1"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("'plan'"), std::string::npos) << bad.error().message;  // the hint
  auto bad_branch = journeys_->Create(ws_, json::parse(R"({"name":"x","trigger":{"type":"api"},
      "steps":[{"id":"b","kind":"branch","if":{"expression":"plan ="},"then":"a"},{"id":"a","kind":"exit"}]})"));
  ASSERT_FALSE(bad_branch.ok());
  EXPECT_EQ(bad_branch.error().field, "steps[0].if.expression");
  EXPECT_NE(bad_branch.error().message.find("line 1, column"), std::string::npos)
      << bad_branch.error().message;

  auto j = journeys_->Create(ws_, json::parse(R"({"name":"pro_onboarding",
      "trigger":{"type":"event","event":"plan_chosen"},
      "entry":{"expression":"plan = \"pro\""},
      "steps":[{"id":"b","kind":"branch","if":{"expression":"at least 2 order_placed"},
                "then":"loyal","else":"new"},
               {"id":"loyal","kind":"send","template":"pro-loyal","class":"marketing"},
               {"id":"new","kind":"send","template":"pro-new","class":"marketing"}]})"));
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  for (ContactId c : {ada, ada, bob, cat, cat}) Post(c, "order_placed", json::object{{"total", 10}});
  for (ContactId c : {ada, bob, cat}) Post(c, "plan_chosen", {});
  Run();
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"pro-loyal"});  // pro, two orders
  EXPECT_EQ(Mail(bob), std::vector<std::string>{"pro-new"});    // pro, one order
  EXPECT_TRUE(Mail(cat).empty());                               // not pro: refused at entry
  EXPECT_TRUE(store_->journeys().LiveRuns(ws_, cat)->empty());
  // Cat moves to pro: the compiled expression sees the change.
  ContactInput patch;
  patch.attributes = json::object{{"plan", "pro"}};
  ASSERT_TRUE(store_->contacts().Update(ws_, cat, patch, json::object{{"via", "test"}}).ok());
  Post(cat, "plan_chosen", {});
  Run();
  EXPECT_EQ(Mail(cat), std::vector<std::string>{"pro-loyal"});
}

// The re-engagement recipe: 60 days without a human open or click, then two nudges a week apart
// and `lifecycle: lapsed`; a person who opens the first nudge is back (`active`) and gets no
// second one; an open before the 60 days moves the whole count, and a proxy's open moves nothing.
TEST_F(JourneysE2E, ReEngagementNudgesTwiceThenLapsesAndAnOpenBringsAContactBack) {
  Install("re_engagement");
  ContactId ada = AddContact("ada@example.com");  // never opens
  ContactId bob = AddContact("bob@example.com");  // opens the first nudge
  ContactId cat = AddContact("cat@example.com");  // opens a newsletter on day 30
  ContactId dan = AddContact("dan@example.com");  // only Apple's proxy fetches on day 30
  Run();
  auto opened = [&](ContactId c, int64_t message_id, bool machine) {
    Post(c, "email_opened", json::object{{"message_id", message_id}, {"machine", machine}});
  };
  auto attribute = [&](ContactId c) -> std::string {
    auto got = store_->contacts().Get(ws_, c);
    EXPECT_TRUE(got.ok());
    const json::value* v = got->attributes.if_contains("lifecycle");
    return v && v->is_string() ? std::string(v->get_string()) : "";
  };
  Advance(std::chrono::hours(24 * 30));
  opened(cat, 999, false);
  opened(dan, 998, true);
  Run();
  Advance(std::chrono::hours(24 * 30) + std::chrono::minutes(1));  // day 60
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"reengage-1"});
  EXPECT_EQ(Mail(bob), std::vector<std::string>{"reengage-1"});
  EXPECT_EQ(Mail(dan), std::vector<std::string>{"reengage-1"});  // a machine open is not activity
  EXPECT_TRUE(Mail(cat).empty());                                // 30 days since her open
  // Bob opens the nudge (the message its run sent).
  const int64_t nudge = FirstMessageTo(bob);
  ASSERT_GT(nudge, 0);
  Advance(std::chrono::hours(24));
  opened(bob, nudge, false);
  Run();
  Advance(std::chrono::hours(24 * 6) + std::chrono::minutes(1));  // the first wait ends
  EXPECT_EQ(Mail(ada), (std::vector<std::string>{"reengage-1", "reengage-2"}));
  EXPECT_EQ(Mail(bob), std::vector<std::string>{"reengage-1"});
  EXPECT_EQ(attribute(bob), "active");
  Advance(std::chrono::hours(24 * 7) + std::chrono::minutes(1));  // the second wait ends
  EXPECT_EQ(attribute(ada), "lapsed");
  EXPECT_EQ(Mail(ada).size(), 2u);
  Advance(std::chrono::hours(24 * 16));  // day 90 for Cat: 60 days after her open
  EXPECT_EQ(Mail(cat), std::vector<std::string>{"reengage-1"});
}

TEST_F(JourneysE2E, EveryRecipeInstallsAndRunsItsFirstMessage) {
  for (const automation::Recipe& r : automation::Recipes()) {
    auto installed = automation::InstallRecipe(*journeys_, ws_, r.name, {});
    ASSERT_TRUE(installed.ok()) << r.name << ": " << installed.error().message;
    EXPECT_EQ(installed->journey.status, JourneyStatus::kActive);
  }
  ContactId ada = AddContact("ada@example.com", json::object{{"first_name", "Ada"}});
  Run();
  Post(ada, "password_reset_requested", json::object{{"reset_url", "https://shop.example/reset/abc"}});
  Post(ada, "order_placed", json::object{{"order_id", "A-1"}, {"total", 10}});
  Post(ada, "order_shipped", json::object{{"order_id", "A-1"}, {"tracking_number", "1Z999"}});
  Post(ada, "order_delivered", json::object{{"order_id", "A-1"}});
  Run();
  std::vector<std::string> mail = Mail(ada);
  for (const char* t : {"welcome-1", "password-reset", "order-confirmed", "shipping-notice"})
    EXPECT_NE(std::find(mail.begin(), mail.end(), t), mail.end()) << t;
  Advance(std::chrono::hours(24 * 3));  // welcome-2, then 4 days to welcome-3
  Advance(std::chrono::hours(24 * 4));
  Advance(std::chrono::hours(24 * 1));
  mail = Mail(ada);
  for (const char* t : {"welcome-2", "welcome-3", "review-request"})
    EXPECT_NE(std::find(mail.begin(), mail.end(), t), mail.end()) << t;
}

TEST_F(JourneysE2E, RunsInFlightFinishOnTheirVersion) {
  MessageTemplate a, b;
  a.workspace_id = b.workspace_id = ws_;
  a.name = "old-mail";
  b.name = "new-mail";
  a.subject = b.subject = "Hi";
  a.text = b.text = "Hello";
  ASSERT_TRUE(store_->templates().Create(a).ok());
  ASSERT_TRUE(store_->templates().Create(b).ok());
  auto v1 = json::parse(R"({"name":"nurture","trigger":{"type":"event","event":"joined"},"steps":[
      {"id":"w","kind":"wait","duration":"1h","next":"s"},
      {"id":"s","kind":"send","template":"old-mail","class":"transactional"}]})");
  auto v2 = json::parse(R"({"name":"nurture","trigger":{"type":"event","event":"joined"},"steps":[
      {"id":"s","kind":"send","template":"new-mail","class":"transactional"}]})");
  auto j = journeys_->Create(ws_, v1);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");
  ContactId bob = AddContact("bob@example.com");
  Post(ada, "joined", {});
  Run();
  auto updated = journeys_->Update(ws_, j->id, v2);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->version, 2);
  Post(bob, "joined", {});
  Run();
  EXPECT_EQ(Mail(bob), std::vector<std::string>{"new-mail"});
  EXPECT_TRUE(Mail(ada).empty());
  Advance(std::chrono::hours(1));
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"old-mail"});
  EXPECT_EQ(VersionStats(j->id, 1).completed, 1);
  EXPECT_EQ(VersionStats(j->id, 2).completed, 1);
}

TEST_F(JourneysE2E, APausedJourneyHoldsItsRunsAndResumeSendsThem) {
  Journey cart = Install("abandoned_cart");
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});
  Run();
  ASSERT_TRUE(journeys_->Pause(ws_, cart.id).ok());
  Advance(std::chrono::hours(2));
  EXPECT_TRUE(Mail(ada).empty());
  ASSERT_TRUE(journeys_->Resume(ws_, cart.id).ok());
  Advance(std::chrono::minutes(1));
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"cart-reminder"});
}

TEST_F(JourneysE2E, ACrashBetweenTheSendAndTheRunsWriteSendsOnce) {
  Install("password_reset");
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "password_reset_requested", json::object{{"reset_url", "https://x.example/r"}});
  Run();
  ASSERT_EQ(Mail(ada).size(), 1u);
  // The step again on the same run and visit, as after a kill before the run's write: the same
  // idempotency key, so the send service queues nothing new.
  auto runs = store_->journeys().ContactRuns(ws_, ada, 1);
  ASSERT_EQ(runs->size(), 1u);
  automation::SendAsk ask;
  ask.workspace_id = ws_;
  ask.contact_id = ada;
  ask.template_name = "password-reset";
  ask.message_class = MessageClass::kTransactional;
  ask.idempotency_key = automation::StepIdempotencyKey(runs->at(0), "link", 1);
  auto again = mailer_->Send(ask);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Mail(ada).size(), 1u);
}

// A receiver on loopback that answers 500 twice, then 200, and keeps what it was sent.
class FlakyReceiver {
 public:
  FlakyReceiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] {
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) {
          if (c >= 0) close(c);
          return;
        }
        std::string req;
        char buf[4096];
        while (true) {
          ssize_t n = read(c, buf, sizeof(buf));
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
          size_t head = req.find("\r\n\r\n");
          if (head == std::string::npos) continue;
          size_t cl = req.find("Content-Length: ");
          size_t want = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
          if (req.size() >= head + 4 + want) break;
        }
        int n = ++hits_;
        requests_.push_back(req);
        std::string status = n <= 2 ? "500 Internal Server Error" : "200 OK";
        std::string resp = "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!write(c, resp.data(), resp.size());
        close(c);
      }
    });
  }
  ~FlakyReceiver() {
    stop_ = true;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    (void)connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    close(c);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int hits() const { return hits_; }
  const std::vector<std::string>& requests() const { return requests_; }  // read after hits() settles

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> hits_{0};
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string Header(const std::string& req, const std::string& name) {
  size_t at = req.find(name + ": ");
  if (at == std::string::npos) return "";
  size_t end = req.find("\r\n", at);
  return req.substr(at + name.size() + 2, end - at - name.size() - 2);
}

TEST_F(JourneysE2E, AWebhookThatFailsTwiceIsRetriedAndSignedThenTheRunGoesOn) {
  FlakyReceiver receiver;
  std::string doc = fmt::format(
      R"({{"name":"crm_sync","trigger":{{"type":"event","event":"signed_up"}},"steps":[
      {{"id":"hook","kind":"webhook","url":"http://127.0.0.1:{}/hook","secret":"0123456789abcdef0123","next":"done"}},
      {{"id":"done","kind":"update","attributes":{{"synced":true}}}}]}})",
      receiver.port());
  auto j = journeys_->Create(ws_, json::parse(doc));
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "signed_up", {});
  Run();
  EXPECT_EQ(receiver.hits(), 1);
  Advance(std::chrono::seconds(30));
  EXPECT_EQ(receiver.hits(), 2);
  Advance(std::chrono::seconds(120));
  EXPECT_EQ(receiver.hits(), 3);
  Advance(std::chrono::hours(1));
  EXPECT_EQ(receiver.hits(), 3);
  auto contact = store_->contacts().Get(ws_, ada);
  EXPECT_EQ(contact->attributes.at("synced"), json::value(true));
  const std::string& last = receiver.requests().back();
  std::string body = last.substr(last.find("\r\n\r\n") + 4);
  int64_t ts = std::stoll(Header(last, "X-Rapport-Timestamp"));
  EXPECT_EQ(Header(last, "X-Rapport-Signature"), WebhookSignature("0123456789abcdef0123", ts, body));
  EXPECT_EQ(Header(receiver.requests()[0], "Idempotency-Key"), Header(last, "Idempotency-Key"));
  EXPECT_EQ(last.find("0123456789abcdef0123"), std::string::npos);  // the secret is never sent
}

TEST_F(JourneysE2E, RefusesBadDocumentsWithTheirPath) {
  auto r = journeys_->Create(ws_, json::parse(R"({"name":"x","trigger":{"type":"api"},"steps":[
      {"id":"a","kind":"send","template":"no-such-template"}]})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().field, "steps[0].template");
}

// Issue 18's speed work: a feed batch commits in one transaction, so a run entered by one event
// of the batch is seen (from the pending write) by the next: the order of the same cart, in the
// same batch, ends it as converted before it ever sends.
TEST_F(JourneysE2E, ACartAndItsOrderInOneFeedBatchConvertTheRunBeforeAnySend) {
  Journey cart = Install("abandoned_cart");
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});
  Post(ada, "order_placed", json::object{{"cart_id", "c-1"}, {"total", 10}});
  Post(ada, "cart_updated", json::object{{"cart_id", "c-2"}});
  Post(ada, "cart_updated", json::object{{"cart_id", "c-2"}});  // the same cart: no second run
  Run();
  Advance(std::chrono::hours(2));
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"cart-reminder"});  // c-2's only
  auto runs = store_->journeys().ContactRuns(ws_, ada, 10);
  ASSERT_EQ(runs->size(), 2u);
  const JourneyRun& c1 = runs->at(1);
  EXPECT_EQ(c1.run_key, "c-1");
  EXPECT_EQ(c1.state, RunState::kConverted);
  EXPECT_EQ(c1.revenue_cents, 1000);
  EXPECT_EQ(runs->at(0).run_key, "c-2");
  EXPECT_EQ(runs->at(0).state, RunState::kWaiting);
  JourneyStatsRow s = VersionStats(cart.id);
  EXPECT_EQ(s.entered, 2);
  EXPECT_EQ(s.converted, 1);
  // The conversion of the run entered in the same batch names the run's id, given at the write.
  EventQuery q;
  q.limit = 100;
  auto page = store_->events().ListForContact(ws_, ada, q);
  int converted = 0;
  for (const Event& e : page->items)
    if (e.name == "journey.converted") {
      ++converted;
      const json::value* id = e.properties.if_contains("run_id");
      ASSERT_NE(id, nullptr);
      EXPECT_EQ(id->as_int64(), c1.id);
    }
  EXPECT_EQ(converted, 1);
}

// Re-entry within one batch looks at this contact's and this journey's runs only: another
// contact's run entered in between does not stand in for the converted one.
TEST_F(JourneysE2E, ReentryInOneFeedBatchSeesOnlyTheContactsOwnPendingRuns) {
  Install("abandoned_cart");
  ContactId ada = AddContact("ada@example.com");
  ContactId bob = AddContact("bob@example.com");
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});
  Post(ada, "order_placed", json::object{{"cart_id", "c-1"}, {"total", 10}});
  Post(bob, "cart_updated", json::object{{"cart_id", "c-5"}});
  Post(ada, "cart_updated", json::object{{"cart_id", "c-1"}});  // re-entry is "always": a new run
  Run();
  auto runs = store_->journeys().ContactRuns(ws_, ada, 10);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(runs->at(0).state, RunState::kWaiting);
  EXPECT_EQ(runs->at(1).state, RunState::kConverted);
  EXPECT_EQ(store_->journeys().ContactRuns(ws_, bob, 10)->size(), 1u);
}

// A journey on "joined" that sends "hello" and ends at once (its run ends as it enters), with the
// entry rules `entry`.
std::string HelloJourney(std::string_view entry) {
  return fmt::format(R"({{"name":"hello","trigger":{{"type":"event","event":"joined"}},"entry":{},
      "steps":[{{"id":"hi","kind":"send","template":"hello","class":"transactional"}}]}})",
                     entry);
}

TEST_F(JourneysE2E, ReentryNeverStartsNoSecondRunAfterTheFirstEnded) {
  AddTemplate("hello");
  auto j = journeys_->Create(ws_, json::parse(HelloJourney(R"({"reentry":"never"})")));
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");
  ContactId bob = AddContact("bob@example.com");
  Post(ada, "joined", {});
  Run();
  auto runs = store_->journeys().ContactRuns(ws_, ada, 10);
  ASSERT_EQ(runs->size(), 1u);
  ASSERT_TRUE(RunEnded(runs->at(0).state));
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"hello"});
  Advance(std::chrono::hours(24 * 30));
  Post(ada, "joined", {});
  Post(bob, "joined", {});  // heard in the same pass: the trigger still starts a first run
  Run();
  EXPECT_EQ(store_->journeys().ContactRuns(ws_, ada, 10)->size(), 1u);
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"hello"});
  EXPECT_EQ(Mail(bob), std::vector<std::string>{"hello"});
  EXPECT_EQ(VersionStats(j->id).entered, 2);
}

// The cool-down counts from the last entry (docs/journeys.md); this journey's runs end as they
// enter, so it is also the time since the first run ended.
TEST_F(JourneysE2E, ReentryAfterACooldownIsRefusedWithinItAndAllowedAfterIt) {
  AddTemplate("hello");
  auto j = journeys_->Create(ws_, json::parse(HelloJourney(R"({"reentry":"cooldown","cooldown":"7d"})")));
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");
  Post(ada, "joined", {});
  Run();
  auto runs = store_->journeys().ContactRuns(ws_, ada, 10);
  ASSERT_EQ(runs->size(), 1u);
  ASSERT_TRUE(RunEnded(runs->at(0).state));
  Advance(std::chrono::hours(24));  // 1 day after: within the cool-down
  Post(ada, "joined", {});
  Run();
  EXPECT_EQ(store_->journeys().ContactRuns(ws_, ada, 10)->size(), 1u);
  EXPECT_EQ(Mail(ada), std::vector<std::string>{"hello"});
  Advance(std::chrono::hours(24 * 7));  // 8 days after: past it
  Post(ada, "joined", {});
  Run();
  EXPECT_EQ(store_->journeys().ContactRuns(ws_, ada, 10)->size(), 2u);
  EXPECT_EQ(Mail(ada), (std::vector<std::string>{"hello", "hello"}));
  EXPECT_EQ(VersionStats(j->id).entered, 2);
}

// Counts how sends reach the send service.
class CountingMailer final : public automation::Mailer {
 public:
  explicit CountingMailer(automation::Mailer& real) : real_(real) {}
  Result<automation::SendReply> Send(const automation::SendAsk& ask) override {
    ++singles;
    return real_.Send(ask);
  }
  std::vector<Result<automation::SendReply>> SendMany(const std::vector<automation::SendAsk>& asks) override {
    ++calls;
    batched += static_cast<int>(asks.size());
    return real_.SendMany(asks);
  }
  Result<std::string> PreviewSubject(const automation::SendAsk& ask) override {
    return real_.PreviewSubject(ask);
  }
  int singles = 0, calls = 0, batched = 0;

 private:
  automation::Mailer& real_;
};

// A claim batch queues its runs' first sends together (one SendBulk per template and step), each
// exactly once; a second pass over the same runs and visits (as after a kill before the runs'
// write) queues nothing new.
TEST_F(JourneysE2E, AClaimBatchQueuesItsSendsTogetherAndEachOnce) {
  CountingMailer counting(*mailer_);
  journeys_.emplace(*store_, clock_, *registry_, automation::JourneyPorts{&counting, nullptr, &webhooks_});
  Run();
  Install("password_reset");
  Install("order_confirmation");
  std::vector<ContactId> people;
  for (int i = 0; i < 150; ++i) {
    ContactId c = AddContact(fmt::format("p{}@example.com", i));
    people.push_back(c);
    Post(c, "password_reset_requested", json::object{{"reset_url", "https://x.example/r"}});
    Post(c, "order_placed", json::object{{"order_id", fmt::format("o-{}", i)}, {"total", 5}});
  }
  Run();
  for (ContactId c : people) {
    std::vector<std::string> mail = Mail(c);
    std::sort(mail.begin(), mail.end());
    EXPECT_EQ(mail, (std::vector<std::string>{"order-confirmed", "password-reset"})) << c;
  }
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kQueued), 300);
  EXPECT_EQ(counting.batched, 300);
  EXPECT_EQ(counting.singles, 0);
  EXPECT_LE(counting.calls, 2);
  // Every run is past its send, once.
  for (ContactId c : people) {
    auto runs = store_->journeys().ContactRuns(ws_, c, 10);
    ASSERT_EQ(runs->size(), 2u);
    for (const JourneyRun& r : *runs) EXPECT_TRUE(RunEnded(r.state)) << r.step;
  }
  // The same sends again (what a pass after a kill would make): replayed, nothing new queued.
  std::vector<automation::SendAsk> again;
  for (ContactId c : people) {
    auto runs = store_->journeys().ContactRuns(ws_, c, 10);
    for (const JourneyRun& r : *runs) {
      if (r.step != "link") continue;
      automation::SendAsk ask;
      ask.workspace_id = ws_;
      ask.contact_id = c;
      ask.template_name = "password-reset";
      ask.message_class = MessageClass::kTransactional;
      ask.source = fmt::format("journey:{}:link", r.journey_id);
      ask.idempotency_key = automation::StepIdempotencyKey(r, "link", 1);
      again.push_back(ask);
    }
  }
  ASSERT_EQ(again.size(), 150u);
  auto replies = mailer_->SendMany(again);
  for (const auto& r : replies) {
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->queued);
    EXPECT_TRUE(r->replayed);
  }
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kQueued), 300);
}

// A step with an effect (here an attribute update) before a send stops the batch's look-ahead:
// the send is made by the run itself, after the update, once.
TEST_F(JourneysE2E, AnUpdateBeforeASendIsMadeFirstAndTheSendOnce) {
  auto doc = json::parse(R"({"name":"tagged","trigger":{"type":"event","event":"signed_up"},
      "steps":[{"id":"tag","kind":"update","attributes":{"stage":"welcomed"},"next":"hi"},
               {"id":"hi","kind":"send","template":"password-reset","class":"transactional"}]})");
  Install("password_reset");  // for its template
  auto j = journeys_->Create(ws_, doc);
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");
  ContactId bob = AddContact("bob@example.com");
  Post(ada, "signed_up", {});
  Post(bob, "signed_up", {});
  Run();
  for (ContactId c : {ada, bob}) {
    EXPECT_EQ(Mail(c), std::vector<std::string>{"password-reset"});
    auto contact = store_->contacts().Get(ws_, c);
    const json::value* stage = contact->attributes.if_contains("stage");
    ASSERT_NE(stage, nullptr);
    EXPECT_EQ(stage->as_string(), "welcomed");
  }
}

// The "opened" branch reads the contact's opens and clicks by name from the store: an open of the
// run's message followed by 600 other events (page views) still takes the "opened" branch (it
// read only the newest 500 events before), and the same busy timeline without that open does not.
TEST_F(JourneysE2E, AnOpenFollowedBySixHundredOtherEventsStillTakesTheOpenedBranch) {
  AddTemplate("hello");
  auto j = journeys_->Create(ws_, json::parse(R"({"name":"follow_up",
      "trigger":{"type":"event","event":"signed_up"},
      "steps":[{"id":"hi","kind":"send","template":"hello","class":"marketing","next":"wait"},
               {"id":"wait","kind":"wait","duration":"1d","next":"seen"},
               {"id":"seen","kind":"branch","if":{"opened":true},"then":"warm","else":"cold"},
               {"id":"warm","kind":"update","attributes":{"engaged":"yes"}},
               {"id":"cold","kind":"update","attributes":{"engaged":"no"}}]})"));
  ASSERT_TRUE(j.ok()) << j.error().field << ": " << j.error().message;
  ASSERT_TRUE(journeys_->Activate(ws_, j->id).ok());
  ContactId ada = AddContact("ada@example.com");  // opens the message, then browses
  ContactId bob = AddContact("bob@example.com");  // browses as much, opens only another message
  Post(ada, "signed_up", {});
  Post(bob, "signed_up", {});
  Run();
  const int64_t to_ada = FirstMessageTo(ada), to_bob = FirstMessageTo(bob);
  ASSERT_GT(to_ada, 0);
  ASSERT_GT(to_bob, 0);
  Advance(std::chrono::hours(1));
  Post(ada, "email_opened", json::object{{"message_id", to_ada}, {"machine", false}});
  Post(bob, "email_opened", json::object{{"message_id", to_ada + to_bob + 1000}, {"machine", false}});
  Advance(std::chrono::minutes(1));
  for (ContactId c : {ada, bob}) {
    std::vector<NewEvent> views;
    for (int i = 0; i < 600; ++i) {
      NewEvent e;
      e.contact.id = c;
      e.contact.create_contact = false;
      e.name = "page_viewed";
      e.properties = json::object{{"path", "/p/" + std::to_string(i)}};
      views.push_back(std::move(e));
    }
    auto r = store_->events().Append(ws_, views, clock_.Now());
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (const AppendResult& a : *r) ASSERT_EQ(a.outcome, AppendOutcome::kAccepted);
  }
  Advance(std::chrono::hours(24));  // the wait ends: the branch reads the engagement
  auto engaged = [&](ContactId c) -> std::string {
    auto got = store_->contacts().Get(ws_, c);
    EXPECT_TRUE(got.ok());
    const json::value* v = got->attributes.if_contains("engaged");
    return v && v->is_string() ? std::string(v->get_string()) : "";
  };
  EXPECT_EQ(engaged(ada), "yes");
  EXPECT_EQ(engaged(bob), "no");
}

}  // namespace
}  // namespace rapport::app
