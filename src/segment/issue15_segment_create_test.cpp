// Issue 15, the bug found at 1M contacts: creating a saved segment over existing contacts
// appended every member's segment_entered under the service's lock, one small transaction after
// another (the count endpoint hung meanwhile, and `rapport serve` could not stop). Now Create
// computes the members by one scan and returns; the consumer appends the events in batches of
// SegmentService::kEmitBatch, each contact's once, and Stop() ends it between batches, the next
// Start appending the rest. On a real SQLite store.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "segment/segment_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::segment {
namespace {

constexpr int kContacts = 9000;  // more than one batch of kEmitBatch members

class Issue15SegmentCreate : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<ContactInput> inputs;
    for (int i = 0; i < kContacts; ++i) {
      ContactInput c;
      c.email = "c" + std::to_string(i) + "@example.com";
      c.attributes = json::object{{"plan", i % 3 == 0 ? "free" : "pro"}};
      inputs.push_back(std::move(c));
    }
    size_t failed = 0;
    ASSERT_TRUE(db_.store->contacts()
                    .Import(db_.workspace, inputs,
                            [&](size_t, const Result<UpsertResult>& r) { failed += r.ok() ? 0 : 1; })
                    .ok());
    ASSERT_EQ(failed, 0u);
  }

  // segment_entered / segment_exited events of the log per contact, in log order.
  std::map<ContactId, std::vector<std::string>> Membership(SegmentId id) {
    std::map<ContactId, std::vector<std::string>> out;
    int64_t at = 0;
    while (true) {
      auto batch = db_.store->feed().Read(at, 5000);
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || batch->empty()) return out;
      for (const Event& e : *batch) {
        if (e.name != kSegmentEntered && e.name != kSegmentExited) continue;
        const json::value* sid = e.properties.if_contains("segment_id");
        if (sid && sid->is_int64() && sid->get_int64() == id) out[e.contact_id].push_back(e.name);
      }
      at = batch->back().position;
    }
  }

  int64_t Expected() const { return kContacts - (kContacts + 2) / 3; }

  SystemClock& clock_ = SystemClock::Instance();
  TempSqliteStore db_{clock_, "issue15"};
};

TEST_F(Issue15SegmentCreate, CreateComputesMembersByOneScanAndAppendsNothingUnderTheLock) {
  SegmentService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(/*run_thread=*/false).ok());
  SavedSegment s;
  s.name = "pro";
  s.expression = R"(plan = "pro")";
  auto created = svc.Create(db_.workspace, s);
  ASSERT_TRUE(created.ok()) << created.error().message;
  // Counted at once, before a single segment_entered is in the log: Create did not append them.
  auto count = svc.Count(db_.workspace, created->id);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, Expected());
  EXPECT_EQ(svc.PendingChanges(), static_cast<size_t>(Expected()));
  EXPECT_TRUE(Membership(created->id).empty());

  ASSERT_TRUE(svc.Step().ok());  // the consumer's pass: every change, batch by batch
  EXPECT_EQ(svc.PendingChanges(), 0u);
  auto log = Membership(created->id);
  ASSERT_EQ(log.size(), static_cast<size_t>(Expected()));
  for (const auto& [contact, names] : log)
    EXPECT_EQ(names, std::vector<std::string>{std::string(kSegmentEntered)}) << contact;
  // Reading its own events back changes nothing and appends nothing more.
  ASSERT_TRUE(svc.Step().ok());
  EXPECT_EQ(Membership(created->id).size(), static_cast<size_t>(Expected()));
  EXPECT_EQ(*svc.Count(db_.workspace, created->id), Expected());
}

TEST_F(Issue15SegmentCreate, StopEndsTheAppendingAndTheNextStartAppendsTheRestOnce) {
  SegmentId id = 0;
  {
    SegmentService svc(*db_.store, clock_);
    ASSERT_TRUE(svc.Start().ok());  // with its consumer thread
    SavedSegment s;
    s.name = "pro";
    s.expression = R"(plan = "pro")";
    auto created = svc.Create(db_.workspace, s);
    ASSERT_TRUE(created.ok()) << created.error().message;
    id = created->id;
    // Readers answer while the consumer appends.
    auto count = svc.Count(db_.workspace, id);
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, Expected());
    svc.Stop();  // returns after the batch in flight at most
    // Whatever was appended, each member at most once and nobody else.
    auto log = Membership(id);
    EXPECT_LE(log.size(), static_cast<size_t>(Expected()));
    for (const auto& [contact, names] : log) EXPECT_EQ(names.size(), 1u) << contact;
  }
  SegmentService again(*db_.store, clock_);
  ASSERT_TRUE(again.Start(/*run_thread=*/false).ok());  // appends what the log lacks
  auto log = Membership(id);
  ASSERT_EQ(log.size(), static_cast<size_t>(Expected()));
  for (const auto& [contact, names] : log)
    EXPECT_EQ(names, std::vector<std::string>{std::string(kSegmentEntered)}) << contact;
  EXPECT_EQ(again.PendingChanges(), 0u);
}

TEST_F(Issue15SegmentCreate, ChangesAfterTheFirstMembershipFollowInLogOrder) {
  SegmentService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(/*run_thread=*/false).ok());
  SavedSegment s;
  s.name = "pro";
  s.expression = R"(plan = "pro")";
  auto created = svc.Create(db_.workspace, s);
  ASSERT_TRUE(created.ok());
  // A member leaves before its segment_entered was appended: the log gets neither or both, in
  // order, and ends with what the index says.
  auto c1 = db_.store->contacts().GetByEmail(db_.workspace, "c1@example.com");
  ASSERT_TRUE(c1.ok());
  ContactInput patch;
  patch.attributes = json::object{{"plan", "free"}};
  ASSERT_TRUE(db_.store->contacts().Update(db_.workspace, c1->id, patch).ok());
  ASSERT_TRUE(svc.Step().ok());
  auto log = Membership(created->id);
  EXPECT_EQ(log.size(), static_cast<size_t>(Expected() - 1));
  EXPECT_EQ(log.count(c1->id), 0u);
  EXPECT_EQ(*svc.Count(db_.workspace, created->id), Expected() - 1);
}

}  // namespace
}  // namespace rapport::segment
