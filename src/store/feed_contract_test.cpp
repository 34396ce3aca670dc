// The store contract, continued: every change is an event committed with it, the feed (commit
// order, consumers' positions, the notifier), and ids that are never reused. Runs on SQLite and
// PostgreSQL like store_contract_test.cpp (the fixture is store_contract_fixture.h).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <thread>

#include "store/store_contract_fixture.h"

extern char** environ;

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

// The error code of a failed Result (nullopt when it succeeded).
template <typename T>
std::optional<ErrorCode> CodeOfResult(const Result<T>& r) {
  if (r.ok()) return std::nullopt;
  return r.error().code;
}

// Every event of the contact, oldest first.
std::vector<Event> Timeline(Store& store, WorkspaceId ws, ContactId c) {
  std::vector<Event> out;
  std::string cursor;
  do {
    auto page = store.events().ListForContact(ws, c, {.limit = 100, .cursor = cursor});
    EXPECT_TRUE(page.ok()) << page.error().message;
    if (!page.ok()) break;
    for (auto& e : page->items) out.push_back(e);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> Names(const std::vector<Event>& events) {
  std::vector<std::string> names;
  for (const Event& e : events) names.push_back(e.name);
  return names;
}

// Every event in the feed, in feed order.
std::vector<Event> ReadAll(FeedStore& feed, int batch = 1000) {
  std::vector<Event> out;
  int64_t after = 0;
  while (true) {
    auto events = feed.Read(after, batch);
    EXPECT_TRUE(events.ok()) << events.error().message;
    if (!events.ok() || events->empty()) return out;
    after = events->back().position;
    for (auto& e : *events) out.push_back(std::move(e));
  }
}

// ---- every change is an event ------------------------------------------------------------------

TEST_P(StoreContract, EveryContactChangeRecordsOneEventWithIt) {
  ContactInput in;
  in.email = "ada@example.com";
  in.attributes = json::object{{"plan", "free"}, {"seats", 1}};
  auto c = store_->contacts().Create(ws_, in);
  ASSERT_OK(c);
  auto events = Timeline(*store_, ws_, c->id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.created"}));
  EXPECT_EQ(events[0].properties.at("email"), "ada@example.com");
  EXPECT_EQ(events[0].properties.at("attributes").at("plan"), "free");

  // Attributes: the changed keys with old and new values; unchanged keys are not named.
  ContactInput patch;
  patch.attributes = json::object{{"plan", "pro"}, {"seats", 1}, {"seats_x", nullptr}, {"city", "Paris"}};
  ASSERT_OK(store_->contacts().Update(ws_, c->id, patch));
  events = Timeline(*store_, ws_, c->id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.created", "contact.updated"}));
  const json::object& changes = events[1].properties.at("changes").as_object();
  EXPECT_EQ(changes.at("attributes").at("plan"), (json::object{{"old", "free"}, {"new", "pro"}}));
  EXPECT_EQ(changes.at("attributes").at("city"), (json::object{{"old", nullptr}, {"new", "Paris"}}));
  EXPECT_FALSE(changes.at("attributes").as_object().contains("seats"));
  EXPECT_EQ(changes.size(), 1u);

  // The same patch again changes nothing and records nothing.
  ASSERT_OK(store_->contacts().Update(ws_, c->id, patch));
  EXPECT_EQ(Timeline(*store_, ws_, c->id).size(), 2u);

  // A removed attribute and a field.
  ContactInput patch2;
  patch2.attributes = json::object{{"city", nullptr}};
  patch2.timezone = "Europe/Paris";
  ASSERT_OK(store_->contacts().Update(ws_, c->id, patch2));
  events = Timeline(*store_, ws_, c->id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].properties.at("changes").at("attributes").at("city"),
            (json::object{{"old", "Paris"}, {"new", nullptr}}));
  EXPECT_EQ(events[2].properties.at("changes").at("timezone"),
            (json::object{{"old", nullptr}, {"new", "Europe/Paris"}}));

  // Status: its own event, with the origin the caller gave.
  ContactInput status;
  status.status = ContactStatus::kUnsubscribed;
  ASSERT_OK(store_->contacts().Update(ws_, c->id, status, json::object{{"via", "test"}}));
  events = Timeline(*store_, ws_, c->id);
  ASSERT_EQ(events.back().name, "contact.status_changed");
  EXPECT_EQ(events.back().properties.at("old"), "active");
  EXPECT_EQ(events.back().properties.at("new"), "unsubscribed");
  EXPECT_EQ(events.back().properties.at("origin").at("via"), "test");
  EXPECT_EQ(events.size(), 4u);

  // Upsert of an existing contact: an update.
  ContactInput up;
  up.email = "ada@example.com";
  up.locale = "fr";
  ASSERT_OK(store_->contacts().Upsert(ws_, up));
  EXPECT_EQ(Timeline(*store_, ws_, c->id).back().name, "contact.updated");
  EXPECT_EQ(Timeline(*store_, ws_, c->id).size(), 5u);

  // A write that fails records nothing: the event is committed with the change or not at all.
  MakeContact("other@example.com");
  ContactInput clash;
  clash.email = "other@example.com";
  clash.locale = "de";
  EXPECT_EQ(CodeOfResult(store_->contacts().Update(ws_, c->id, clash)), ErrorCode::kConflict);
  EXPECT_EQ(Timeline(*store_, ws_, c->id).size(), 5u);
}

TEST_P(StoreContract, SubscriptionChangesRecordTheirEventWithTheConsent) {
  Contact c = MakeContact("sub@example.com");
  ASSERT_OK(store_->topics().Create(ws_, Topic{.key = "news", .name = "News"}));
  Consent consent{
      .source = "form:signup", .at = kT0, .ip = "192.0.2.1", .user_agent = "UA", .text_version = "v2"};
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kSubscribed, consent));
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kUnsubscribed,
                                             Consent{.source = "preference_center"}));
  ASSERT_OK(store_->topics().DeleteSubscription(ws_, c.id, "news"));
  EXPECT_FALSE(store_->topics().DeleteSubscription(ws_, c.id, "news").ok());
  EXPECT_FALSE(
      store_->topics().SetSubscription(ws_, c.id, "nope", SubscriptionStatus::kSubscribed, consent).ok());
  auto events = Timeline(*store_, ws_, c.id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.created", "topic.subscribed",
                                                     "topic.unsubscribed", "topic.subscription_removed"}));
  EXPECT_EQ(events[1].properties.at("topic"), "news");
  EXPECT_EQ(events[1].properties.at("consent").at("source"), "form:signup");
  EXPECT_EQ(events[1].properties.at("consent").at("ip"), "192.0.2.1");
  EXPECT_EQ(events[1].properties.at("consent").at("text_version"), "v2");
  EXPECT_EQ(events[2].properties.at("consent").at("source"), "preference_center");
}

