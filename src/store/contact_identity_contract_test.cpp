// The store contract, continued: one contact per email address whatever its letter case, the
// case variants an older database holds (listed, never merged silently) and their merge. Runs on
// SQLite and PostgreSQL (store_contract_fixture.h).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "store/postgres/pg_connection.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

class ContactIdentity : public StoreContract {
 protected:
  // A contact as a database from before migration v6 could hold it: a case variant of another
  // contact's email, with no identity key.
  ContactId InsertLegacyVariant(const std::string& email) {
    const std::string sql =
        "INSERT INTO contacts (workspace_id, email, status, attributes, timezone, locale, created_at, "
        "updated_at) "
        "VALUES ($1, $2, 'active', '{\"legacy\": true}', '', '', 1, 1) RETURNING id";
    ContactId id = 0;
    auto on_row = [&](const sql::Row& r) { id = r.Int(0); };
    const std::vector<sql::Param> params{ws_, std::string_view(email)};
    if (GetParam() == "postgres") {
      auto conn = postgres::PgConnection::Connect(url_);
      EXPECT_TRUE(conn.ok());
      if (conn.ok()) {
        EXPECT_TRUE((*conn)->Exec(sql, params, on_row).ok());
      }
    } else {
      auto conn = sqlite::Connection::Open(url_.substr(7), {});
      EXPECT_TRUE(conn.ok());
      if (conn.ok()) {
        EXPECT_TRUE((*conn)->Exec(sql, params, on_row).ok());
      }
    }
    return id;
  }
};

TEST_P(ContactIdentity, AnEmailIsOneContactWhateverTheCaseOfItsLocalPart) {
  ContactInput in;
  in.email = "Ada.Lovelace@Example.COM";
  auto ada = store_->contacts().Create(ws_, in);
  ASSERT_OK(ada);
  EXPECT_EQ(ada->email, "Ada.Lovelace@example.com");  // kept as first given, for sending

  ContactInput lower;
  lower.email = "ada.lovelace@example.com";
  auto again = store_->contacts().Create(ws_, lower);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto found = store_->contacts().GetByEmail(ws_, "ada.lovelace@example.com");
  ASSERT_OK(found);
  EXPECT_EQ(found->id, ada->id);
  lower.attributes = json::object{{"plan", "pro"}};
  auto up = store_->contacts().Upsert(ws_, lower);
  ASSERT_OK(up);
  EXPECT_FALSE(up->created);
  EXPECT_EQ(up->contact.id, ada->id);
  EXPECT_EQ(up->contact.email, "Ada.Lovelace@example.com");  // a variant names it, does not rewrite it
  auto listed = store_->contacts().List(ws_, {.email = "ADA.LOVELACE@example.com"});
  ASSERT_OK(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, ada->id);

  // Events find it by any case too, and never create a second contact.
  NewEvent e = EventFor("ADA.lovelace@example.com", "x");
  NewEvent f = EventFor("new.Person@example.com", "y");
  NewEvent g = EventFor("NEW.person@example.com", "z");
  auto r = store_->events().Append(ws_, {e, f, g}, kT0);
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].contact_id, ada->id);
  EXPECT_EQ((*r)[1].contact_id, (*r)[2].contact_id);
  EXPECT_EQ(store_->contacts().Get(ws_, (*r)[1].contact_id)->email, "new.Person@example.com");
  auto r2 = store_->events().Append(ws_, {EventFor("New.Person@example.com", "w")}, kT0);
  ASSERT_OK(r2);
  EXPECT_EQ((*r2)[0].contact_id, (*r)[1].contact_id);
  EXPECT_EQ(*store_->contacts().Count(ws_), 2);

  // Changing only the case of one's own address is allowed; taking another's is not.
  ContactInput recase;
  recase.email = "ada.lovelace@example.com";
  auto patched = store_->contacts().Update(ws_, ada->id, recase);
  ASSERT_OK(patched);
  EXPECT_EQ(patched->email, "ada.lovelace@example.com");
  ContactInput steal;
  steal.email = "NEW.PERSON@example.com";
  EXPECT_EQ(store_->contacts().Update(ws_, ada->id, steal).error().code, ErrorCode::kConflict);
}

