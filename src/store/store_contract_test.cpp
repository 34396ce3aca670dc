// The store contract suite: every case runs against SQLite (a temp file) and against a real
// PostgreSQL 15 that the suite starts itself (tests/pg/pg_fixture.h), once per test binary.
// If PostgreSQL cannot start, the PostgreSQL cases fail with the reason; they never skip.
// Designated initializers that leave fields at their defaults are intended here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/store.h"
#include "store/open.h"
#include "store/postgres/pg_connection.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;
[[maybe_unused]] auto* const kPgEnvironment = ::testing::AddGlobalTestEnvironment(new PgEnvironment);

// ---- schema, workspaces ------------------------------------------------------------------------

TEST_P(StoreContract, MigrateIsVersionedAndIdempotent) {
  EXPECT_EQ(store_->Backend(), GetParam());
  auto again = store_->Migrate();
  ASSERT_OK(again);
  EXPECT_EQ(*again, 18);
  auto v = store_->SchemaVersion();
  ASSERT_OK(v);
  EXPECT_EQ(*v, 18);
  EXPECT_TRUE(store_->Ping().ok());
  // A second store on the same database sees the same version and migrates nothing.
  auto other = OpenStore(url_, clock_);
  ASSERT_OK(other);
  auto v2 = (*other)->Migrate();
  ASSERT_OK(v2);
  EXPECT_EQ(*v2, 18);
}

TEST_P(StoreContract, Templates) {
  MessageTemplate t;
  t.workspace_id = ws_;
  t.name = "welcome";
  t.subject = "Hi {{ contact.first_name }}";
  t.html = "<p>Hello</p>{% render 'footer' %}";
  t.snippets["footer"] = "<p>Shop, 1 Main St</p>";
  auto created = store_->templates().Create(t);
  ASSERT_OK(created);
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->snippets.at("footer"), "<p>Shop, 1 Main St</p>");
  auto dup = store_->templates().Create(t);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  t.name = "Bad Name";
  EXPECT_EQ(store_->templates().Create(t).error().field, "name");

  MessageTemplate second = *created;
  second.name = "receipt";
  second.id = 0;
  ASSERT_OK(store_->templates().Create(second));
  auto list = store_->templates().List(ws_);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "receipt");

  MessageTemplate edit = *created;
  edit.subject = "Welcome!";
  edit.snippets.clear();
  auto updated = store_->templates().Update(edit);
  ASSERT_OK(updated);
  EXPECT_EQ(updated->subject, "Welcome!");
  EXPECT_TRUE(updated->snippets.empty());
  edit.name = "receipt";
  EXPECT_EQ(store_->templates().Update(edit).error().code, ErrorCode::kConflict);
  auto by_name = store_->templates().GetByName(ws_, "welcome");
  ASSERT_OK(by_name);
  EXPECT_EQ(by_name->id, created->id);
  ASSERT_TRUE(store_->templates().Delete(ws_, created->id).ok());
  EXPECT_EQ(store_->templates().Get(ws_, created->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->templates().Delete(ws_, created->id).error().code, ErrorCode::kNotFound);
  // Another workspace does not see them.
  EXPECT_EQ(store_->templates().GetByName(ws_ + 1000, "receipt").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContract, Workspaces) {
  auto got = store_->workspaces().Get(ws_);
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "acme");
  EXPECT_EQ(got->created_at, kT0);
  auto found = store_->workspaces().FindByName("acme");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, ws_);
  auto none = store_->workspaces().FindByName("nope");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto dup = store_->workspaces().Create("acme");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->workspaces().Get(ws_ + 100).error().code, ErrorCode::kNotFound);
  auto other = store_->workspaces().Create("globex");
  ASSERT_OK(other);
  auto all = store_->workspaces().List();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, ws_);
  EXPECT_EQ((*all)[1].id, other->id);
  EXPECT_EQ((*all)[1].name, "globex");
}

// ---- contacts ----------------------------------------------------------------------------------

TEST_P(StoreContract, ContactCreateGetAndConflicts) {
  ContactInput in;
  in.email = "Ann@Example.COM";
  in.external_id = "u-1";
  in.attributes = json::object{{"plan", "pro"}, {"age", 41}, {"tags", json::array{"a", "b"}}};
  in.timezone = "Europe/Paris";
  in.locale = "fr-CA";
  auto c = store_->contacts().Create(ws_, in);
  ASSERT_OK(c);
  EXPECT_GT(c->id, 0);
  EXPECT_EQ(c->email, "Ann@example.com");
  EXPECT_EQ(c->status, ContactStatus::kActive);
  EXPECT_EQ(c->created_at, kT0);

  auto got = store_->contacts().Get(ws_, c->id);
  ASSERT_OK(got);
  EXPECT_EQ(got->email, "Ann@example.com");
  EXPECT_EQ(got->external_id, "u-1");
  EXPECT_EQ(got->attributes.at("plan"), "pro");
  EXPECT_EQ(got->attributes.at("age").to_number<int64_t>(), 41);
  EXPECT_EQ(got->attributes.at("tags").as_array().size(), 2u);
  EXPECT_EQ(got->timezone, "Europe/Paris");
  EXPECT_EQ(got->locale, "fr-CA");
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "Ann@example.com")->id, c->id);
  EXPECT_EQ(store_->contacts().GetByExternalId(ws_, "u-1")->id, c->id);
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "zed@example.com").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->contacts().Get(ws_, c->id + 1000).error().code, ErrorCode::kNotFound);

  ContactInput same_email;
  same_email.email = "Ann@EXAMPLE.com";  // the domain is case-insensitive
  auto e1 = store_->contacts().Create(ws_, same_email);
  ASSERT_FALSE(e1.ok());
  EXPECT_EQ(e1.error().code, ErrorCode::kConflict);
  EXPECT_EQ(e1.error().field, "email");
  // ...and so is the local part: one address is one contact whatever its case (issue 13).
  ContactInput other_local;
  other_local.email = "ANN@example.com";
  auto e3 = store_->contacts().Create(ws_, other_local);
  ASSERT_FALSE(e3.ok());
  EXPECT_EQ(e3.error().code, ErrorCode::kConflict);

  ContactInput same_ext;
  same_ext.email = "bob@example.com";
  same_ext.external_id = "u-1";
  auto e2 = store_->contacts().Create(ws_, same_ext);
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e2.error().code, ErrorCode::kConflict);
  EXPECT_EQ(e2.error().field, "external_id");

  // Another workspace may hold the same keys.
  auto ws2 = store_->workspaces().Create("other");
  ASSERT_OK(ws2);
  ASSERT_OK(store_->contacts().Create(ws2->id, in));
}

TEST_P(StoreContract, ContactValidation) {
  ContactInput none;
  none.attributes = json::object{{"a", 1}};
  auto r = store_->contacts().Create(ws_, none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().field, "email");

  ContactInput bad_email;
  bad_email.email = "not an email";
  EXPECT_EQ(store_->contacts().Create(ws_, bad_email).error().field, "email");

  ContactInput bad_tz;
  bad_tz.email = "a@example.com";
  bad_tz.timezone = "Mars/Olympus";
  EXPECT_EQ(store_->contacts().Create(ws_, bad_tz).error().field, "timezone");

  ContactInput bad_attr;
  bad_attr.email = "a@example.com";
  bad_attr.attributes = json::object{{"1bad", 1}};
  auto a = store_->contacts().Create(ws_, bad_attr);
  EXPECT_EQ(a.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(a.error().field, "attributes.1bad");

  ContactInput erased;
  erased.email = "a@example.com";
  erased.status = ContactStatus::kErased;
  EXPECT_EQ(store_->contacts().Create(ws_, erased).error().field, "status");
  auto count = store_->contacts().Count(ws_);
  ASSERT_OK(count);
  EXPECT_EQ(*count, 0);
}

TEST_P(StoreContract, UpsertCreatesThenMergesAttributes) {
  ContactInput in;
  in.email = "cat@example.com";
  in.attributes = json::object{{"plan", "free"}, {"city", "Lyon"}, {"gone", nullptr}};
  auto first = store_->contacts().Upsert(ws_, in);
  ASSERT_OK(first);
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(first->contact.attributes.contains("gone"));

  clock_.Advance(1s);
  ContactInput patch;
  patch.email = "cat@example.com";
  patch.external_id = "c-9";
  patch.attributes = json::object{{"plan", "pro"}, {"city", nullptr}, {"seats", 3}};
  auto second = store_->contacts().Upsert(ws_, patch);
  ASSERT_OK(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->contact.id, first->contact.id);
  auto got = store_->contacts().Get(ws_, first->contact.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->external_id, "c-9");
  EXPECT_EQ(got->attributes.at("plan"), "pro");
  EXPECT_FALSE(got->attributes.contains("city"));
  EXPECT_EQ(got->attributes.at("seats").to_number<int64_t>(), 3);
  EXPECT_EQ(got->created_at, kT0);
  EXPECT_EQ(got->updated_at, kT0 + 1s);

  // Found by external_id: the email changes.
  ContactInput by_ext;
  by_ext.external_id = "c-9";
  by_ext.email = "cat2@example.com";
  auto third = store_->contacts().Upsert(ws_, by_ext);
  ASSERT_OK(third);
  EXPECT_FALSE(third->created);
  EXPECT_EQ(third->contact.email, "cat2@example.com");

  // The external_id names one contact and the email another: conflict.
  MakeContact("dog@example.com");
  ContactInput clash;
  clash.external_id = "c-9";
  clash.email = "dog@example.com";
  auto bad = store_->contacts().Upsert(ws_, clash);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kConflict);
}