TEST_P(StoreContract, ImportRecordsOneEventPerContactItCreatesOrChanges) {
  Contact old = MakeContact("old@example.com", {{"plan", "free"}});
  Contact same = MakeContact("same@example.com", {{"plan", "free"}});
  std::vector<ContactInput> rows(4);
  rows[0].email = "new@example.com";
  rows[1].email = "old@example.com";
  rows[1].attributes = json::object{{"plan", "pro"}};
  rows[2].email = "same@example.com";
  rows[2].attributes = json::object{{"plan", "free"}};
  rows[3].email = "bad";
  int failed = 0;
  ASSERT_OK(store_->contacts().Import(ws_, rows,
                                      [&](size_t, const Result<UpsertResult>& r) { failed += !r.ok(); }));
  EXPECT_EQ(failed, 1);
  auto created = store_->contacts().GetByEmail(ws_, "new@example.com");
  ASSERT_OK(created);
  auto events = Timeline(*store_, ws_, created->id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.imported"}));
  EXPECT_EQ(events[0].properties.at("created"), true);
  events = Timeline(*store_, ws_, old.id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.created", "contact.imported"}));
  EXPECT_EQ(events[1].properties.at("created"), false);
  EXPECT_EQ(events[1].properties.at("changes").at("attributes").at("plan"),
            (json::object{{"old", "free"}, {"new", "pro"}}));
  EXPECT_EQ(Names(Timeline(*store_, ws_, same.id)), (std::vector<std::string>{"contact.created"}));
}

TEST_P(StoreContract, EventsThatCreateOrChangeContactsRecordThoseChangesFirst) {
  NewEvent a = EventFor("fresh@example.com", "signed_up", "k1");
  a.contact_attributes = json::object{{"plan", "trial"}};
  NewEvent b = EventFor("fresh@example.com", "upgraded");
  b.contact_attributes = json::object{{"plan", "pro"}};
  NewEvent c = EventFor("fresh@example.com", "visited");
  c.contact_attributes = json::object{{"plan", "pro"}};  // no change
  NewEvent dup = EventFor("fresh@example.com", "signed_up", "k1");
  auto r = store_->events().Append(ws_, {a, b, c, dup}, kT0);
  ASSERT_OK(r);
  ContactId id = (*r)[0].contact_id;
  auto events = Timeline(*store_, ws_, id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.created", "contact.updated", "signed_up",
                                                     "contact.updated", "upgraded", "visited"}));
  EXPECT_EQ(events[1].properties.at("changes").at("attributes").at("plan"),
            (json::object{{"old", nullptr}, {"new", "trial"}}));
  EXPECT_EQ(events[3].properties.at("changes").at("attributes").at("plan"),
            (json::object{{"old", "trial"}, {"new", "pro"}}));
  EXPECT_EQ(events[2].id, (*r)[0].event_id);
  EXPECT_EQ(events[4].id, (*r)[1].event_id);
  auto contact = store_->contacts().Get(ws_, id);
  ASSERT_OK(contact);
  EXPECT_EQ(contact->attributes.at("plan"), "pro");
  // The feed holds them in the same order.
  std::vector<std::string> fed;
  for (const Event& e : ReadAll(store_->feed()))
    if (e.contact_id == id) fed.push_back(e.name);
  EXPECT_EQ(fed, Names(events));
}

