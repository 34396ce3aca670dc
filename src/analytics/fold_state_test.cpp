// The fold's plumbing: the event facts read once for both folds, the ChangeSet's reuse of its
// buffers, the slabs of states; and a restart in the middle of a random history (states written
// through a ChangeSet into a simulated store, loaded back) that must carry on exactly as the fold
// that never stopped: the same writes, the same published changes, the same reports.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <tuple>

#include "analytics/change_set.h"
#include "analytics/event_facts.h"
#include "analytics/report_book.h"
#include "analytics/send_time.h"
#include "analytics/slab.h"

namespace rapport::analytics {
namespace {

Event Ev(std::string name, json::object props = {}) {
  Event e;
  e.id = 1;
  e.workspace_id = 1;
  e.contact_id = 1;
  e.name = std::move(name);
  e.properties = std::move(props);
  return e;
}

TEST(EventFacts, KindsByName) {
  EXPECT_EQ(KindOf("message.queued"), EventKind::kMessageQueued);
  EXPECT_EQ(KindOf("message.sent"), EventKind::kMessageSent);
  EXPECT_EQ(KindOf("message.deferred"), EventKind::kMessageDeferred);
  EXPECT_EQ(KindOf("message.bounced"), EventKind::kMessageBounced);
  EXPECT_EQ(KindOf("message.soft_bounced"), EventKind::kMessageSoftBounced);
  EXPECT_EQ(KindOf("message.suppressed"), EventKind::kMessageSuppressed);
  EXPECT_EQ(KindOf("message.blocked"), EventKind::kMessageBlocked);
  EXPECT_EQ(KindOf("message.failed"), EventKind::kMessageFailed);
  EXPECT_EQ(KindOf("message.complained"), EventKind::kMessageComplained);
  EXPECT_EQ(KindOf("message.governed"), EventKind::kMessageOther);
  EXPECT_EQ(KindOf("message."), EventKind::kMessageOther);
  EXPECT_EQ(KindOf("email_opened"), EventKind::kOpened);
  EXPECT_EQ(KindOf("email_clicked"), EventKind::kClicked);
  EXPECT_EQ(KindOf("contact.created"), EventKind::kContactCreated);
  EXPECT_EQ(KindOf("contact.updated"), EventKind::kContactUpdated);
  EXPECT_EQ(KindOf("contact.erased"), EventKind::kContactErased);
  EXPECT_EQ(KindOf("contact.merged"), EventKind::kContactMerged);
  EXPECT_EQ(KindOf("contact.status_changed"), EventKind::kStatusChanged);
  EXPECT_EQ(KindOf("contact.tagged"), EventKind::kOther);
  EXPECT_EQ(KindOf("topic.unsubscribed"), EventKind::kTopicUnsubscribed);
  EXPECT_EQ(KindOf("lifecycle_changed"), EventKind::kOwnOutput);
  EXPECT_EQ(KindOf("engagement_changed"), EventKind::kOwnOutput);
  EXPECT_EQ(KindOf("clv_changed"), EventKind::kOwnOutput);
  EXPECT_EQ(KindOf("order_placed"), EventKind::kOther);
  EXPECT_EQ(KindOf("Email_Opened"), EventKind::kOther);  // names are case-sensitive
  EXPECT_EQ(KindOf(""), EventKind::kOther);
  EXPECT_TRUE(IsMessageKind(EventKind::kMessageQueued));
  EXPECT_TRUE(IsMessageKind(EventKind::kMessageOther));
  EXPECT_FALSE(IsMessageKind(EventKind::kOpened));
}

TEST(EventFacts, PropertiesReadInOnePass) {
  EventFacts f = ReadFacts(Ev("email_opened", {{"template", "t"}, {"machine", true}, {"message_id", 42}}));
  EXPECT_EQ(f.kind, EventKind::kOpened);
  EXPECT_TRUE(f.machine);
  EXPECT_TRUE(f.has_message_id);
  EXPECT_EQ(f.message_id, 42);

  f = ReadFacts(Ev("email_clicked", {{"message_id", uint64_t{7}}, {"machine", false}}));
  EXPECT_FALSE(f.machine);
  EXPECT_EQ(f.message_id, 7);
  // Not an integer, or out of range: no message id (as the folds have always read it).
  EXPECT_FALSE(ReadFacts(Ev("email_opened", {{"message_id", "42"}})).has_message_id);
  EXPECT_FALSE(ReadFacts(Ev("email_opened", {{"message_id", 4.2}})).has_message_id);
  EXPECT_FALSE(ReadFacts(Ev("email_opened", {{"message_id", UINT64_MAX}})).has_message_id);
  EXPECT_FALSE(ReadFacts(Ev("email_opened")).has_message_id);
  // "machine" must be the boolean true.
  EXPECT_FALSE(ReadFacts(Ev("email_opened", {{"machine", "true"}})).machine);
  EXPECT_FALSE(ReadFacts(Ev("email_opened", {{"machine", 1}})).machine);
}

TEST(ChangeSet, ReusesItsBuffersFromBatchToBatch) {
  ChangeSet set;
  std::string& s = set.Write(1, "contact", 9);
  s.assign(200, 'x');
  const char* buffer = s.data();
  set.Delete(1, "message", 3);
  AnalyticsDailyValue& v = set.Daily();
  v.metric = "conversions_linear_long_enough_to_allocate";
  ASSERT_EQ(set.entities().size(), 2u);
  EXPECT_EQ(set.entities()[0].kind, "contact");
  EXPECT_EQ(*set.entities()[0].state, std::string(200, 'x'));
  EXPECT_FALSE(set.entities()[1].state.has_value());
  EXPECT_EQ(set.daily().size(), 1u);

  set.Clear();
  EXPECT_EQ(set.entities().size(), 0u);  // trimmed: nothing of the last batch is committed again
  EXPECT_EQ(set.daily().size(), 0u);
  std::string& again = set.Write(2, "message", 4);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.data(), buffer);  // the same memory
  again = "{}";
  set.Write(2, "message", 5) = "{\"flags\":1}";  // the old delete's element: a fresh state
  set.Delete(2, "contact", 6);
  const auto& e = set.entities();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].workspace_id, 2);
  EXPECT_EQ(e[0].id, 4);
  EXPECT_EQ(*e[0].state, "{}");
  EXPECT_EQ(*e[1].state, "{\"flags\":1}");
  EXPECT_EQ(e[2].kind, "contact");
  EXPECT_FALSE(e[2].state.has_value());
}