TEST_P(StoreContract, UpdatePatches) {
  Contact a = MakeContact("a@example.com", {{"x", 1}});
  MakeContact("b@example.com");
  ContactInput patch;
  patch.locale = "en";
  patch.status = ContactStatus::kUnsubscribed;
  patch.attributes = json::object{{"x", nullptr}, {"y", true}};
  auto u = store_->contacts().Update(ws_, a.id, patch);
  ASSERT_OK(u);
  EXPECT_EQ(u->locale, "en");
  EXPECT_EQ(u->status, ContactStatus::kUnsubscribed);
  EXPECT_FALSE(u->attributes.contains("x"));
  EXPECT_TRUE(u->attributes.at("y").as_bool());
  EXPECT_EQ(store_->contacts().Get(ws_, a.id)->status, ContactStatus::kUnsubscribed);

  ContactInput taken;
  taken.email = "b@example.com";
  auto c = store_->contacts().Update(ws_, a.id, taken);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kConflict);
  EXPECT_EQ(c.error().field, "email");
  EXPECT_EQ(store_->contacts().Update(ws_, a.id + 999, patch).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContract, ListPaginatesWithCursorsAndFilters) {
  std::vector<ContactId> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(MakeContact("p" + std::to_string(i) + "@example.com").id);
  std::vector<ContactId> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->contacts().List(ws_, {.limit = 3, .cursor = cursor});
    ASSERT_OK(page);
    for (auto& c : page->items) seen.push_back(c.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, ids);

  auto filtered = store_->contacts().List(ws_, {.limit = 10, .email = "p4@example.com"});
  ASSERT_OK(filtered);
  ASSERT_EQ(filtered->items.size(), 1u);
  EXPECT_EQ(filtered->items[0].id, ids[4]);
  EXPECT_TRUE(filtered->next_cursor.empty());

  auto bad = store_->contacts().List(ws_, {.limit = 3, .cursor = "zz-not-a-cursor"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().field, "cursor");
  EXPECT_EQ(store_->contacts().List(ws_, {.limit = 0}).error().field, "limit");
  EXPECT_EQ(store_->contacts().List(ws_, {.limit = 1001}).error().field, "limit");

  std::vector<ContactId> each;
  ASSERT_OK(store_->contacts().ForEach(ws_, [&](const Contact& c) {
    each.push_back(c.id);
    return each.size() < 5;
  }));
  EXPECT_EQ(each, std::vector<ContactId>(ids.begin(), ids.begin() + 5));
  EXPECT_EQ(*store_->contacts().Count(ws_), 7);
}

TEST_P(StoreContract, EraseForgetsTheContactButKeepsItsHash) {
  Contact c = MakeContact("erase.me@example.com", {{"name", "Eve"}});
  ASSERT_OK(store_->events().Append(ws_, {EventFor(c.email, "page.viewed", "k-erase")}, kT0));
  ASSERT_OK(store_->topics().Create(ws_, {.key = "news", .name = "News"}));
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kSubscribed,
                                             {.source = "api"}));
  ASSERT_OK(store_->outbox().Enqueue(Message(c.id)));

  ASSERT_OK(store_->contacts().Erase(ws_, c.id));
  auto got = store_->contacts().Get(ws_, c.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->status, ContactStatus::kErased);
  EXPECT_EQ(got->email, "");
  EXPECT_TRUE(got->attributes.empty());
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "erase.me@example.com").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(TimelineNames(c.id).empty());
  EXPECT_TRUE(store_->topics().ListSubscriptions(ws_, c.id)->empty());
  EXPECT_TRUE(store_->outbox().ListForContact(ws_, c.id, {})->items.empty());
  EXPECT_EQ(*store_->contacts().Count(ws_), 0);
  EXPECT_TRUE(store_->contacts().List(ws_, {})->items.empty());
  EXPECT_EQ(store_->contacts().List(ws_, {.include_erased = true})->items.size(), 1u);
  EXPECT_EQ(store_->contacts().Update(ws_, c.id, ContactInput{.locale = "en"}).error().code,
            ErrorCode::kConflict);
  // The idempotency key went with the events: the same key is new again.
  auto again = store_->events().Append(ws_, {EventFor("new@example.com", "x", "k-erase")}, kT0);
  ASSERT_OK(again);
  EXPECT_EQ((*again)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(CodeOf(store_->contacts().Erase(ws_, c.id + 999)), ErrorCode::kNotFound);
}

TEST_P(StoreContract, ImportReportsEachRow) {
  MakeContact("existing@example.com", {{"plan", "free"}});
  std::vector<ContactInput> rows;
  for (int i = 0; i < 12; ++i) {
    ContactInput in;
    in.email = "imp" + std::to_string(i) + "@example.com";
    in.attributes = json::object{{"i", i}};
    rows.push_back(in);
  }
  rows[3].email = "broken";                // invalid email
  rows[5].email.reset();                   // no key at all
  rows[7].email = "existing@example.com";  // an update
  rows[7].attributes = json::object{{"plan", "pro"}};
  rows[9].email = "imp8@example.com";  // same as row 8: an update of the row just imported
  std::map<size_t, Result<UpsertResult>> results;
  ASSERT_OK(store_->contacts().Import(ws_, rows, [&](size_t i, const Result<UpsertResult>& r) {
    EXPECT_EQ(results.count(i), 0u);
    results.emplace(i, r);
  }));
  ASSERT_EQ(results.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = results.at(i);
    if (i == 3 || i == 5) {
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << i;
      EXPECT_EQ(r.error().field, "email") << i;
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.error().message;
      EXPECT_EQ(r->created, i != 7 && i != 9) << i;
    }
  }
  EXPECT_EQ(*store_->contacts().Count(ws_), 1 + 12 - 2 - 2);
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "existing@example.com")->attributes.at("plan"), "pro");
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "imp8@example.com")->attributes.at("i").to_number<int64_t>(),
            9);
}

// ---- events ------------------------------------------------------------------------------------

TEST_P(StoreContract, AppendCreatesContactsByEmailAndExternalId) {
  std::vector<NewEvent> batch = {EventFor("new1@example.com", "signed_up"),
                                 EventFor("new2@example.com", "signed_up"),
                                 EventFor("new1@example.com", "page.viewed")};
  NewEvent by_ext;
  by_ext.contact.external_id = "ext-77";
  by_ext.name = "order.placed";
  by_ext.properties = {{"total", 19.5}, {"items", json::array{1, 2}}};
  by_ext.occurred_at = kT0 - 1h;
  batch.push_back(by_ext);
  auto r = store_->events().Append(ws_, batch, kT0);
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 4u);
  for (auto& item : *r) EXPECT_EQ(item.outcome, AppendOutcome::kAccepted) << item.error.message;
  EXPECT_EQ((*r)[0].contact_id, (*r)[2].contact_id);
  EXPECT_NE((*r)[0].contact_id, (*r)[1].contact_id);
  EXPECT_LT((*r)[0].event_id, (*r)[1].event_id);
  auto c1 = store_->contacts().GetByEmail(ws_, "new1@example.com");
  ASSERT_OK(c1);
  EXPECT_EQ(c1->id, (*r)[0].contact_id);
  auto c3 = store_->contacts().GetByExternalId(ws_, "ext-77");
  ASSERT_OK(c3);
  EXPECT_EQ(c3->id, (*r)[3].contact_id);
  EXPECT_EQ(UserEventCount(), 4);
  auto page = store_->events().ListForContact(ws_, c3->id, {});
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 2u);  // the event, then "contact.created" (newest first)
  EXPECT_EQ(page->items[1].name, "contact.created");
  const Event& e = page->items[0];
  EXPECT_EQ(e.name, "order.placed");
  EXPECT_EQ(e.occurred_at, kT0 - 1h);
  EXPECT_EQ(e.received_at, kT0);
  EXPECT_DOUBLE_EQ(e.properties.at("total").as_double(), 19.5);
  EXPECT_EQ(e.properties.at("items").as_array().size(), 2u);
}

TEST_P(StoreContract, AppendIdempotencyWithinAndAcrossBatches) {
  auto r1 =
      store_->events().Append(ws_,
                              {EventFor("i@example.com", "a", "k1"), EventFor("i@example.com", "a", "k1"),
                               EventFor("i@example.com", "b", "k2")},
                              kT0);
  ASSERT_OK(r1);
  EXPECT_EQ((*r1)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*r1)[1].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ((*r1)[1].event_id, (*r1)[0].event_id);
  EXPECT_EQ((*r1)[1].contact_id, (*r1)[0].contact_id);
  EXPECT_EQ((*r1)[2].outcome, AppendOutcome::kAccepted);
  auto r2 = store_->events().Append(
      ws_, {EventFor("i@example.com", "b", "k2"), EventFor("i@example.com", "c", "k3")}, kT0);
  ASSERT_OK(r2);
  EXPECT_EQ((*r2)[0].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ((*r2)[0].event_id, (*r1)[2].event_id);
  EXPECT_EQ((*r2)[1].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(UserEventCount(), 3);
  // Keys are per workspace.
  auto ws2 = store_->workspaces().Create("two");
  ASSERT_OK(ws2);
  auto r3 = store_->events().Append(ws2->id, {EventFor("i@example.com", "a", "k1")}, kT0);
  ASSERT_OK(r3);
  EXPECT_EQ((*r3)[0].outcome, AppendOutcome::kAccepted);
}

TEST_P(StoreContract, AppendReportsFailedItemsAndStoresTheRest) {
  Contact known = MakeContact("known@example.com");
  NewEvent unknown_id;
  unknown_id.contact.id = known.id + 12345;
  unknown_id.name = "x";
  NewEvent no_create = EventFor("ghost@example.com", "x");
  no_create.contact.create_contact = false;
  NewEvent no_name = EventFor("known@example.com", "");
  NewEvent by_id;
  by_id.contact.id = known.id;
  by_id.name = "y";
  auto r = store_->events().Append(
      ws_, {unknown_id, EventFor("known@example.com", "ok"), no_create, no_name, by_id}, kT0);
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kFailed);
  EXPECT_EQ((*r)[0].error.code, ErrorCode::kNotFound);
  EXPECT_EQ((*r)[1].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*r)[1].contact_id, known.id);
  EXPECT_EQ((*r)[2].outcome, AppendOutcome::kFailed);
  EXPECT_EQ((*r)[2].error.code, ErrorCode::kNotFound);
  EXPECT_EQ((*r)[3].outcome, AppendOutcome::kFailed);
  EXPECT_EQ((*r)[3].error.code, ErrorCode::kInvalid);
  EXPECT_EQ((*r)[3].error.field, "name");
  EXPECT_EQ((*r)[4].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(UserEventCount(), 2);
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "ghost@example.com").error().code, ErrorCode::kNotFound);
  // A contact of another workspace is unknown here.
  auto ws2 = store_->workspaces().Create("two");
  ASSERT_OK(ws2);
  NewEvent foreign = by_id;
  auto f = store_->events().Append(ws2->id, {foreign}, kT0);
  ASSERT_OK(f);
  EXPECT_EQ((*f)[0].outcome, AppendOutcome::kFailed);
}

TEST_P(StoreContract, AppendMergesContactAttributes) {
  Contact c = MakeContact("attr@example.com", {{"plan", "free"}, {"old", 1}});
  NewEvent e = EventFor("attr@example.com", "identify");
  e.contact_attributes = json::object{{"plan", "pro"}, {"old", nullptr}, {"since", "2024-01-02"}};
  auto r = store_->events().Append(ws_, {e}, kT0 + 5s);
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  auto got = store_->contacts().Get(ws_, c.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->attributes.at("plan"), "pro");
  EXPECT_EQ(got->attributes.at("since"), "2024-01-02");
  EXPECT_FALSE(got->attributes.contains("old"));
  EXPECT_EQ(got->updated_at, kT0 + 5s);
  NewEvent bad = EventFor("attr@example.com", "identify");
  bad.contact_attributes = json::object{{"no spaces", 1}};
  auto rb = store_->events().Append(ws_, {bad}, kT0);
  ASSERT_OK(rb);
  EXPECT_EQ((*rb)[0].outcome, AppendOutcome::kFailed);
  EXPECT_EQ((*rb)[0].error.code, ErrorCode::kInvalid);
}