TEST_P(StoreContract, EraseLeavesOnlyATombstoneWithoutPersonalData) {
  Contact c = MakeContact("gone@example.com", {{"name", "Ada"}});
  ASSERT_OK(store_->events().Append(ws_, {EventFor("gone@example.com", "x")}, kT0));
  ASSERT_OK(store_->contacts().Erase(ws_, c.id));
  auto events = Timeline(*store_, ws_, c.id);
  ASSERT_EQ(Names(events), (std::vector<std::string>{"contact.erased"}));
  EXPECT_TRUE(events[0].properties.empty());
  ASSERT_OK(store_->contacts().Erase(ws_, c.id));  // already erased: no second tombstone
  EXPECT_EQ(Timeline(*store_, ws_, c.id).size(), 1u);
  for (const Event& e : ReadAll(store_->feed()))
    EXPECT_EQ(json::serialize(e.properties).find("gone@"), std::string::npos) << e.name;
}

// ---- the feed ----------------------------------------------------------------------------------

TEST_P(StoreContract, FeedReadsEveryEventInPositionOrderInBatches) {
  std::vector<NewEvent> batch;
  for (int i = 0; i < 120; ++i) batch.push_back(EventFor("u" + std::to_string(i % 7) + "@example.com", "e"));
  ASSERT_OK(store_->events().Append(ws_, batch, kT0));
  Contact c = MakeContact("z@example.com");
  ASSERT_OK(store_->contacts().Erase(ws_, c.id));
  std::vector<Event> all = ReadAll(store_->feed(), 1000);
  std::vector<Event> small = ReadAll(store_->feed(), 7);
  ASSERT_EQ(all.size(), 7u + 120u + 1u);  // 7 contacts created, 120 events, the tombstone (z's events erased)
  ASSERT_EQ(small.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, small[i].position);
    EXPECT_EQ(all[i].id, small[i].id);
    if (i > 0) {
      EXPECT_GT(all[i].position, all[i - 1].position);
    }
  }
  auto head = store_->feed().Head();
  ASSERT_OK(head);
  EXPECT_GE(*head, all.back().position);
  EXPECT_EQ(CodeOfResult(store_->feed().Read(0, 0)), ErrorCode::kInvalid);
  EXPECT_EQ(CodeOfResult(store_->feed().Read(0, 10001)), ErrorCode::kInvalid);
  auto none = store_->feed().Read(all.back().position, 10);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

