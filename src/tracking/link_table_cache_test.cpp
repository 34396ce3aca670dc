// The cache of tracked messages' link tables: only sent messages, bounded, expiring, and emptied of
// a contact on its erasure.
#include "tracking/link_table_cache.h"

#include <gtest/gtest.h>

namespace rapport::tracking {
namespace {

const Timestamp kT0 = FromMicros(1'700'000'000'000'000);

TrackedMessage Sent(MessageId id, ContactId contact, WorkspaceId ws = 1) {
  TrackedMessage m;
  m.message_id = id;
  m.workspace_id = ws;
  m.contact_id = contact;
  m.state = MessageState::kSent;
  m.links = {"https://shop.example/" + std::to_string(id)};
  return m;
}

TEST(LinkTableCache, KeepsSentMessagesByWorkspaceAndKey) {
  LinkTableCache cache({});
  cache.Put(77, Sent(1, 10), kT0);
  auto hit = cache.Find(1, 77, kT0);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->message_id, 1);
  EXPECT_EQ(hit->links.at(0), "https://shop.example/1");
  EXPECT_EQ(cache.Find(2, 77, kT0), nullptr);  // another workspace
  EXPECT_EQ(cache.Find(1, 78, kT0), nullptr);  // another key
}

TEST(LinkTableCache, NeverKeepsAMessageNotYetSent) {
  LinkTableCache cache({});
  for (MessageState s : {MessageState::kQueued, MessageState::kSending, MessageState::kDeferred}) {
    TrackedMessage m = Sent(1, 10);
    m.state = s;
    cache.Put(77, m, kT0);
    EXPECT_EQ(cache.Find(1, 77, kT0), nullptr) << MessageStateName(s);
  }
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LinkTableCache, ForgetsAfterTheTtlAndWhenTheClockGoesBack) {
  LinkTableCache cache({.max_entries = 10, .ttl = std::chrono::seconds(60)});
  cache.Put(77, Sent(1, 10), kT0);
  EXPECT_NE(cache.Find(1, 77, kT0 + std::chrono::seconds(59)), nullptr);
  EXPECT_EQ(cache.Find(1, 77, kT0 + std::chrono::seconds(60)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  cache.Put(78, Sent(2, 10), kT0);
  EXPECT_EQ(cache.Find(1, 78, kT0 - std::chrono::seconds(1)), nullptr);
}

TEST(LinkTableCache, BoundedLeastRecentlyUsedFirst) {
  LinkTableCache cache({.max_entries = 2, .ttl = std::chrono::seconds(60)});
  cache.Put(1, Sent(1, 10), kT0);
  cache.Put(2, Sent(2, 10), kT0);
  ASSERT_NE(cache.Find(1, 1, kT0), nullptr);  // 1 is now the most recent
  cache.Put(3, Sent(3, 10), kT0);             // forgets 2
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Find(1, 1, kT0), nullptr);
  EXPECT_EQ(cache.Find(1, 2, kT0), nullptr);
  EXPECT_NE(cache.Find(1, 3, kT0), nullptr);
}

TEST(LinkTableCache, DropContactLeavesNothingOfTheContact) {
  LinkTableCache cache({});
  cache.Put(1, Sent(1, 10), kT0);
  cache.Put(2, Sent(2, 11), kT0);
  cache.Put(3, Sent(3, 10), kT0);
  cache.Put(4, Sent(4, 10, /*ws=*/2), kT0);  // the same contact id in another workspace stays
  cache.DropContact(1, 10);
  EXPECT_EQ(cache.Find(1, 1, kT0), nullptr);
  EXPECT_EQ(cache.Find(1, 3, kT0), nullptr);
  EXPECT_NE(cache.Find(1, 2, kT0), nullptr);
  EXPECT_NE(cache.Find(2, 4, kT0), nullptr);
  EXPECT_EQ(cache.size(), 2u);
  cache.Drop(1, 2);
  EXPECT_EQ(cache.Find(1, 2, kT0), nullptr);
}

TEST(LinkTableCache, ZeroEntriesTurnsItOff) {
  LinkTableCache cache({.max_entries = 0, .ttl = std::chrono::seconds(60)});
  cache.Put(1, Sent(1, 10), kT0);
  EXPECT_EQ(cache.Find(1, 1, kT0), nullptr);
}

}  // namespace
}  // namespace rapport::tracking