TEST_P(StoreContract, TimelineIsNewestFirstWithCursor) {
  Contact c = MakeContact("t@example.com");
  MakeContact("other@example.com");
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store_->events().Append(
        ws_, {EventFor("t@example.com", "e" + std::to_string(i)), EventFor("other@example.com", "noise")},
        kT0 + std::chrono::seconds(i)));
  }
  std::vector<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->events().ListForContact(ws_, c.id, {.limit = 2, .cursor = cursor});
    ASSERT_OK(page);
    for (auto& e : page->items) {
      names.push_back(e.name);
      EXPECT_EQ(e.contact_id, c.id);
    }
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(names, (std::vector<std::string>{"e4", "e3", "e2", "e1", "e0", "contact.created"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(store_->events().ListForContact(ws_, c.id, {.cursor = "00"}).error().field, "cursor");
  EXPECT_EQ(store_->events().ListForContact(ws_, c.id + 999, {}).error().code, ErrorCode::kNotFound);
}

// ---- topics, keys, audit -----------------------------------------------------------------------

TEST_P(StoreContract, TopicsAndSubscriptionsWithConsent) {
  Contact c = MakeContact("s@example.com");
  auto t = store_->topics().Create(ws_, {.key = "news", .name = "News", .description = "Monthly"});
  ASSERT_OK(t);
  ASSERT_OK(store_->topics().Create(ws_, {.key = "offers", .name = "Offers"}));
  EXPECT_EQ(store_->topics().Create(ws_, {.key = "news", .name = "Again"}).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(store_->topics().Create(ws_, {.key = "Bad Key", .name = "x"}).error().field, "key");
  EXPECT_EQ(store_->topics().List(ws_)->size(), 2u);
  EXPECT_EQ(store_->topics().GetByKey(ws_, "news")->id, t->id);
  EXPECT_EQ(store_->topics().GetByKey(ws_, "nope").error().code, ErrorCode::kNotFound);

  Consent consent{
      .source = "form:signup", .at = kT0 - 1h, .ip = "192.0.2.7", .user_agent = "UA/1", .text_version = "v3"};
  auto s = store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kSubscribed, consent);
  ASSERT_OK(s);
  EXPECT_EQ(s->topic_key, "news");
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "offers", SubscriptionStatus::kSubscribed,
                                             {.source = "api"}));
  Consent withdraw{.source = "preference_center", .at = kT0, .ip = "192.0.2.8"};
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kUnsubscribed, withdraw));
  auto subs = store_->topics().ListSubscriptions(ws_, c.id);
  ASSERT_OK(subs);
  ASSERT_EQ(subs->size(), 2u);
  EXPECT_EQ((*subs)[0].topic_key, "news");
  EXPECT_EQ((*subs)[0].status, SubscriptionStatus::kUnsubscribed);
  EXPECT_EQ((*subs)[0].consent.source, "preference_center");
  EXPECT_EQ((*subs)[0].consent.ip, "192.0.2.8");
  EXPECT_EQ((*subs)[0].consent.at, kT0);
  EXPECT_EQ((*subs)[1].topic_key, "offers");
  EXPECT_EQ((*subs)[1].consent.at, kT0);  // defaulted to now

  EXPECT_EQ(
      store_->topics().SetSubscription(ws_, c.id, "nope", SubscriptionStatus::kSubscribed, {}).error().code,
      ErrorCode::kNotFound);
  EXPECT_EQ(store_->topics()
                .SetSubscription(ws_, c.id + 99, "news", SubscriptionStatus::kSubscribed, {})
                .error()
                .code,
            ErrorCode::kNotFound);
  ASSERT_OK(store_->topics().DeleteSubscription(ws_, c.id, "offers"));
  EXPECT_EQ(CodeOf(store_->topics().DeleteSubscription(ws_, c.id, "offers")), ErrorCode::kNotFound);
  EXPECT_EQ(store_->topics().ListSubscriptions(ws_, c.id)->size(), 1u);
}

TEST_P(StoreContract, ApiKeysByHashAndRevoke) {
  ApiKey k{.workspace_id = ws_,
           .name = "ci",
           .prefix = "rk_live_ab",
           .hash = std::string(64, 'a'),
           .scopes = kScopeRead | kScopeWrite};
  auto created = store_->keys().Create(k);
  ASSERT_OK(created);
  EXPECT_GT(created->id, 0);
  auto found = store_->keys().FindByHash(k.hash);
  ASSERT_OK(found);
  EXPECT_EQ(found->id, created->id);
  EXPECT_EQ(found->scopes, kScopeRead | kScopeWrite);
  EXPECT_FALSE(found->last_used_at.has_value());
  EXPECT_EQ(store_->keys().Create(k).error().code, ErrorCode::kConflict);
  ASSERT_OK(store_->keys().TouchLastUsed(created->id, kT0 + 1s));
  EXPECT_EQ(store_->keys().FindByHash(k.hash)->last_used_at, kT0 + 1s);
  ApiKey k2 = k;
  k2.hash = std::string(64, 'b');
  ASSERT_OK(store_->keys().Create(k2));
  EXPECT_EQ(store_->keys().List(ws_)->size(), 2u);
  ASSERT_OK(store_->keys().Revoke(ws_, created->id, kT0 + 2s));
  EXPECT_EQ(store_->keys().FindByHash(k.hash).error().code, ErrorCode::kNotFound);
  auto listed = store_->keys().List(ws_);
  ASSERT_OK(listed);
  EXPECT_EQ((*listed)[0].revoked_at, kT0 + 2s);
  EXPECT_EQ(CodeOf(store_->keys().Revoke(ws_, created->id + 99, kT0)), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(store_->keys().Revoke(ws_ + 1, created->id, kT0)), ErrorCode::kNotFound);
}

TEST_P(StoreContract, AuditNewestFirst) {
  for (int i = 0; i < 3; ++i) {
    AuditEntry e{.workspace_id = ws_,
                 .actor = "key:1",
                 .action = "contact.create",
                 .entity = "contact",
                 .entity_id = std::to_string(i),
                 .details = {{"i", i}},
                 .at = kT0 + std::chrono::seconds(i)};
    ASSERT_OK(store_->audit().Record(e));
  }
  auto list = store_->audit().List(ws_, 2);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].entity_id, "2");
  EXPECT_EQ((*list)[0].details.at("i").to_number<int64_t>(), 2);
  EXPECT_EQ((*list)[0].at, kT0 + 2s);
  EXPECT_EQ((*list)[1].entity_id, "1");
}

// ---- outbox ------------------------------------------------------------------------------------

TEST_P(StoreContract, EnqueueIsIdempotentAndRecordsTimeline) {
  Contact c = MakeContact("o@example.com");
  auto first = store_->outbox().Enqueue(Message(c.id, "order-1"));
  ASSERT_OK(first);
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->message.state, MessageState::kQueued);
  auto again = store_->outbox().Enqueue(Message(c.id, "order-1"));
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->message.id, first->message.id);
  auto got = store_->outbox().Get(ws_, first->message.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->mime, Message(c.id).mime);  // binary-safe (CR LF, 0xFF, NUL)
  EXPECT_EQ(got->mime.size(), 30u);
  EXPECT_EQ(got->idempotency_key, "order-1");
  auto by_key = store_->outbox().FindByIdempotencyKey(ws_, "order-1");
  ASSERT_OK(by_key);
  ASSERT_TRUE(by_key->has_value());
  EXPECT_EQ((*by_key)->id, first->message.id);
  EXPECT_FALSE(store_->outbox().FindByIdempotencyKey(ws_, "order-2")->has_value());
  EXPECT_FALSE(store_->outbox().FindByIdempotencyKey(ws_ + 1, "order-1")->has_value());

  OutboxMessage suppressed = Message(c.id);
  suppressed.state = MessageState::kSuppressed;
  ASSERT_OK(store_->outbox().Enqueue(suppressed));
  EXPECT_EQ(TimelineNames(c.id), (std::vector<std::string>{"message.suppressed", "message.queued"}));
  auto events = store_->events().ListForContact(ws_, c.id, {});
  EXPECT_EQ(events->items[1].properties.at("message_id").to_number<int64_t>(), first->message.id);
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kQueued), 1);
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kSuppressed), 1);

  OutboxMessage bad = Message(c.id);
  bad.subject = "Hi\r\nBcc: evil@example.com";
  EXPECT_EQ(store_->outbox().Enqueue(bad).error().field, "subject");
  EXPECT_EQ(store_->outbox().Enqueue(Message(c.id + 999)).error().code, ErrorCode::kNotFound);
  auto page = store_->outbox().ListForContact(ws_, c.id, {.limit = 1});
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].state, MessageState::kSuppressed);
  auto page2 = store_->outbox().ListForContact(ws_, c.id, {.limit = 1, .cursor = page->next_cursor});
  ASSERT_OK(page2);
  ASSERT_EQ(page2->items.size(), 1u);
  EXPECT_EQ(page2->items[0].id, first->message.id);
}

TEST_P(StoreContract, ClaimLeasesNeverOverlapAndExpire) {
  Contact c = MakeContact("q@example.com");
  std::set<MessageId> all;
  for (int i = 0; i < 5; ++i) all.insert(store_->outbox().Enqueue(Message(c.id))->message.id);
  OutboxMessage later = Message(c.id);
  later.next_attempt_at = kT0 + 1h;
  MessageId later_id = store_->outbox().Enqueue(later)->message.id;
  MessageId marketing_id = store_->outbox().Enqueue(Message(c.id, {}, MessageClass::kMarketing))->message.id;

  auto a = store_->outbox().Claim(MessageClass::kTransactional, 3, "worker-a", kT0, 30s);
  ASSERT_OK(a);
  ASSERT_EQ(a->size(), 3u);
  for (auto& m : *a) {
    EXPECT_EQ(m.state, MessageState::kSending);
    EXPECT_EQ(m.lease_owner, "worker-a");
    EXPECT_EQ(m.lease_until, kT0 + 30s);
  }
  auto b = store_->outbox().Claim(MessageClass::kTransactional, 10, "worker-b", kT0 + 1s, 30s);
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 2u);
  std::set<MessageId> claimed;
  for (auto& m : *a) claimed.insert(m.id);
  for (auto& m : *b) EXPECT_TRUE(claimed.insert(m.id).second) << "message " << m.id << " handed out twice";
  EXPECT_EQ(claimed, all);
  EXPECT_TRUE(store_->outbox().Claim(MessageClass::kTransactional, 10, "worker-c", kT0 + 2s, 30s)->empty());

  // worker-a died: its leases expire and the messages are claimable again (worker-b's, taken a
  // second later, still hold).
  auto c2 = store_->outbox().Claim(MessageClass::kTransactional, 10, "worker-c", kT0 + 30s + 500ms, 30s);
  ASSERT_OK(c2);
  std::set<MessageId> reclaimed;
  for (auto& m : *c2) reclaimed.insert(m.id);
  std::set<MessageId> a_ids;
  for (auto& m : *a) a_ids.insert(m.id);
  EXPECT_EQ(reclaimed, a_ids);
  // The message due later, and the other lane.
  auto d = store_->outbox().Claim(MessageClass::kTransactional, 10, "worker-d", kT0 + 2h, 30s);
  ASSERT_OK(d);
  std::set<MessageId> d_ids;
  for (auto& m : *d) d_ids.insert(m.id);
  EXPECT_TRUE(d_ids.count(later_id));
  EXPECT_FALSE(d_ids.count(marketing_id));
  auto mk = store_->outbox().Claim(MessageClass::kMarketing, 10, "worker-m", kT0, 30s);
  ASSERT_OK(mk);
  ASSERT_EQ(mk->size(), 1u);
  EXPECT_EQ((*mk)[0].id, marketing_id);
  EXPECT_EQ(store_->outbox().Claim(MessageClass::kMarketing, 0, "w", kT0, 30s).error().field, "max");
}