// Writers commit concurrently; a reader that reads after the last position it saw must never
// miss an event that shows up later behind that position. With positions that are not
// commit-ordered (PostgreSQL identity values) it does.
TEST_P(StoreContract, ConcurrentWritersNeverPutAPositionBehindOneAlreadyRead) {
  constexpr int kWriters = 4, kRounds = 60;
  for (int w = 0; w < kWriters; ++w) MakeContact("w" + std::to_string(w) + "@example.com");
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::string email = "w" + std::to_string(w) + "@example.com";
      for (int i = 0; i < kRounds; ++i) {
        std::vector<NewEvent> batch;
        for (int k = 0; k < 1 + (i * 7 + w) % 5; ++k) batch.push_back(EventFor(email, "tick"));
        if (!store_->events().Append(ws_, batch, kT0).ok()) failed = true;
        if (i % 10 == 0) {
          ContactInput patch;
          patch.attributes = json::object{{"n", i}};
          auto c = store_->contacts().GetByEmail(ws_, email);
          if (!c.ok() || !store_->contacts().Update(ws_, c->id, patch).ok()) failed = true;
        }
      }
      ++done;
    });
  }
  std::vector<int64_t> seen;  // positions as the incremental reader got them
  int64_t after = 0;
  bool last_round = false;
  while (true) {
    bool finished = done.load() == kWriters;  // read once more after the writers finished
    auto events = store_->feed().Read(after, 50);
    ASSERT_OK(events);
    for (const Event& e : *events) {
      ASSERT_GT(e.position, after);
      after = e.position;
      seen.push_back(e.position);
    }
    if (events->empty() && last_round) break;
    if (finished) last_round = true;
  }
  for (auto& t : writers) t.join();
  ASSERT_FALSE(failed.load());
  std::vector<int64_t> all;
  for (const Event& e : ReadAll(store_->feed())) all.push_back(e.position);
  EXPECT_EQ(seen.size(), all.size()) << "the incremental reader missed events committed behind its position";
  EXPECT_EQ(seen, all);
}

TEST_P(StoreContract, ConsumerPositionsAndStateCommitTogetherAndNeverMoveBack) {
  FeedStore& feed = store_->feed();
  EXPECT_EQ(*feed.Position("index"), 0);
  EXPECT_EQ(*feed.State("index", "k"), std::nullopt);
  ASSERT_OK(feed.Commit("index", 5, {{"k", std::string("v1\0x", 4)}, {"gone", "x"}}));
  ASSERT_OK(feed.Commit("index", 9, {{"gone", std::nullopt}}));
  EXPECT_EQ(*feed.Position("index"), 9);
  EXPECT_EQ(*feed.State("index", "k"), std::string("v1\0x", 4));
  EXPECT_EQ(*feed.State("index", "gone"), std::nullopt);
  // Backwards: refused, and its state writes with it.
  EXPECT_EQ(CodeOf(feed.Commit("index", 8, {{"k", "v2"}})), ErrorCode::kConflict);
  EXPECT_EQ(*feed.State("index", "k"), std::string("v1\0x", 4));
  EXPECT_EQ(*feed.Position("index"), 9);
  ASSERT_OK(feed.Commit("index", 9, {}));  // the same position again is fine
  EXPECT_EQ(CodeOf(feed.Commit("", 1, {})), ErrorCode::kInvalid);
  EXPECT_EQ(CodeOf(feed.Commit("index", -1, {})), ErrorCode::kInvalid);
  EXPECT_EQ(CodeOf(feed.Commit("index", 10, {{"", "v"}})), ErrorCode::kInvalid);
  EXPECT_EQ(*feed.Position("other"), 0);
  // Another store object on the same database (a restarted process) sees what was committed.
  auto again = OpenStore(url_, clock_);
  ASSERT_OK(again);
  EXPECT_EQ(*(*again)->feed().Position("index"), 9);
  EXPECT_EQ(*(*again)->feed().State("index", "k"), std::string("v1\0x", 4));
}