TEST_P(ContactIdentity, OldCaseVariantsAreListedAndMergedIntoOneContactWithAnEvent) {
  Contact first = MakeContact("Bob@example.com", {{"plan", "pro"}});
  ContactId legacy = InsertLegacyVariant("bob@example.com");
  ASSERT_GT(legacy, first.id);
  // Lookups name the keyed one; the variant keeps its events, subscriptions and messages.
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "BOB@example.com")->id, first.id);
  NewEvent on_legacy;
  on_legacy.contact.id = legacy;
  on_legacy.name = "legacy.event";
  ASSERT_OK(store_->events().Append(ws_, {on_legacy}, kT0));
  ASSERT_OK(store_->topics().Create(ws_, Topic{.key = "news", .name = "News"}));
  ASSERT_OK(store_->topics().SetSubscription(ws_, legacy, "news", SubscriptionStatus::kSubscribed,
                                             {.source = "old"}));
  auto message = store_->outbox().Enqueue(Message(legacy, "legacy-msg"));
  ASSERT_OK(message);

  auto groups = store_->contacts().ListDuplicates(ws_);
  ASSERT_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  ASSERT_EQ((*groups)[0].size(), 2u);
  EXPECT_EQ((*groups)[0][0].id, first.id);
  EXPECT_EQ((*groups)[0][1].id, legacy);

  EXPECT_EQ(store_->contacts().Merge(ws_, first.id, first.id).error().code, ErrorCode::kInvalid);
  auto merged = store_->contacts().Merge(ws_, first.id, legacy);
  ASSERT_OK(merged);
  EXPECT_EQ(merged->attributes.at("plan"), "pro");
  EXPECT_EQ(merged->attributes.at("legacy"), true);  // what `into` lacked
  EXPECT_EQ(merged->email, "Bob@example.com");

  std::vector<std::string> names = TimelineNames(first.id);
  EXPECT_NE(std::find(names.begin(), names.end(), "legacy.event"), names.end());
  auto page = store_->events().ListForContact(ws_, first.id, {});
  ASSERT_OK(page);
  int merged_events = 0;
  for (const Event& ev : page->items) {
    if (ev.name != "contact.merged") continue;
    ++merged_events;
    EXPECT_EQ(ev.properties.at("merged_contact_id"), legacy);
    EXPECT_EQ(ev.properties.at("moved").at("subscriptions"), 1);
    EXPECT_EQ(ev.properties.at("moved").at("messages"), 1);
  }
  EXPECT_EQ(merged_events, 1);
  auto subs = store_->topics().ListSubscriptions(ws_, first.id);
  ASSERT_OK(subs);
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].consent.source, "old");
  EXPECT_EQ(store_->outbox().Get(ws_, message->message.id)->contact_id, first.id);
  EXPECT_EQ(store_->contacts().Get(ws_, legacy)->status, ContactStatus::kErased);
  EXPECT_TRUE(store_->contacts().ListDuplicates(ws_)->empty());
  EXPECT_EQ(store_->contacts().Merge(ws_, first.id, legacy).error().code, ErrorCode::kConflict);
}

TEST_P(ContactIdentity, AVariantLeftWithoutAKeyTakesItWhenMergedInto) {
  Contact first = MakeContact("Carol@example.com");
  ContactId legacy = InsertLegacyVariant("carol@example.com");
  ASSERT_OK(store_->contacts().Merge(ws_, legacy, first.id));
  EXPECT_EQ(store_->contacts().GetByEmail(ws_, "CAROL@example.com")->id, legacy);
}

INSTANTIATE_TEST_SUITE_P(Backends, ContactIdentity, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