TEST_P(StoreContract, ClaimChecksSuppressionAgainAtSendTime) {
  Contact c = MakeContact("later-unsub@example.com");
  MessageId marketing = store_->outbox().Enqueue(Message(c.id, {}, MessageClass::kMarketing))->message.id;
  MessageId receipt = store_->outbox().Enqueue(Message(c.id))->message.id;
  // The contact unsubscribes after the messages were queued.
  ContactInput patch;
  patch.status = ContactStatus::kUnsubscribed;
  ASSERT_OK(store_->contacts().Update(ws_, c.id, patch));

  auto mk = store_->outbox().Claim(MessageClass::kMarketing, 10, "w", kT0, 30s);
  ASSERT_OK(mk);
  EXPECT_TRUE(mk->empty()) << "marketing mail claimed for an unsubscribed contact";
  auto m = store_->outbox().Get(ws_, marketing);
  ASSERT_OK(m);
  EXPECT_EQ(m->state, MessageState::kSuppressed);
  EXPECT_EQ(m->last_reply, "the contact unsubscribed");
  EXPECT_TRUE(m->lease_owner.empty());
  auto names = TimelineNames(c.id);
  EXPECT_NE(std::find(names.begin(), names.end(), "message.suppressed"), names.end());

  // Transactional mail still reaches an unsubscribed contact...
  auto tx = store_->outbox().Claim(MessageClass::kTransactional, 10, "w", kT0, 30s);
  ASSERT_OK(tx);
  ASSERT_EQ(tx->size(), 1u);
  EXPECT_EQ((*tx)[0].id, receipt);
  // ...but not once the address bounced.
  MessageId second = store_->outbox().Enqueue(Message(c.id))->message.id;
  patch.status = ContactStatus::kBounced;
  ASSERT_OK(store_->contacts().Update(ws_, c.id, patch));
  auto tx2 = store_->outbox().Claim(MessageClass::kTransactional, 10, "w", kT0 + 1s, 30s);
  ASSERT_OK(tx2);
  EXPECT_TRUE(tx2->empty());
  EXPECT_EQ(store_->outbox().Get(ws_, second)->state, MessageState::kSuppressed);
}

TEST_P(StoreContract, CompleteBatchRecordsEachOutcomeInOneTransaction) {
  Contact ok = MakeContact("batch-ok@example.com");
  Contact gone = MakeContact("batch-gone@example.com");
  MessageId a = store_->outbox().Enqueue(Message(ok.id))->message.id;
  MessageId b = store_->outbox().Enqueue(Message(gone.id))->message.id;
  MessageId c = store_->outbox().Enqueue(Message(ok.id))->message.id;
  auto claimed = store_->outbox().Claim(MessageClass::kTransactional, 2, "w", kT0, 30s);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 2u);  // a and b; c is not this worker's

  std::vector<OutboxCompletion> batch(3);
  batch[0] = {a, {.at = kT0 + 1s, .outcome = MessageState::kSent, .smtp_code = 250, .reply = "ok"}, {}};
  batch[1] = {b,
              {.at = kT0 + 1s,
               .outcome = MessageState::kBounced,
               .smtp_code = 550,
               .enhanced_code = "5.1.1",
               .reply = "no such user",
               .failure = DeliveryFailure::kRecipientAddress},
              {}};
  batch[2] = {c, {.at = kT0 + 1s, .outcome = MessageState::kSent, .smtp_code = 250, .reply = "ok"}, {}};
  auto done = store_->outbox().CompleteBatch(batch, "w");
  ASSERT_OK(done);
  ASSERT_EQ(done->size(), 3u);
  EXPECT_TRUE((*done)[0].ok());
  EXPECT_TRUE((*done)[1].ok());
  EXPECT_EQ(CodeOf((*done)[2]), ErrorCode::kConflict);  // never claimed: nothing written for it
  EXPECT_EQ(store_->outbox().Get(ws_, a)->state, MessageState::kSent);
  EXPECT_EQ(store_->outbox().Get(ws_, b)->state, MessageState::kBounced);
  EXPECT_EQ(store_->outbox().Get(ws_, c)->state, MessageState::kQueued);
  EXPECT_EQ(store_->contacts().Get(ws_, gone.id)->status, ContactStatus::kBounced);
  EXPECT_EQ(store_->outbox().Attempts(ws_, b)->at(0).enhanced_code, "5.1.1");
  EXPECT_EQ(TimelineNames(gone.id).front(), "message.bounced");
  batch[0].attempt.outcome = MessageState::kQueued;
  EXPECT_EQ(store_->outbox().CompleteBatch(batch, "w").error().field, "outcome");
}

TEST_P(StoreContract, CompleteBatchOfManyRecordsEachMessagesOwnOutcome) {
  // 150 items cross the store's statement chunks (64 + 64 + 16 + 4 + 2); with them, an id given
  // twice (the second is a conflict, as one by one) and an id that does not exist.
  Contact c = MakeContact("many@example.com");
  std::vector<MessageId> ids;
  std::map<MessageId, std::string> mime;
  for (int i = 0; i < 147; ++i) {
    OutboxMessage m = Message(c.id);
    m.mime = "Subject: n\r\n\r\nbody " + std::to_string(i) + "\r\n";
    ids.push_back(store_->outbox().Enqueue(m)->message.id);
    mime[ids.back()] = m.mime;
  }
  std::vector<OutboxMessage> claimed;
  while (claimed.size() < ids.size()) {  // claims of 100 read their bodies in chunks too
    auto more = store_->outbox().Claim(MessageClass::kTransactional, 100, "w", kT0, 30s);
    ASSERT_OK(more);
    ASSERT_FALSE(more->empty());
    for (auto& m : *more) claimed.push_back(std::move(m));
  }
  for (const OutboxMessage& m : claimed) EXPECT_EQ(m.mime, mime[m.id]) << m.id;
  std::vector<OutboxCompletion> batch;
  for (size_t i = 0; i < ids.size(); ++i) {
    OutboxCompletion x;
    x.id = ids[i];
    x.attempt.at = kT0 + 1s;
    x.attempt.outcome = i % 3 == 2 ? MessageState::kDeferred : MessageState::kSent;
    x.attempt.smtp_code = i % 3 == 2 ? 451 : 250;
    x.attempt.reply = "reply " + std::to_string(i);
    x.next_attempt_at = kT0 + std::chrono::minutes(5 + static_cast<int>(i));
    batch.push_back(std::move(x));
  }
  batch.push_back(batch[7]);
  batch.push_back(batch[0]);
  batch.back().id = ids.back() + 1000;
  auto done = store_->outbox().CompleteBatch(batch, "w");
  ASSERT_OK(done);
  ASSERT_EQ(done->size(), 149u);
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE((*done)[i].ok()) << i;
    auto m = store_->outbox().Get(ws_, ids[i]);
    ASSERT_OK(m);
    EXPECT_EQ(m->state, batch[i].attempt.outcome) << i;
    EXPECT_EQ(m->attempts, 1);
    EXPECT_EQ(m->last_reply, "reply " + std::to_string(i));
    if (batch[i].attempt.outcome == MessageState::kDeferred) {
      EXPECT_EQ(m->next_attempt_at, batch[i].next_attempt_at) << i;
    }
    auto attempts = store_->outbox().Attempts(ws_, ids[i]);
    ASSERT_OK(attempts);
    ASSERT_EQ(attempts->size(), 1u) << i;
    EXPECT_EQ(attempts->front().reply, "reply " + std::to_string(i));
    EXPECT_EQ(attempts->front().smtp_code, batch[i].attempt.smtp_code);
  }
  EXPECT_EQ(CodeOf((*done)[147]), ErrorCode::kConflict);  // ids[7] again: already recorded
  EXPECT_EQ(CodeOf((*done)[148]), ErrorCode::kNotFound);
  // One timeline event per recorded attempt (after the 147 "message.queued" ones).
  std::vector<std::string> names = TimelineNames(c.id);
  EXPECT_EQ(std::count(names.begin(), names.end(), "message.sent"), 98);
  EXPECT_EQ(std::count(names.begin(), names.end(), "message.deferred"), 49);
}