// The tracking hit log's loader (http/hit_loader.h): events and the position they were loaded up
// to commit together, or neither does.
TEST_P(StoreContract, AppendAndCommitCommitsTheEventsAndThePositionTogether) {
  Contact c = MakeContact("ada@example.com");
  auto open = [&](int i) {
    NewEvent e;
    e.contact.id = c.id;
    e.contact.create_contact = false;
    e.name = "email_opened";
    e.properties = json::object{{"message_id", i}};
    return e;
  };
  auto r = store_->events().AppendAndCommit(ws_, {open(1), open(2)}, clock_.Now(), "hit_log/n1", 100);
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(*store_->feed().Position("hit_log/n1"), 100);
  // A position below the committed one fails the whole batch: no event is appended.
  auto back = store_->events().AppendAndCommit(ws_, {open(3)}, clock_.Now(), "hit_log/n1", 99);
  EXPECT_EQ(CodeOfResult(back), ErrorCode::kConflict);
  std::vector<std::string> names = Names(Timeline(*store_, ws_, c.id));
  EXPECT_EQ(std::count(names.begin(), names.end(), "email_opened"), 2);
  // An event the store refuses (an unknown contact) is reported; the rest and the position commit.
  NewEvent stranger = open(4);
  stranger.contact.id = c.id + 1000;
  auto mixed = store_->events().AppendAndCommit(ws_, {stranger, open(5)}, clock_.Now(), "hit_log/n1", 180);
  ASSERT_OK(mixed);
  EXPECT_EQ((*mixed)[0].outcome, AppendOutcome::kFailed);
  EXPECT_EQ((*mixed)[1].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(*store_->feed().Position("hit_log/n1"), 180);
  // No events: only the position.
  ASSERT_OK(store_->events().AppendAndCommit(ws_, {}, clock_.Now(), "hit_log/n1", 200));
  EXPECT_EQ(*store_->feed().Position("hit_log/n1"), 200);
  EXPECT_EQ(*store_->feed().Position("hit_log/n2"), 0);
}

TEST_P(StoreContract, AConsumerKilledMidRunResumesWithNothingMissedOrRepeated) {
  for (int b = 0; b < 20; ++b) {
    std::vector<NewEvent> batch;
    for (int i = 0; i < 50; ++i)
      batch.push_back(EventFor("k" + std::to_string(i % 13) + "@example.com", "e"));
    ASSERT_OK(store_->events().Append(ws_, batch, kT0));
  }
  std::vector<Event> all = ReadAll(store_->feed());
  const int64_t head = all.back().position;
  int64_t want_sum = 0;
  for (const Event& e : all) want_sum += e.position;

  auto spawn = [&](const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    return pid;
  };
  const std::string bin = RAPPORT_FEED_CONSUMER;
  // Slow (a pause after each commit of 7 events), killed while it runs.
  pid_t slow = spawn({bin, url_, "counter", std::to_string(head), "7", "3000"});
  int64_t at = 0;
  for (int i = 0; i < 500 && at < 50; ++i) {
    std::this_thread::sleep_for(10ms);
    at = *store_->feed().Position("counter");
  }
  ASSERT_GE(at, 50) << "the consumer did not get going";
  ASSERT_EQ(kill(slow, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(slow, &status, 0), slow);
  ASSERT_TRUE(WIFSIGNALED(status));
  int64_t killed_at = *store_->feed().Position("counter");
  ASSERT_LT(killed_at, head) << "the consumer finished before it was killed";
  // Restarted: resumes at its committed position and runs to the head.
  pid_t fast = spawn({bin, url_, "counter", std::to_string(head), "100", "0"});
  ASSERT_EQ(waitpid(fast, &status, 0), fast);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(*store_->feed().Position("counter"), head);
  EXPECT_EQ(*store_->feed().State("counter", "count"), std::to_string(all.size()));
  EXPECT_EQ(*store_->feed().State("counter", "sum"), std::to_string(want_sum));
}

TEST_P(StoreContract, ACommitThatAppendsEventsWakesWaitingConsumers) {
  FeedNotifier& notifier = store_->feed().notifier();
  MakeContact("n@example.com");
  uint64_t before = notifier.Generation();
  // A write that appends no event does not wake anyone.
  ASSERT_OK(store_->topics().Create(ws_, Topic{.key = "quiet", .name = "Quiet"}));
  EXPECT_EQ(notifier.Generation(), before);
  std::atomic<bool> woke{false};
  std::atomic<int64_t> found{0};
  std::thread consumer([&] {
    uint64_t g = notifier.WaitPast(before, 30s);  // far longer than any wake-up takes
    woke = g > before;
    auto events = store_->feed().Read(0, 1000);  // what the wake-up promised is committed
    if (events.ok()) found = static_cast<int64_t>(events->size());
  });
  std::this_thread::sleep_for(20ms);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(store_->events().Append(ws_, {EventFor("n@example.com", "ping")}, kT0));
  consumer.join();
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(found.load(), 2);  // contact.created and ping
  // Loose: the wake-up came from the notification, not from the 30 s timeout.
  EXPECT_LT(waited, 20s);
  std::printf("wake-up after the append: %lld us\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
}

// ---- ids are never reused ----------------------------------------------------------------------

TEST_P(StoreContract, IdsOfDeletedAndErasedRowsAreNeverGivenAgain) {
  auto t1 = store_->templates().Create(
      MessageTemplate{.workspace_id = ws_, .name = "a", .subject = "s", .html = "h"});
  ASSERT_OK(t1);
  ASSERT_OK(store_->templates().Delete(ws_, t1->id));
  auto t2 = store_->templates().Create(
      MessageTemplate{.workspace_id = ws_, .name = "b", .subject = "s", .html = "h"});
  ASSERT_OK(t2);
  EXPECT_GT(t2->id, t1->id);

  Contact gone = MakeContact("gone@example.com");
  auto m1 = store_->outbox().Enqueue(Message(gone.id));
  ASSERT_OK(m1);
  auto appended = store_->events().Append(ws_, {EventFor("gone@example.com", "x")}, kT0);
  ASSERT_OK(appended);
  const EventId newest_event = (*appended)[0].event_id;
  auto head = store_->feed().Head();
  ASSERT_OK(head);
  ASSERT_OK(store_->contacts().Erase(ws_, gone.id));  // deletes its messages and events
  // Reopened (SQLite's ids come from what the file keeps, not from this process).
  store_.reset();
  auto reopened = OpenStore(url_, clock_);
  ASSERT_OK(reopened);
  store_ = std::move(reopened).value();

  Contact next = MakeContact("next@example.com");
  EXPECT_GT(next.id, gone.id);
  auto m2 = store_->outbox().Enqueue(Message(next.id));
  ASSERT_OK(m2);
  EXPECT_GT(m2->message.id, m1->message.id);
  auto e2 = store_->events().Append(ws_, {EventFor("next@example.com", "y")}, kT0);
  ASSERT_OK(e2);
  EXPECT_GT((*e2)[0].event_id, newest_event);
  std::vector<Event> feed = ReadAll(store_->feed());
  EXPECT_GT(feed.back().position, *head);
  auto gone_message = store_->outbox().Get(ws_, m1->message.id);
  EXPECT_EQ(CodeOfResult(gone_message), ErrorCode::kNotFound);

  auto k1 = store_->keys().Create(
      ApiKey{.workspace_id = ws_, .name = "k", .prefix = "p", .hash = "h1", .scopes = 1});
  auto k2 = store_->keys().Create(
      ApiKey{.workspace_id = ws_, .name = "k", .prefix = "p", .hash = "h2", .scopes = 1});
  ASSERT_OK(k1);
  ASSERT_OK(k2);
  EXPECT_GT(k2->id, k1->id);
  auto topic = store_->topics().Create(ws_, Topic{.key = "t", .name = "T"});
  ASSERT_OK(topic);
  EXPECT_GT(topic->id, 0);
}

TEST_P(StoreContract, MessagesKeepTheirTopic) {
  Contact c = MakeContact("t@example.com");
  OutboxMessage m = Message(c.id, "with-topic", MessageClass::kMarketing);
  m.topic = "news";
  auto queued = store_->outbox().Enqueue(m);
  ASSERT_OK(queued);
  EXPECT_EQ(queued->message.topic, "news");
  auto got = store_->outbox().Get(ws_, queued->message.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->topic, "news");
  auto plain = store_->outbox().Enqueue(Message(c.id, "no-topic"));
  ASSERT_OK(plain);
  EXPECT_EQ(store_->outbox().Get(ws_, plain->message.id)->topic, std::nullopt);
  auto listed = store_->outbox().ListForContact(ws_, c.id, {});
  ASSERT_OK(listed);
  ASSERT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(listed->items[1].topic, "news");
  OutboxMessage bad = Message(c.id);
  bad.topic = "Not A Key";
  EXPECT_EQ(CodeOfResult(store_->outbox().Enqueue(bad)), ErrorCode::kInvalid);
}

}  // namespace
}  // namespace rapport
