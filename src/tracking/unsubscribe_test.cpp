// The unsubscribe rule against a real SQLite store: one status change and its event, committed
// together; other statuses kept.
#include "tracking/unsubscribe.h"

#include <gtest/gtest.h>

#include <optional>

#include "store/testing/temp_sqlite_store.h"

namespace rapport::tracking {
namespace {

class UnsubscribeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_.emplace(clock_, "shop");
    store_ = temp_->store.get();
    ws_ = temp_->workspace;
  }
  Contact Add(const std::string& email, ContactStatus status = ContactStatus::kActive) {
    ContactInput in;
    in.email = email;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    if (status != ContactStatus::kActive) in.status = status;
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return *c;
  }
  std::vector<Event> Timeline(ContactId id) {
    EventQuery q;
    q.limit = 100;
    return store_->events().ListForContact(ws_, id, q)->items;
  }

  FakeClock clock_{FromMicros(1'700'000'000'000'000)};
  std::optional<TempSqliteStore> temp_;
  Store* store_ = nullptr;
  WorkspaceId ws_ = 0;
};

TEST_F(UnsubscribeTest, AnActiveContactIsUnsubscribedWithOneEventThatNamesTheMethod) {
  Contact ann = Add("ann@example.com");
  size_t before = Timeline(ann.id).size();
  auto out = Unsubscribe(store_->contacts(), ws_, ann.id, UnsubscribeMethod::kOneClick);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->changed);
  EXPECT_EQ(out->contact.status, ContactStatus::kUnsubscribed);
  std::vector<Event> events = Timeline(ann.id);
  ASSERT_EQ(events.size(), before + 1);
  const Event& e = events.front();  // newest first
  EXPECT_EQ(e.name, "contact.status_changed");
  EXPECT_EQ(e.properties.at("origin").at("method").as_string(), "one-click");
  // Again: nothing more is written.
  auto again = Unsubscribe(store_->contacts(), ws_, ann.id, UnsubscribeMethod::kPage);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(Timeline(ann.id).size(), before + 1);
}

TEST_F(UnsubscribeTest, ABouncedOrComplainedContactKeepsItsStatus) {
  for (ContactStatus s : {ContactStatus::kBounced, ContactStatus::kComplained}) {
    Contact c = Add(std::string(s == ContactStatus::kBounced ? "b" : "c") + "@example.com", s);
    auto out = Unsubscribe(store_->contacts(), ws_, c.id, UnsubscribeMethod::kPage);
    ASSERT_TRUE(out.ok());
    EXPECT_FALSE(out->changed);
    EXPECT_EQ(out->contact.status, s);
  }
  EXPECT_EQ(Unsubscribe(store_->contacts(), ws_, 999999, UnsubscribeMethod::kPage).error().code,
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace rapport::tracking