TEST_P(StoreContract, CompleteAndRenewCheckTheLeaseOwner) {
  Contact c = MakeContact("r@example.com");
  MessageId id = store_->outbox().Enqueue(Message(c.id))->message.id;
  MessageId other = store_->outbox().Enqueue(Message(c.id))->message.id;
  auto claimed = store_->outbox().Claim(MessageClass::kTransactional, 1, "a", kT0, 30s);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_EQ((*claimed)[0].id, id);

  EXPECT_EQ(CodeOf(store_->outbox().Renew({id}, "b", kT0 + 60s)), ErrorCode::kConflict);
  ASSERT_OK(store_->outbox().Renew({id}, "a", kT0 + 60s));
  EXPECT_EQ(store_->outbox().Get(ws_, id)->lease_until, kT0 + 60s);
  // Renewed past the old expiry: nobody else can take it.
  auto b_claim = store_->outbox().Claim(MessageClass::kTransactional, 10, "b", kT0 + 45s, 30s);
  ASSERT_OK(b_claim);
  ASSERT_EQ(b_claim->size(), 1u);
  EXPECT_EQ((*b_claim)[0].id, other);
  ASSERT_OK(store_->outbox().Renew({other}, "b", kT0 + 1h));

  DeliveryAttempt deferred{.at = kT0 + 2s,
                           .outcome = MessageState::kDeferred,
                           .smtp_code = 421,
                           .enhanced_code = "4.7.0",
                           .reply = "try later",
                           .remote = "mx.example.com"};
  EXPECT_EQ(CodeOf(store_->outbox().Complete(id, "b", deferred, kT0 + 10min)), ErrorCode::kConflict);
  ASSERT_OK(store_->outbox().Complete(id, "a", deferred, kT0 + 10min));
  auto m = store_->outbox().Get(ws_, id);
  ASSERT_OK(m);
  EXPECT_EQ(m->state, MessageState::kDeferred);
  EXPECT_EQ(m->attempts, 1);
  EXPECT_EQ(m->next_attempt_at, kT0 + 10min);
  EXPECT_EQ(m->lease_owner, "");
  EXPECT_EQ(m->last_reply, "try later");
  EXPECT_EQ(CodeOf(store_->outbox().Complete(id, "a", deferred, kT0)),
            ErrorCode::kConflict);  // no longer held

  auto again = store_->outbox().Claim(MessageClass::kTransactional, 10, "c", kT0 + 11min, 30s);
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, id);
  DeliveryAttempt sent{
      .at = kT0 + 11min, .outcome = MessageState::kSent, .smtp_code = 250, .reply = "2.0.0 OK"};
  ASSERT_OK(store_->outbox().Complete(id, "c", sent, {}));
  EXPECT_EQ(store_->outbox().Get(ws_, id)->state, MessageState::kSent);
  auto attempts = store_->outbox().Attempts(ws_, id);
  ASSERT_OK(attempts);
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].attempt, 1);
  EXPECT_EQ((*attempts)[0].outcome, MessageState::kDeferred);
  EXPECT_EQ((*attempts)[0].smtp_code, 421);
  EXPECT_EQ((*attempts)[0].enhanced_code, "4.7.0");
  EXPECT_EQ((*attempts)[0].remote, "mx.example.com");
  EXPECT_EQ((*attempts)[1].attempt, 2);
  EXPECT_EQ((*attempts)[1].outcome, MessageState::kSent);
  EXPECT_EQ(TimelineNames(c.id), (std::vector<std::string>{"message.sent", "message.deferred",
                                                           "message.queued", "message.queued"}));
  EXPECT_EQ(CodeOf(store_->outbox().Complete(id + 999, "c", sent, {})), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(store_->outbox().Cancel(ws_, id)), ErrorCode::kConflict);
  EXPECT_EQ(store_->outbox().Get(ws_, other)->state, MessageState::kSending);  // b still holds it
  EXPECT_EQ(CodeOf(store_->outbox().Cancel(ws_, other)), ErrorCode::kConflict);
  MessageId third = store_->outbox().Enqueue(Message(c.id))->message.id;
  ASSERT_OK(store_->outbox().Cancel(ws_, third));
  EXPECT_EQ(store_->outbox().Get(ws_, third)->state, MessageState::kCancelled);
  EXPECT_EQ(store_->outbox().Get(ws_ + 1, third).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContract, HardBounceMarksTheContactBounced) {
  Contact soft = MakeContact("soft@example.com");
  Contact hard = MakeContact("hard@example.com");
  MessageId s_id = store_->outbox().Enqueue(Message(soft.id))->message.id;
  MessageId h_id = store_->outbox().Enqueue(Message(hard.id))->message.id;
  ASSERT_EQ(store_->outbox().Claim(MessageClass::kTransactional, 10, "w", kT0, 30s)->size(), 2u);
  ASSERT_OK(store_->outbox().Complete(s_id, "w",
                                      {.at = kT0,
                                       .outcome = MessageState::kFailed,
                                       .smtp_code = 552,
                                       .enhanced_code = "5.2.2",
                                       .reply = "mailbox full",
                                       .failure = DeliveryFailure::kMailboxFull},
                                      {}));
  ASSERT_OK(store_->outbox().Complete(h_id, "w",
                                      {.at = kT0,
                                       .outcome = MessageState::kBounced,
                                       .smtp_code = 550,
                                       .enhanced_code = "5.1.1",
                                       .reply = "no such user",
                                       .failure = DeliveryFailure::kRecipientAddress,
                                       .smtp_step = "rcpt_to"},
                                      {}));
  EXPECT_EQ(store_->contacts().Get(ws_, soft.id)->status, ContactStatus::kActive);
  EXPECT_EQ(store_->contacts().Get(ws_, hard.id)->status, ContactStatus::kBounced);
  auto timeline = store_->events().ListForContact(ws_, hard.id, {});
  ASSERT_OK(timeline);
  ASSERT_EQ(timeline->items.size(), 3u);  // and "contact.created"
  EXPECT_EQ(timeline->items[0].name, "message.bounced");
  EXPECT_EQ(timeline->items[0].properties.at("smtp_code").to_number<int64_t>(), 550);
  EXPECT_EQ(timeline->items[0].properties.at("reply"), "no such user");
  EXPECT_EQ(timeline->items[0].properties.at("failure"), "recipient_address");
  EXPECT_EQ(timeline->items[0].properties.at("smtp_step"), "rcpt_to");
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kBounced), 1);
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kFailed), 1);
}

// Issue 13 item 5: a block or a rejected message fails the message and never suppresses the person.
TEST_P(StoreContract, Issue13PermanentFailureNotAboutTheAddressLeavesTheContactMailable) {
  Contact blocked = MakeContact("blocked@example.com");
  MessageId id = store_->outbox().Enqueue(Message(blocked.id))->message.id;
  ASSERT_EQ(store_->outbox().Claim(MessageClass::kTransactional, 10, "w", kT0, 30s)->size(), 1u);
  // kBounced is only for the address: a policy block claimed as a bounce is refused, nothing written.
  DeliveryAttempt as_bounce{.at = kT0,
                            .outcome = MessageState::kBounced,
                            .smtp_code = 554,
                            .enhanced_code = "5.7.1",
                            .reply = "rejected by policy",
                            .failure = DeliveryFailure::kPolicyBlock};
  EXPECT_EQ(store_->outbox().Complete(id, "w", as_bounce, {}).error().field, "failure");
  DeliveryAttempt unclassified = as_bounce;
  unclassified.failure = DeliveryFailure::kNone;
  EXPECT_EQ(store_->outbox().Complete(id, "w", unclassified, {}).error().field, "failure");
  DeliveryAttempt failed = as_bounce;
  failed.outcome = MessageState::kFailed;
  ASSERT_OK(store_->outbox().Complete(id, "w", failed, {}));
  EXPECT_EQ(store_->outbox().Get(ws_, id)->state, MessageState::kFailed);
  EXPECT_EQ(store_->contacts().Get(ws_, blocked.id)->status, ContactStatus::kActive);
  auto timeline = store_->events().ListForContact(ws_, blocked.id, {});
  ASSERT_OK(timeline);
  EXPECT_EQ(timeline->items[0].name, "message.failed");
  EXPECT_EQ(timeline->items[0].properties.at("failure"), "policy_block");
  // A transactional message still goes to the contact afterwards.
  MessageId next = store_->outbox().Enqueue(Message(blocked.id))->message.id;
  auto claimed = store_->outbox().Claim(MessageClass::kTransactional, 10, "w", kT0 + 1s, 30s);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id, next);
}

// ---- concurrency -------------------------------------------------------------------------------