TEST(Slab, SlotsKeepTheirAddressAndFreedOnesAreReused) {
  Slab<std::pair<int, std::string>> slab;
  uint32_t first = slab.Add();
  slab[first] = {1, "one"};
  auto* address = &slab[first];
  std::vector<uint32_t> slots;
  for (int i = 0; i < 10'000; ++i) slots.push_back(slab.Add());  // grows by several chunks
  EXPECT_EQ(&slab[first], address);
  EXPECT_EQ(slab[first].second, "one");
  EXPECT_EQ(slab.size(), 10'001u);
  slab.Free(first);
  EXPECT_EQ(slab[first].second, "");  // reset
  EXPECT_EQ(slab.Add(), first);
  EXPECT_EQ(slab.size(), 10'001u);
}

// A simulated store: the latest state per entity, and the daily values.
struct Stored {
  std::map<std::tuple<WorkspaceId, std::string, int64_t>, std::string> entities;
  std::map<std::tuple<WorkspaceId, std::string, std::string, int64_t, std::string>, double> daily;
  void Commit(ChangeSet& set) {
    for (const auto& v : set.daily()) daily[{v.workspace_id, v.dimension, v.key, v.day, v.metric}] = v.value;
    for (const auto& e : set.entities()) {
      auto key = std::make_tuple(e.workspace_id, e.kind, e.id);
      if (e.state)
        entities[key] = *e.state;
      else
        entities.erase(key);
    }
  }
  bool operator==(const Stored&) const = default;
};

struct Fold {
  AnalyticsOptions options;
  ReportBook book;
  SendTimeBook send_time;
  ChangeSet set;
  Stored store;
  std::vector<std::string> published;  // every lifecycle/engagement/CLV change, by idempotency key
  explicit Fold(AnalyticsOptions o)
      : options(o),
        book(o, [](WorkspaceId) { return std::string("Europe/Paris"); }),
        send_time(o.send_time, [](WorkspaceId) { return std::string("Europe/Paris"); }) {}
  void Load(const Stored& from) {
    store = from;
    for (const auto& [k, value] : from.daily) {
      const auto& [ws, dim, key, day, metric] = k;
      book.LoadDaily(AnalyticsDailyValue{ws, dim, key, day, metric, value});
    }
    for (const auto& [k, state] : from.entities) {
      const auto& [ws, kind, id] = k;
      book.LoadEntity(ws, kind, id, state);
      send_time.LoadEntity(ws, kind, id, state);
    }
    book.Rebuilt();
  }
  void Batch(const std::vector<Event>& events, int64_t now) {
    for (const Event& e : events) {
      EventFacts f = ReadFacts(e);
      book.Apply(e, f, now);
      send_time.Apply(e, f);
    }
    book.Advance(now);
    for (const auto& c : book.TakeLifecycleChanges()) published.push_back(c.idempotency_key);
    for (const auto& c : book.TakeEngagementChanges()) published.push_back(c.idempotency_key);
    for (const auto& c : book.TakeClvChanges()) published.push_back(c.idempotency_key);
    set.Clear();
    book.TakeChanges(set);
    send_time.TakeChanges(set);
    store.Commit(set);
  }
};

// Random history over few contacts and messages (slots are freed and reused: merges, erasures,
// the message horizon), in batches, with a restart from the store half way.
TEST(FoldState, ARestartFromTheCommittedStateCarriesOnExactly) {
  AnalyticsOptions o;
  o.message_horizon_us = 20 * kMicrosPerDay;  // so that messages are forgotten within the history
  std::mt19937_64 rng(17);
  std::vector<std::vector<Event>> batches;
  int64_t t = ToMicros(*ParseTimestamp("2026-03-01T00:00:00Z"));
  EventId id = 0;
  int64_t message = 0;
  std::vector<std::pair<int64_t, ContactId>> sent;  // (message, contact)
  const char* templates[] = {"welcome", "news", "promo"};
  for (int b = 0; b < 60; ++b) {
    std::vector<Event> batch;
    int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      t += static_cast<int64_t>(rng() % 7'200) * 1'000'000;  // up to 2 hours apart
      Event e;
      e.id = ++id;
      e.position = id;
      e.workspace_id = 1;
      e.contact_id = 1 + static_cast<ContactId>(rng() % 30);
      e.occurred_at = e.received_at = FromMicros(t);
      int r = static_cast<int>(rng() % 100);
      if (r < 30 || sent.empty()) {
        ++message;
        e.name = rng() % 2 ? "message.queued" : "message.sent";
        e.properties = {{"message_id", message}, {"template", templates[rng() % 3]}, {"class", "marketing"}};
        if (rng() % 3 == 0) e.properties["topic"] = "news";
        sent.emplace_back(message, e.contact_id);
      } else if (r < 70) {
        auto [mid, contact] = sent[rng() % sent.size()];
        e.contact_id = contact;
        e.name = rng() % 4 == 0 ? "email_clicked" : "email_opened";
        e.properties = {{"message_id", mid}, {"machine", rng() % 4 == 0}};
      } else if (r < 80) {
        auto [mid, contact] = sent[rng() % sent.size()];
        e.contact_id = contact;
        e.name = rng() % 2 ? "message.bounced" : "message.complained";
        e.properties = {{"message_id", mid}};
      } else if (r < 92) {
        e.name = "order_placed";
        // Quarters: sums of them are exact, so a revenue read back from its state is the same
        // double (Boost.JSON 1.81's parser may round a decimal's last bit otherwise).
        e.properties = {{"total", static_cast<double>(rng() % 1'000) / 4}};
      } else if (r < 95) {
        e.name = "contact.merged";
        e.properties = {{"merged_contact_id", 1 + static_cast<int64_t>(rng() % 30)}};
      } else if (r < 97) {
        e.name = "contact.erased";
      } else {
        e.name = "contact.updated";
        e.properties = {{"changes", {{"timezone", {{"old", ""}, {"new", rng() % 2 ? "Asia/Tokyo" : ""}}}}}};
      }
      batch.push_back(std::move(e));
    }
    batches.push_back(std::move(batch));
  }

  Fold straight(o);
  auto restarted = std::make_unique<Fold>(o);
  const size_t half = batches.size() / 2;
  int64_t now = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    now = ToMicros(batches[b].back().occurred_at);
    straight.Batch(batches[b], now);
    restarted->Batch(batches[b], now);
    if (b + 1 == half) {  // the process stops here; a new one loads what was committed
      ASSERT_EQ(restarted->store, straight.store);
      auto fresh = std::make_unique<Fold>(o);
      fresh->Load(restarted->store);
      fresh->published = restarted->published;
      restarted = std::move(fresh);
    }
  }
  EXPECT_GT(straight.store.entities.size(), 10u);
  for (const auto& [k, state] : straight.store.entities) {
    auto it = restarted->store.entities.find(k);
    EXPECT_TRUE(it != restarted->store.entities.end() && it->second == state)
        << std::get<1>(k) << " " << std::get<2>(k) << ": " << state << " vs "
        << (it == restarted->store.entities.end() ? "none" : it->second);
  }
  for (const auto& [k, state] : restarted->store.entities)
    EXPECT_TRUE(straight.store.entities.count(k))
        << std::get<1>(k) << " " << std::get<2>(k) << " only after restart";
  for (const auto& [k, v] : straight.store.daily)
    EXPECT_EQ(restarted->store.daily[k], v)
        << std::get<1>(k) << " " << std::get<2>(k) << " " << std::get<4>(k);
  EXPECT_EQ(restarted->store, straight.store);
  EXPECT_EQ(restarted->published, straight.published);
  EXPECT_GT(straight.published.size(), 10u);
  EXPECT_EQ(restarted->book.messages(), straight.book.messages());
  EXPECT_EQ(restarted->book.contacts(), straight.book.contacts());
  int64_t from = straight.book.DayOf(1, ToMicros(batches.front().front().occurred_at));
  int64_t to = straight.book.DayOf(1, now);
  Overview a = straight.book.OverviewOf(1, from, to, now);
  Overview b = restarted->book.OverviewOf(1, from, to, now);
  EXPECT_EQ(a.totals, b.totals);
  EXPECT_EQ(a.lifecycle, b.lifecycle);
  EXPECT_EQ(a.engagement, b.engagement);
  EXPECT_GT(a.totals[Metric::kSent] + a.totals[Metric::kDelivered], 0);
  for (ContactId c = 1; c <= 30; ++c) {
    ContactView x = straight.book.Contact(1, c, now), y = restarted->book.Contact(1, c, now);
    EXPECT_EQ(x.known, y.known) << c;
    EXPECT_EQ(x.engagement_score, y.engagement_score) << c;
    EXPECT_EQ(x.lifecycle, y.lifecycle) << c;
    EXPECT_EQ(x.orders, y.orders) << c;
    EXPECT_DOUBLE_EQ(x.revenue, y.revenue) << c;
    SendTimeProfile p = straight.send_time.Profile(1, c, ""), q = restarted->send_time.Profile(1, c, "");
    EXPECT_EQ(p.own, q.own) << c;
    EXPECT_EQ(p.population, q.population) << c;
  }
  // The conversions and revenue credited to each message still kept read back the same.
  int credited = 0;
  for (int64_t mid = 1; mid <= message; ++mid) {
    auto x = straight.book.Message(1, mid), y = restarted->book.Message(1, mid);
    ASSERT_EQ(x.has_value(), y.has_value()) << mid;
    if (!x) continue;
    EXPECT_EQ(x->credit, y->credit) << mid;
    credited += x->credit.linear > 0;
  }
  EXPECT_GT(credited, 0);
}

}  // namespace
}  // namespace rapport::analytics