TEST_P(StoreContract, ConcurrentClaimsNeverHandOutAMessageTwice) {
  Contact c = MakeContact("cc@example.com");
  constexpr int kMessages = 120;
  for (int i = 0; i < kMessages; ++i) ASSERT_OK(store_->outbox().Enqueue(Message(c.id)));
  std::mutex mu;
  std::multiset<MessageId> got;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 100; ++round) {
        auto r = store_->outbox().Claim(MessageClass::kTransactional, 7, "w" + std::to_string(t), kT0, 60s);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        if (r->empty()) break;
        std::lock_guard lock(mu);
        for (auto& m : *r) got.insert(m.id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(got.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(std::set<MessageId>(got.begin(), got.end()).size(), got.size());
}

TEST_P(StoreContract, ConcurrentAppendsAreAllStoredOnce) {
  constexpr int kThreads = 4, kBatches = 10, kPerBatch = 50;
  std::atomic<int> errors{0}, accepted{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<NewEvent> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          // Contacts shared between threads (created on first sight), and keys that every thread
          // sends once: each key must be stored exactly once.
          NewEvent e = EventFor("shared" + std::to_string(i % 20) + "@example.com", "tick");
          if (i % 10 == 0) e.idempotency_key = "b" + std::to_string(b) + "-" + std::to_string(i);
          batch.push_back(std::move(e));
        }
        auto r = store_->events().Append(ws_, batch, kT0);
        if (!r.ok()) {
          ++errors;
          ADD_FAILURE() << r.error().message;
          continue;
        }
        for (auto& item : *r) {
          if (item.outcome == AppendOutcome::kAccepted)
            ++accepted;
          else if (item.outcome == AppendOutcome::kDuplicate)
            ++duplicates;
          else
            ++errors;
        }
      }
      (void)t;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  constexpr int kKeyed = kBatches * (kPerBatch / 10);
  EXPECT_EQ(duplicates.load(), kKeyed * (kThreads - 1));
  EXPECT_EQ(accepted.load(), kThreads * kBatches * kPerBatch - kKeyed * (kThreads - 1));
  EXPECT_EQ(UserEventCount(), accepted.load());
  EXPECT_EQ(*store_->contacts().Count(ws_), 20);
}

// A statement returning bytea gets its results in binary format: every column type it may hold
// must read back as the text format would give it.
// A migrated SQLite database opened on a bare connection, for EXPLAIN QUERY PLAN of the statements
// the store writes; its directory is removed at the end.
class PlanDb {
 public:
  explicit PlanDb(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / ("rapport-" + name + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(dir_);
    const std::string path = (dir_ / "rapport.db").string();
    {
      auto store = OpenStore("sqlite:" + path);
      EXPECT_TRUE(store.ok()) << store.error().message;
      if (store.ok()) EXPECT_TRUE((*store)->Migrate().ok());
    }
    auto conn = sqlite::Connection::Open(path, {});
    EXPECT_TRUE(conn.ok()) << conn.error().message;
    if (conn.ok()) conn_ = std::move(*conn);
  }
  ~PlanDb() {
    conn_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return conn_ != nullptr; }
  // The plan's detail lines, joined with "; ".
  std::string Plan(const std::string& sql, const std::vector<sql::Param>& params) {
    std::string out;
    EXPECT_TRUE(conn_
                    ->Exec("EXPLAIN QUERY PLAN " + sql, params,
                           [&](const sql::Row& r) { out += std::string(r.Text(3)) + "; "; })
                    .ok())
        << sql;
    return out;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<sqlite::Connection> conn_;
};

TEST(SqliteOutboxPlan, ClaimReadsEachKindOfDueMessageFromItsOwnIndexInOrder) {
  // The claim's three arms (store/sql/sql_outbox_store.cpp), as SQLite plans them: each reads its
  // partial index in order, so a claim never scans the table nor sorts what it found.
  PlanDb db("plan");
  ASSERT_TRUE(db.ok());
  auto plan = [&](std::string_view where, std::string_view order) {
    return db.Plan("SELECT id FROM outbox_messages WHERE " + std::string(where) + " ORDER BY " +
                       std::string(order) + " LIMIT 100",
                   {int64_t{1'800'000'000'000'000}});
  };
  std::string queued =
      plan("state = 'queued' AND lane = 'marketing' AND next_attempt_at <= $1", "next_attempt_at, id");
  EXPECT_NE(queued.find("USING INDEX outbox_queued"), std::string::npos) << queued;
  std::string deferred =
      plan("state = 'deferred' AND lane = 'marketing' AND next_attempt_at <= $1", "next_attempt_at, id");
  EXPECT_NE(deferred.find("USING INDEX outbox_deferred"), std::string::npos) << deferred;
  std::string expired =
      plan("state = 'sending' AND lane = 'marketing' AND lease_until <= $1", "lease_until, id");
  EXPECT_NE(expired.find("USING INDEX outbox_leases"), std::string::npos) << expired;
  for (const std::string* p : {&queued, &deferred, &expired}) {
    EXPECT_EQ(p->find("TEMP B-TREE"), std::string::npos) << "sorted after reading: " << *p;
  }
}

TEST(SqliteBatchPlans, LookupsOf64IdsSeekByKeyInsteadOfReadingTheWorkspace) {
  // Without statistics SQLite rated `workspace_id = ?` on an index above 64 key seeks: the
  // governor's facts read every message of the workspace and the event store's contact check
  // every contact, per chunk (quadratic; bench/RESULTS.md, "the speed pass"). The statements (as
  // written in sql_governor_store.cpp, sqlite_event_store.cpp, sql_topic_store.cpp,
  // sql_contact_store.cpp and sql_consent_store.cpp) must seek by key.
  PlanDb db("batch-plan");
  ASSERT_TRUE(db.ok());
  auto plan = [&](std::string sql, int leading) {
    sql += "(";
    std::vector<sql::Param> params;
    for (int i = 0; i < leading; ++i) params.emplace_back(int64_t{1});
    for (int i = 0; i < 64; ++i) {
      sql += (i == 0 ? "$" : ", $") + std::to_string(leading + 1 + i);
      params.emplace_back(int64_t{1000 + i});
    }
    sql += ")";
    return db.Plan(sql, params);
  };
  std::string governed = plan(
      "SELECT id FROM outbox_messages WHERE +workspace_id = $1 AND governed_at >= $2 AND lane = 'marketing' "
      "AND contact_id IN ",
      2);
  EXPECT_NE(governed.find("USING INDEX outbox_governed (contact_id=? AND governed_at>?)"), std::string::npos)
      << governed;
  std::string contacts = plan("SELECT id, status FROM contacts WHERE +workspace_id = $1 AND id IN ", 1);
  EXPECT_NE(contacts.find("INTEGER PRIMARY KEY"), std::string::npos) << contacts;
  std::string many = plan("SELECT id FROM contacts WHERE id IN ", 0);
  EXPECT_NE(many.find("INTEGER PRIMARY KEY"), std::string::npos) << many;
  std::string prefs = plan("SELECT contact_id FROM contact_preferences WHERE contact_id IN ", 0);
  EXPECT_NE(prefs.find("INTEGER PRIMARY KEY"), std::string::npos) << prefs;
  std::string subs =
      plan("SELECT contact_id, status FROM subscriptions WHERE +topic_id = $1 AND contact_id IN ", 1);
  EXPECT_NE(subs.find("USING PRIMARY KEY (contact_id=?)"), std::string::npos) << subs;
}

TEST(PgServerTest, AProcessThatEndsWithoutStoppingItsServerLeavesNothingRunning) {
  // A child process starts a server and ends without Stop() (as an aborted test binary would):
  // its watchdog must stop the server and delete the dir.
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);  // not inherited by the server: end of file when the child ends
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    auto server = testing::PgServer::Start(&error);
    std::string dir = server ? server->dir() : "";
    ssize_t written = write(fds[1], dir.data(), dir.size());
    _exit(server && written == static_cast<ssize_t>(dir.size()) ? 0 : 1);  // no destructors: no Stop()
  }
  close(fds[1]);
  std::string dir;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) dir.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !dir.empty())
      << "the child's server did not start";
  // The server was running when the child ended; within 30 s it is stopped and its dir gone.
  auto running = [&] {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) return true;
    for (const auto& p : std::filesystem::directory_iterator("/proc", ec)) {
      // read(2), not a stream: a process that ends while it is read fails the read with ESRCH,
      // which libstdc++'s filebuf throws as an exception; here it only means "not running".
      int fd = open((p.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      std::string cmdline;
      char chunk[4096];
      for (ssize_t n; (n = read(fd, chunk, sizeof(chunk))) > 0;)
        cmdline.append(chunk, static_cast<size_t>(n));
      close(fd);
      if (cmdline.find(dir) != std::string::npos) return true;
    }
    return false;
  };
  for (int i = 0; i < 300 && running(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(running()) << dir << " or a process using it is still there";
}

TEST(PgConnectionTest, BinaryResultsReadLikeTextResults) {
  std::string error;
  testing::PgServer* pg = PgEnvironment::Server(&error);
  ASSERT_NE(pg, nullptr) << error;
  ASSERT_TRUE(pg->CreateDatabase("pg_binary_results", &error)) << error;
  auto conn = postgres::PgConnection::Connect(pg->Url("pg_binary_results"));
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  const std::string bytes("a\0\xff\r\n\\x", 7);
  const std::string columns =
      "-5::int8, -7::int4, -3::int2, 300::int2, true, false, 'caf\xc3\xa9'::text, 'v'::varchar, "
      "NULL::int8, 9007199254740993::int8, (-9223372036854775807 - 1)::int8";
  for (const std::string& sql : {"SELECT $1::bytea, " + columns, "SELECT length($1::bytea), " + columns}) {
    int rows = 0;
    auto r = (*conn)->Exec(sql, {sql::Param(sql::Blob{bytes})}, [&](const sql::Row& row) {
      ++rows;
      if (sql.find("length") == std::string::npos) {
        EXPECT_EQ(row.Bytes(0), bytes);
      } else {
        EXPECT_EQ(row.Int(0), 7);
      }
      EXPECT_EQ(row.Int(1), -5);
      EXPECT_EQ(row.Int(2), -7);
      EXPECT_EQ(row.Int(3), -3);
      EXPECT_EQ(row.Int(4), 300);
      EXPECT_EQ(row.Int(5), 1);
      EXPECT_EQ(row.Int(6), 0);
      EXPECT_EQ(row.Text(7), "caf\xc3\xa9");
      EXPECT_EQ(row.Text(8), "v");
      EXPECT_TRUE(row.IsNull(9));
      EXPECT_EQ(row.Int(10), 9007199254740993);
      EXPECT_EQ(row.Int(11), std::numeric_limits<int64_t>::min());
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(rows, 1) << sql;
  }
}

// ---- issue 14: a node that starts again releases its earlier processes' leases -------------------

TEST_P(StoreContract, Issue14ReleaseNodeHandsBackOnlyTheNodesEarlierLeases) {
  Contact c = MakeContact("lease@example.com");
  std::vector<MessageId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(store_->outbox().Enqueue(Message(c.id))->message.id);
  MessageId mk = store_->outbox().Enqueue(Message(c.id, {}, MessageClass::kMarketing))->message.id;
  auto claim_one = [&](std::string_view owner, Timestamp at,
                       MessageClass lane = MessageClass::kTransactional) {
    auto r = store_->outbox().Claim(lane, 1, owner, at, 5min);
    EXPECT_TRUE(r.ok() && r->size() == 1u) << owner;
    return r.ok() && !r->empty() ? r->front().id : MessageId{0};
  };
  // An attempt of an earlier process deferred `retried`; a later process took it again.
  MessageId retried = claim_one("node-a/0", kT0);
  DeliveryAttempt deferred{.at = kT0, .outcome = MessageState::kDeferred, .smtp_code = 451, .reply = "later"};
  ASSERT_OK(store_->outbox().Complete(retried, "node-a/0", deferred, kT0 + 1min));
  MessageId fresh = claim_one("node-a/1", kT0);
  MessageId other_node = claim_one("node-b/1", kT0);
  MessageId prefix_node = claim_one("node-ab/1", kT0);  // "node-a" is a prefix of its node id
  MessageId no_node = claim_one("node-a", kT0);         // an owner of no node (no '/')
  MessageId current = claim_one("node-a/2", kT0);
  EXPECT_EQ(claim_one("node-a/1", kT0 + 1min), retried);
  EXPECT_EQ(claim_one("node-a/1", kT0, MessageClass::kMarketing), mk);
  EXPECT_EQ(store_->outbox().Get(ws_, retried)->attempts, 1);
  const std::vector<std::string> timeline = TimelineNames(c.id);

  auto released = store_->outbox().ReleaseNode("node-a", "node-a/2", kT0 + 2min);
  ASSERT_OK(released);
  EXPECT_EQ(*released, 3);
  auto fresh_m = store_->outbox().Get(ws_, fresh);
  EXPECT_EQ(fresh_m->state, MessageState::kQueued);
  EXPECT_EQ(fresh_m->lease_owner, "");
  EXPECT_EQ(fresh_m->next_attempt_at, kT0);
  auto retried_m = store_->outbox().Get(ws_, retried);
  EXPECT_EQ(retried_m->state, MessageState::kDeferred);
  EXPECT_EQ(retried_m->attempts, 1);
  EXPECT_EQ(retried_m->next_attempt_at, kT0 + 1min);  // kept
  EXPECT_EQ(retried_m->lease_owner, "");
  EXPECT_EQ(store_->outbox().Get(ws_, mk)->state, MessageState::kQueued);  // every lane
  EXPECT_EQ(store_->outbox().Get(ws_, other_node)->lease_owner, "node-b/1");
  EXPECT_EQ(store_->outbox().Get(ws_, prefix_node)->lease_owner, "node-ab/1");
  EXPECT_EQ(store_->outbox().Get(ws_, no_node)->lease_owner, "node-a");
  EXPECT_EQ(store_->outbox().Get(ws_, current)->lease_owner, "node-a/2");
  for (MessageId id : {other_node, prefix_node, no_node, current})
    EXPECT_EQ(store_->outbox().Get(ws_, id)->state, MessageState::kSending) << id;
  EXPECT_EQ(TimelineNames(c.id), timeline) << "a release writes no timeline event";

  // Due at once, three minutes before the leases would have expired; the dead process can no
  // longer record an outcome for them.
  auto again = store_->outbox().Claim(MessageClass::kTransactional, 10, "node-a/2", kT0 + 2min, 5min);
  ASSERT_OK(again);
  std::set<MessageId> got;
  for (const auto& m : *again) got.insert(m.id);
  EXPECT_EQ(got, (std::set<MessageId>{fresh, retried}));
  DeliveryAttempt sent{.at = kT0 + 2min, .outcome = MessageState::kSent, .smtp_code = 250, .reply = "OK"};
  EXPECT_EQ(CodeOf(store_->outbox().Complete(fresh, "node-a/1", sent, {})), ErrorCode::kConflict);
  ASSERT_OK(store_->outbox().Complete(fresh, "node-a/2", sent, {}));

  // Nothing more to release; node ids are checked.
  EXPECT_EQ(store_->outbox().ReleaseNode("node-a", "node-a/3", kT0 + 3min).value(), 2)
      << "node-a/2's leases are an earlier process's for node-a/3";
  EXPECT_EQ(store_->outbox().ReleaseNode("node-a", "node-a/3", kT0 + 3min).value(), 0);
  EXPECT_EQ(store_->outbox().ReleaseNode("", "x/1", kT0).error().field, "node_id");
  EXPECT_EQ(store_->outbox().ReleaseNode("node/a", "x/1", kT0).error().field, "node_id");
  EXPECT_EQ(store_->outbox().Get(ws_, other_node)->lease_owner, "node-b/1");
}

TEST_P(StoreContract, Issue14TwoNodesOnOneStoreNeverReleaseEachOthersLeases) {
  // Two nodes, each with its own connection to the same database, restart at the same time while
  // the other claims and completes.
  auto opened = OpenStore(url_, clock_);
  ASSERT_OK(opened);
  std::unique_ptr<Store> node_b = std::move(opened).value();
  Contact c = MakeContact("two@example.com");
  for (int i = 0; i < 60; ++i) ASSERT_OK(store_->outbox().Enqueue(Message(c.id)));
  auto a1 = store_->outbox().Claim(MessageClass::kTransactional, 10, "a/1", kT0, 5min);
  auto b1 = node_b->outbox().Claim(MessageClass::kTransactional, 10, "b/1", kT0, 5min);
  ASSERT_OK(a1);
  ASSERT_OK(b1);
  ASSERT_EQ(a1->size(), 10u);
  ASSERT_EQ(b1->size(), 10u);

  std::atomic<int> errors{0};
  int64_t a_released = -1;
  std::vector<MessageId> b_claimed;
  std::thread a_thread([&] {
    auto r = store_->outbox().ReleaseNode("a", "a/2", kT0 + 1s);
    if (r.ok())
      a_released = *r;
    else
      ++errors;
  });
  std::thread b_thread([&] {
    // Node b keeps working: it claims more and records its first batch's outcomes.
    for (int round = 0; round < 3; ++round) {
      auto r = node_b->outbox().Claim(MessageClass::kTransactional, 5, "b/1", kT0 + 1s, 5min);
      if (!r.ok()) {
        ++errors;
        continue;
      }
      for (auto& m : *r) b_claimed.push_back(m.id);
    }
    std::vector<OutboxCompletion> done;
    for (const auto& m : *b1)
      done.push_back(
          {m.id, {.at = kT0 + 1s, .outcome = MessageState::kSent, .smtp_code = 250, .reply = "OK"}, {}});
    auto r = node_b->outbox().CompleteBatch(done, "b/1");
    if (!r.ok())
      ++errors;
    else
      for (const Status& st : *r) errors += st.ok() ? 0 : 1;
  });
  a_thread.join();
  b_thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(a_released, 10);
  for (const auto& m : *a1) EXPECT_NE(store_->outbox().Get(ws_, m.id)->lease_owner, "a/1");
  for (const auto& m : *b1) EXPECT_EQ(store_->outbox().Get(ws_, m.id)->state, MessageState::kSent);
  EXPECT_EQ(b_claimed.size(), 15u);
  for (MessageId id : b_claimed) EXPECT_EQ(store_->outbox().Get(ws_, id)->lease_owner, "b/1") << id;

  // Now b restarts: it releases exactly its own 15 leases, and a's new ones stay.
  auto a2 = store_->outbox().Claim(MessageClass::kTransactional, 10, "a/2", kT0 + 2s, 5min);
  ASSERT_OK(a2);
  ASSERT_EQ(a2->size(), 10u);
  auto b_released = node_b->outbox().ReleaseNode("b", "b/2", kT0 + 3s);
  ASSERT_OK(b_released);
  EXPECT_EQ(*b_released, 15);
  for (const auto& m : *a2) EXPECT_EQ(store_->outbox().Get(ws_, m.id)->lease_owner, "a/2");
  EXPECT_EQ(store_->outbox().CountByState(MessageState::kSending).value(), 10);
  EXPECT_EQ(store_->outbox().CountByState(MessageState::kSent).value(), 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport

namespace rapport {
namespace {

using namespace contract;

// ---- tracked messages (migration v9) ------------------------------------------------------------

TEST_P(StoreContract, TrackedMessagesKeepTheirLinksAndFollowTheirContact) {
  Contact ada = MakeContact("ada@acme.test");
  Contact other = MakeContact("ada.other@acme.test");
  OutboxMessage m = Message(ada.id);
  m.tracking = MessageTracking{0x1234567890abcdLL,
                               {"https://a.example/x?y=1&z=2", "http://b.example/\xc3\xa9"},
                               "<p><a href=\"/c/T0\">x</a></p>"};
  auto queued = store_->outbox().Enqueue(m);
  ASSERT_OK(queued);
  auto found = store_->tracking().FindByKey(ws_, 0x1234567890abcdLL);
  ASSERT_OK(found);
  EXPECT_EQ(found->message_id, queued->message.id);
  EXPECT_EQ(found->contact_id, ada.id);
  EXPECT_EQ(found->template_name, "welcome");
  EXPECT_EQ(found->state, MessageState::kQueued);
  EXPECT_EQ(found->links,
            (std::vector<std::string>{"https://a.example/x?y=1&z=2", "http://b.example/\xc3\xa9"}));
  // The hit's lookup leaves the HTML; the web view reads it on its own.
  auto view = store_->tracking().ViewHtml(ws_, 0x1234567890abcdLL);
  ASSERT_OK(view);
  EXPECT_EQ(*view, "<p><a href=\"/c/T0\">x</a></p>");
  EXPECT_EQ(store_->tracking().ViewHtml(ws_ + 1, 0x1234567890abcdLL).error().code, ErrorCode::kNotFound);
  // Another workspace, another key: nothing.
  EXPECT_EQ(store_->tracking().FindByKey(ws_ + 1, 0x1234567890abcdLL).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->tracking().FindByKey(ws_, 42).error().code, ErrorCode::kNotFound);
  // A second message with the same key is refused (keys are unique).
  OutboxMessage dup = Message(ada.id);
  dup.tracking = MessageTracking{0x1234567890abcdLL, {}, ""};
  EXPECT_FALSE(store_->outbox().Enqueue(dup).ok());
  // A merge moves the message: the hit goes to the surviving contact.
  ASSERT_OK(store_->contacts().Merge(ws_, other.id, ada.id));
  EXPECT_EQ(store_->tracking().FindByKey(ws_, 0x1234567890abcdLL)->contact_id, other.id);
  // Erasure removes it.
  ASSERT_OK(store_->contacts().Erase(ws_, other.id));
  EXPECT_EQ(store_->tracking().FindByKey(ws_, 0x1234567890abcdLL).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->tracking().ViewHtml(ws_, 0x1234567890abcdLL).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace rapport

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

// ---- issue 16: erasure leaves nothing in the whole database ---------------------------------------

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Whether `lower_dump` (a DumpAll() lower-cased) holds `needle` in any letter case, or its bytes
// or its lower case as hex (a bytea column in a pg_dump).
bool DumpHolds(const std::string& lower_dump, std::string_view needle) {
  for (const std::string& form : {Lower(needle), Hex(needle), Hex(Lower(needle))})
    if (lower_dump.find(form) != std::string::npos) return true;
  return false;
}

// Issue 16, item 7: "a test searches the whole database (SQLite main file and WAL, after a
// checkpoint; and a PostgreSQL dump) for the erased address and its attribute values and finds
// nothing". Two people get a row in every table erasure must clean; one is erased. Then the whole
// database (DumpAll: pg_dump, or the SQLite files) holds neither the erased address nor the
// erased person's unique value in any letter case, and still holds the other person's (so the
// search can fail).
TEST_P(StoreContract, Issue16ErasureLeavesNoTraceInTheWholeDatabase) {
  store_->SetErasureKey("issue16-dump-erasure-key-0123456789abcdef");
  struct Person {
    std::string email, unique;
    Contact contact;
  };
  Person gone{"Pat.Erased16@Example.com", "zq-dump-erased-1616", {}};
  Person kept{"Kim.Kept16@Example.com", "zq-dump-kept-1616", {}};
  Topic news;
  news.key = "news";
  news.name = "News";
  ASSERT_OK(store_->topics().Create(ws_, news));
  int64_t tracking_key = 0x161600;
  for (Person* p : {&gone, &kept}) {
    ContactInput in;
    in.email = p->email;
    in.external_id = "ext-" + p->unique;
    in.attributes = json::object{{"code", p->unique}, {"city", p->unique}};
    auto created = store_->contacts().Create(ws_, in);
    ASSERT_OK(created);
    p->contact = *created;
    const ContactId id = p->contact.id;
    // Events whose properties name the person.
    NewEvent order = EventFor(p->email, "order_placed");
    order.properties["note"] = p->unique;
    order.properties["email"] = p->email;
    ASSERT_OK(store_->events().Append(ws_, {order}, kT0));
    // A subscription and its consent ledger row.
    Consent consent;
    consent.source = "form:" + p->unique;
    consent.at = kT0;
    consent.ip = "203.0.113.0";
    consent.user_agent = "agent " + p->unique;
    ASSERT_OK(store_->topics().SetSubscription(ws_, id, "news", SubscriptionStatus::kSubscribed, consent));
    // A tracked message whose stored MIME, links and web view name the person, delivered once.
    OutboxMessage m = Message(id);
    m.rcpt_to = p->email;
    m.mime = "To: " + p->email + "\r\nSubject: For " + p->unique + "\r\n\r\nHello " + p->email + "\r\n";
    m.tracking = MessageTracking{
        ++tracking_key, {"https://shop.example/?ref=" + p->unique}, "<p>Hello " + p->email + "</p>"};
    ASSERT_OK(store_->outbox().Enqueue(m));
    // The audit trail's details of a write about the contact.
    AuditEntry audit;
    audit.workspace_id = ws_;
    audit.actor = "key:1";
    audit.action = "contact.update";
    audit.entity = "contact";
    audit.entity_id = std::to_string(id);
    audit.details = json::object{{"email", p->email}, {"code", p->unique}};
    audit.at = kT0;
    ASSERT_OK(store_->audit().Record(audit));
  }
  auto claimed = store_->outbox().Claim(MessageClass::kTransactional, 10, "worker", kT0, 30s);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 2u);
  for (const OutboxMessage& m : *claimed) {
    DeliveryAttempt sent;
    sent.at = kT0 + 1s;
    sent.outcome = MessageState::kSent;
    sent.smtp_code = 250;
    sent.reply = "2.0.0 OK for " + m.rcpt_to;
    sent.remote = "mx.example.com";
    ASSERT_OK(store_->outbox().Complete(m.id, "worker", sent, {}));
  }

  // A journey run (its context holds the entry event), its timer and an entry timer.
  Journey j;
  j.workspace_id = ws_;
  j.name = "cart";
  j.definition = R"({"name":"cart"})";
  auto journey = store_->journeys().Create(j);
  ASSERT_OK(journey);
  JourneyWrite w;
  for (const Person* p : {&gone, &kept}) {
    JourneyRun r;
    r.workspace_id = ws_;
    r.journey_id = journey->id;
    r.version = journey->version;
    r.contact_id = p->contact.id;
    r.state = RunState::kWaiting;
    r.step = "wait";
    r.context = R"({"event":{"name":"cart.abandoned","properties":{"note":")" + p->unique + R"(","email":")" +
                p->email + R"("}}})";
    r.entered_at = kT0;
    w.runs.push_back(RunWrite{r, 0, kT0 + 1h});
    w.timers.push_back(
        TimerWrite{ws_, "anniv:" + std::to_string(journey->id) + ":" + std::to_string(p->contact.id),
                   R"({"note":")" + p->unique + R"("})", kT0 + 24h});
  }
  ASSERT_OK(store_->journeys().Apply(w));

  // Campaign recipients.
  Campaign campaign;
  campaign.workspace_id = ws_;
  campaign.name = "weekly";
  campaign.definition = R"({"template":"news"})";
  auto created = store_->campaigns().Create(campaign);
  ASSERT_OK(created);
  CampaignOccurrence o;
  o.workspace_id = ws_;
  o.campaign_id = created->id;
  o.seq = 1;
  o.scheduled_at = kT0;
  o.started_at = kT0;
  std::vector<CampaignRecipient> recipients(2);
  recipients[0].contact_id = gone.contact.id;
  recipients[0].reason = gone.unique;
  recipients[1].contact_id = kept.contact.id;
  recipients[1].reason = kept.unique;
  for (CampaignRecipient& r : recipients) r.due_at = kT0;
  ASSERT_OK(store_->campaigns().Freeze(o, recipients));

  // The analytics fold's per-contact state.
  ASSERT_OK(store_->analytics().Commit(
      "analytics", 1, {},
      {{ws_, "contact", gone.contact.id, R"({"note":")" + gone.unique + R"("})"},
       {ws_, "send_time", gone.contact.id, R"({"hours":[],"timezone":")" + gone.unique + R"("})"},
       {ws_, "contact", kept.contact.id, R"({"note":")" + kept.unique + R"("})"}}));

  // Before: the search finds both people (it can fail).
  std::string before = Lower(DumpAll());
  for (const Person* p : {&gone, &kept}) {
    EXPECT_TRUE(DumpHolds(before, p->email)) << p->email;
    EXPECT_TRUE(DumpHolds(before, p->unique)) << p->unique;
  }

  ASSERT_OK(store_->contacts().Erase(ws_, gone.contact.id));

  std::string after = Lower(DumpAll());
  ASSERT_FALSE(after.empty());
  for (const std::string& needle : {gone.email, Lower(gone.email), gone.unique, "ext-" + gone.unique})
    EXPECT_FALSE(DumpHolds(after, needle)) << needle << " is still in the " << GetParam() << " database";
  // The other person is all there, the MIME body (bytea on PostgreSQL) included.
  EXPECT_TRUE(DumpHolds(after, kept.email));
  EXPECT_TRUE(DumpHolds(after, kept.unique));
  EXPECT_TRUE(DumpHolds(after, "Hello " + kept.email + "\r\n"));
}

}  // namespace
}  // namespace rapport

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

// ---- issue 19: what a campaign sent lately (its throttle's minute after a restart) ------------------

// CampaignStore::SentSince counts the campaign's recipients, over all its occurrences, whose
// outbox message was created strictly after the moment, and gives the earliest; recipients with no
// message and other campaigns' are not counted.
TEST_P(StoreContract, Issue19CampaignSentSinceCountsItsMessagesQueuedAfterAMoment) {
  CampaignStore& cs = store_->campaigns();
  Campaign campaign;
  campaign.workspace_id = ws_;
  campaign.name = "throttled";
  campaign.definition = R"({"template":"news"})";
  auto mine = cs.Create(campaign);
  ASSERT_OK(mine);
  campaign.name = "other";
  auto other = cs.Create(campaign);
  ASSERT_OK(other);
  std::vector<ContactId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(MakeContact("sent" + std::to_string(i) + "@acme.test").id);
  // Freezes occurrence `seq` of `campaign_id` with these contacts, all pending at kT0.
  auto freeze = [&](CampaignId campaign_id, int64_t seq, std::vector<ContactId> members,
                    std::optional<Timestamp> finished) -> OccurrenceId {
    CampaignOccurrence o;
    o.workspace_id = ws_;
    o.campaign_id = campaign_id;
    o.seq = seq;
    o.scheduled_at = kT0;
    o.started_at = kT0;
    if (finished) {
      o.state = OccurrenceState::kDone;
      o.finished_at = finished;
    }
    std::vector<CampaignRecipient> rs;
    for (ContactId id : members) {
      CampaignRecipient r;
      r.contact_id = id;
      r.due_at = kT0;
      rs.push_back(r);
    }
    auto frozen = cs.Freeze(o, rs);
    EXPECT_TRUE(frozen.ok()) << frozen.error().message;
    return frozen.ok() ? frozen->id : 0;
  };
  // Queues a message for the contact, created at `at`, and marks its recipient with it.
  auto mark_sent = [&](OccurrenceId occ, ContactId contact, Timestamp at, RecipientStatus status) {
    OutboxMessage m = Message(contact, "issue19:" + std::to_string(occ) + ":" + std::to_string(contact),
                              MessageClass::kMarketing);
    m.created_at = at;
    auto queued = store_->outbox().Enqueue(m);
    ASSERT_OK(queued);
    ASSERT_OK(cs.Mark(occ, {{contact, status, 0, queued->message.id, ""}}));
  };
  // Occurrence 1 finished at +25 s; occurrence 2 still sending; the other campaign's one.
  const OccurrenceId first = freeze(mine->id, 1, {ids[0], ids[1]}, kT0 + 25s);
  const OccurrenceId second = freeze(mine->id, 2, {ids[2], ids[3], ids[4], ids[5]}, std::nullopt);
  const OccurrenceId others = freeze(other->id, 1, {ids[0]}, std::nullopt);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  ASSERT_GT(others, 0);
  mark_sent(first, ids[0], kT0, RecipientStatus::kQueued);
  mark_sent(first, ids[1], kT0 + 20s, RecipientStatus::kSkipped);  // governor-skipped: its message counts
  mark_sent(second, ids[2], kT0 + 30s, RecipientStatus::kQueued);
  mark_sent(second, ids[3], kT0 + 40s, RecipientStatus::kQueued);
  mark_sent(others, ids[0], kT0 + 35s, RecipientStatus::kQueued);
  // Refused with no message: not counted. ids[5] stays pending.
  ASSERT_OK(cs.Mark(second, {{ids[4], RecipientStatus::kSkipped, 0, 0, "unsubscribed"}}));

  struct Case {
    CampaignId campaign;
    WorkspaceId ws;
    Timestamp since;
    int64_t count;
    std::optional<Timestamp> first;
  };
  const std::vector<Case> cases = {
      {mine->id, ws_, kT0 - 1s, 4, kT0},
      {mine->id, ws_, kT0, 3, kT0 + 20s},  // strictly after
      {mine->id, ws_, kT0 + 35s, 1, kT0 + 40s},
      {mine->id, ws_, kT0 + 40s, 0, std::nullopt},
      {other->id, ws_, kT0 - 1s, 1, kT0 + 35s},
      {mine->id, ws_ + 1, kT0 - 1s, 0, std::nullopt},                // another workspace
      {mine->id + other->id + 100, ws_, kT0 - 1s, 0, std::nullopt},  // no such campaign
  };
  for (const Case& c : cases) {
    auto got = cs.SentSince(c.ws, c.campaign, c.since);
    ASSERT_OK(got);
    const std::string where = "campaign " + std::to_string(c.campaign) + " since " + FormatTimestamp(c.since);
    EXPECT_EQ(got->count, c.count) << where;
    EXPECT_EQ(got->first, c.first) << where;
  }
}

}  // namespace
}  // namespace rapport

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

// ---- a contact's timeline filtered by event name and occurred_at --------------------------------

// EventQuery::names and ::since filter in the store before the limit: every page is full of
// matching events, newest first by id, and the cursor pages the filtered list. `since` is on
// occurred_at, not on the id order (a backfilled old event is newest by id). Checked against the
// unfiltered timeline filtered here.
TEST_P(StoreContract, TimelineFiltersByNamesAndSinceAcrossPages) {
  Contact c = MakeContact("busy@example.com");
  MakeContact("quiet@example.com");
  const std::vector<std::string> cycle = {"a", "b", "c", "d"};
  std::vector<NewEvent> batch;
  for (int i = 0; i < 20; ++i) {
    NewEvent e = EventFor("busy@example.com", cycle[static_cast<size_t>(i) % cycle.size()],
                          i % 5 == 0 ? std::optional<std::string>("tl-" + std::to_string(i)) : std::nullopt);
    e.occurred_at = kT0 + std::chrono::seconds(i);
    batch.push_back(e);
    batch.push_back(EventFor("quiet@example.com", "a"));  // another contact's: never listed
  }
  NewEvent backfilled = EventFor("busy@example.com", "a");
  backfilled.occurred_at = kT0 - 1h;
  batch.push_back(backfilled);
  ASSERT_OK(store_->events().Append(ws_, batch, kT0 + 1min));

  std::vector<Event> all;
  {
    auto page = store_->events().ListForContact(ws_, c.id, {.limit = 1000});
    ASSERT_OK(page);
    all = page->items;
  }
  ASSERT_EQ(all.size(), 22u);  // contact.created, 20 events, the backfilled one

  // Pages through `q` to the end: the ids and keys seen, and the number of pages.
  auto list = [&](EventQuery q, int& pages) {
    std::vector<std::pair<EventId, std::optional<std::string>>> seen;
    pages = 0;
    do {
      auto page = store_->events().ListForContact(ws_, c.id, q);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      EXPECT_LE(page->items.size(), static_cast<size_t>(q.limit));
      for (const Event& e : page->items) {
        EXPECT_EQ(e.contact_id, c.id);
        seen.emplace_back(e.id, e.idempotency_key);
      }
      q.cursor = page->next_cursor;
      ++pages;
    } while (!q.cursor.empty() && pages < 100);
    return seen;
  };
  auto expected = [&](const std::vector<std::string>& names, std::optional<Timestamp> since) {
    std::vector<std::pair<EventId, std::optional<std::string>>> out;
    for (const Event& e : all) {
      if (!names.empty() && std::find(names.begin(), names.end(), e.name) == names.end()) continue;
      if (since && e.occurred_at < *since) continue;
      out.emplace_back(e.id, e.idempotency_key);
    }
    return out;
  };

  struct Case {
    std::vector<std::string> names;
    std::optional<Timestamp> since;
    int limit;
    size_t count;  // matching events, counted by hand from the batch above
  };
  const std::vector<Case> cases = {
      {{"a", "c"}, std::nullopt, 3, 11},       // 10, and the backfilled "a"
      {{"a", "b", "d"}, std::nullopt, 4, 16},  // 3 names padded to 4 with "d" again
      {{"c"}, std::nullopt, 2, 5},
      {{}, kT0 + 10s, 3, 10},               // occurred_at at or after +10 s: the bound is inclusive
      {{"a"}, kT0, 2, 5},                   // the backfilled "a" is newest by id but before the bound
      {{"b", "nothing"}, kT0 + 10s, 1, 2},  // "b" at +13 s and +17 s
      {{"nothing"}, std::nullopt, 5, 0},
      {{"a"}, kT0 + 1h, 5, 0},
  };
  for (const Case& k : cases) {
    std::string where = "names";
    for (const std::string& n : k.names) where += " " + n;
    if (k.since) where += " since " + FormatTimestamp(*k.since);
    int pages = 0;
    auto got = list({.limit = k.limit, .names = k.names, .since = k.since}, pages);
    EXPECT_EQ(got, expected(k.names, k.since)) << where;
    EXPECT_EQ(got.size(), k.count) << where;
    EXPECT_EQ(pages, std::max<int>(1, static_cast<int>((k.count + k.limit - 1) / k.limit))) << where;
  }
  // The keyed events keep their keys on a filtered page: "a" at +0 s and "c" at +10 s.
  int pages = 0;
  auto keyed = list({.limit = 2, .names = {"a", "c"}}, pages);
  EXPECT_EQ(std::count_if(keyed.begin(), keyed.end(), [](const auto& p) { return p.second.has_value(); }), 2);

  // Sixteen names are the most; seventeen, or an empty name, are refused.
  std::vector<std::string> sixteen;
  for (int i = 0; i < 16; ++i) sixteen.push_back(i == 0 ? "a" : "n" + std::to_string(i));
  EXPECT_EQ(list({.limit = 50, .names = sixteen}, pages), expected({"a"}, std::nullopt));
  std::vector<std::string> seventeen = sixteen;
  seventeen.push_back("b");
  auto too_many = store_->events().ListForContact(ws_, c.id, {.names = seventeen});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(too_many.error().field, "names");
  auto empty_name = store_->events().ListForContact(ws_, c.id, {.names = {"a", ""}});
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().field, "names");
}

}  // namespace
}  // namespace rapport
