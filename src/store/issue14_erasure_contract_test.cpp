// Issue 14: an erased person is never mailed again. Every path that creates a contact consults
// the erasure list (store/sql/erasure_list.h) in its own transaction, whatever the letter case of
// the address; only an explicit reconsent re-creates the contact, and says so on its timeline.
// Runs on SQLite and PostgreSQL (store_contract_fixture.h), plus the row-by-row event Append.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/postgres/pg_connection.h"
#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

void ExpectErased(const Error& e) {
  EXPECT_EQ(e.code, ErrorCode::kConflict) << e.message;
  EXPECT_EQ(e.field, "email");
  EXPECT_TRUE(e.message.starts_with("erased:")) << e.message;
}

class Issue14Erasure : public StoreContract {
 protected:
  void SetUp() override {
    StoreContract::SetUp();
    store_->SetErasureKey("contract-erasure-key-0123456789abcdef");
    Contact c = MakeContact("Dana@example.com", {{"plan", "gold"}});
    ASSERT_OK(store_->contacts().Erase(ws_, c.id));
  }
};

TEST_P(Issue14Erasure, CreateRefusesAnErasedAddressInAnyCase) {
  for (const char* email : {"Dana@example.com", "dana@example.com", "DANA@EXAMPLE.COM"}) {
    ContactInput in;
    in.email = email;
    auto r = store_->contacts().Create(ws_, in);
    ASSERT_FALSE(r.ok()) << email;
    ExpectErased(r.error());
  }
  auto count = store_->contacts().Count(ws_);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
}

TEST_P(Issue14Erasure, UpsertImportAndUpdateRefuseAnErasedAddress) {
  ContactInput in;
  in.email = "dana@example.com";
  in.attributes = json::object{{"plan", "silver"}};
  auto up = store_->contacts().Upsert(ws_, in);
  ASSERT_FALSE(up.ok());
  ExpectErased(up.error());

  std::vector<ContactInput> rows(2);
  rows[0].email = "DANA@example.com";
  rows[1].email = "erin@example.com";
  std::vector<Result<UpsertResult>> results;
  ASSERT_OK(store_->contacts().Import(ws_, rows,
                                      [&](size_t, const Result<UpsertResult>& r) { results.push_back(r); }));
  ASSERT_EQ(results.size(), 2u);
  ASSERT_FALSE(results[0].ok());
  ExpectErased(results[0].error());
  EXPECT_TRUE(results[1].ok());  // the other rows of the batch are stored

  // Moving another contact onto the erased address would mail the person as well.
  Contact frank = MakeContact("frank@example.com");
  ContactInput patch;
  patch.email = "dana@example.com";
  auto moved = store_->contacts().Update(ws_, frank.id, patch);
  ASSERT_FALSE(moved.ok());
  ExpectErased(moved.error());
}

TEST_P(Issue14Erasure, AnEventNamingAnErasedAddressFailsAndTheRestOfTheBatchIsStored) {
  std::vector<NewEvent> batch = {EventFor("dana@example.com", "order.placed"),
                                 EventFor("gina@example.com", "order.placed"),
                                 EventFor("Dana@Example.com", "page.viewed")};
  auto r = store_->events().Append(ws_, batch, kT0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kFailed);
  ExpectErased((*r)[0].error);
  EXPECT_EQ((*r)[1].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*r)[2].outcome, AppendOutcome::kFailed);
  ExpectErased((*r)[2].error);
  EXPECT_FALSE(store_->contacts().GetByEmail(ws_, "dana@example.com").ok());
}

TEST_P(Issue14Erasure, ReconsentCreatesTheContactAndRecordsIt) {
  ContactInput in;
  in.email = "dana@example.com";
  in.reconsent = true;
  auto c = store_->contacts().Create(ws_, in);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto page = store_->events().ListForContact(ws_, c->id, {.limit = 10});
  ASSERT_TRUE(page.ok());
  bool recorded = false;
  for (const Event& e : page->items) {
    if (e.name != "contact.created") continue;
    const auto* origin = e.properties.if_contains("origin");
    recorded = origin && origin->is_object() && origin->as_object().if_contains("reconsent") &&
               origin->as_object().at("reconsent") == json::value(true);
  }
  EXPECT_TRUE(recorded);
  // The person is a contact again: events and upserts reach it.
  auto r = store_->events().Append(ws_, {EventFor("dana@example.com", "order.placed")}, kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*r)[0].contact_id, c->id);
  // Erased again, refused again.
  ASSERT_OK(store_->contacts().Erase(ws_, c->id));
  ContactInput again;
  again.email = "dana@example.com";
  auto up = store_->contacts().Upsert(ws_, again);
  ASSERT_FALSE(up.ok());
  ExpectErased(up.error());
}

TEST_P(Issue14Erasure, TheListIsKeyed) {
  // The tombstone is an HMAC under the data directory's secret: under another key it names no one.
  store_->SetErasureKey("another-key-0123456789abcdef0123456789");
  ContactInput in;
  in.email = "dana@example.com";
  EXPECT_TRUE(store_->contacts().Create(ws_, in).ok());
}

// Every file of the store directory that holds `needle` (the SQLite database, -wal, -shm).
std::vector<std::string> FilesHolding(const std::filesystem::path& dir, std::string_view needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.find(needle) != std::string::npos) found.push_back(entry.path().filename().string());
  }
  return found;
}

TEST_P(Issue14Erasure, EraseReturnsTheMessageIdsAndLeavesNoCopyInTheStoreFiles) {
  Contact c = MakeContact("Zed.Unique14@example.com", {{"code", "zq-store-unique-4417"}});
  NewEvent order = EventFor("zed.unique14@example.com", "order_placed");
  order.properties["note"] = "zq-store-unique-4417";
  ASSERT_OK(store_->events().Append(ws_, {order}, kT0));
  std::vector<MessageId> ids;
  for (int i = 0; i < 2; ++i) {
    OutboxMessage m = Message(c.id);
    m.rcpt_to = "Zed.Unique14@example.com";
    m.mime = "To: Zed.Unique14@example.com\r\nSubject: zq-store-unique-4417\r\n\r\nbody\r\n";
    auto queued = store_->outbox().Enqueue(m);
    ASSERT_OK(queued);
    ids.push_back(queued->message.id);
  }
  const bool sqlite = GetParam() == std::string("sqlite");
  if (sqlite) {  // before: the search finds them (it can fail)
    EXPECT_FALSE(FilesHolding(dir_, "zq-store-unique-4417").empty());
    EXPECT_FALSE(FilesHolding(dir_, "Zed.Unique14@example.com").empty());
  }
  auto erased = store_->contacts().Erase(ws_, c.id);
  ASSERT_OK(erased);
  EXPECT_EQ(erased->message_ids, ids);
  // Erasing again changes nothing and names the same messages (to retry their copies).
  auto again = store_->contacts().Erase(ws_, c.id);
  ASSERT_OK(again);
  EXPECT_EQ(again->message_ids, ids);
  if (sqlite) {
    // SQLite: the deleted content was zeroed and the WAL checkpointed and truncated, so no file
    // of the store holds the address or the attribute any more, while the store is open.
    for (const char* needle :
         {"zq-store-unique-4417", "Zed.Unique14@example.com", "zed.unique14@example.com"})
      EXPECT_EQ(FilesHolding(dir_, needle), std::vector<std::string>{}) << needle;
    std::error_code ec;
    EXPECT_EQ(std::filesystem::file_size(dir_ / "sub" / "rapport.db-wal", ec), 0u);
  }
}

// Issue 16: erasure reaches the journey, campaign and analytics tables too. A run's context holds
// its entry event's properties; its timer ("run:<id>") and the entry timers ("anniv:<journey>:
// <contact>", "inactive:...") name the contact. Another contact's rows stay.
TEST_P(Issue14Erasure, EraseDeletesTheContactsJourneyRunsTimersRecipientsAndAnalyticsState) {
  Contact c = MakeContact("jo.journey16@example.com");
  Contact kept = MakeContact("kim.kept16@example.com");
  Journey j;
  j.workspace_id = ws_;
  j.name = "cart";
  j.definition = R"({"name":"cart"})";
  auto journey = store_->journeys().Create(j);
  ASSERT_OK(journey);
  JourneyWrite w;
  for (ContactId who : {c.id, kept.id}) {
    JourneyRun r;
    r.workspace_id = ws_;
    r.journey_id = journey->id;
    r.version = journey->version;
    r.contact_id = who;
    r.state = RunState::kWaiting;
    r.step = "wait";
    r.context = std::string(R"({"event":{"name":"cart.abandoned","properties":{"note":")") +
                (who == c.id ? "zq-journey-context-1661" : "kept") + R"("}}})";
    r.entered_at = kT0;
    w.runs.push_back(RunWrite{r, 0, kT0 + std::chrono::hours(1)});
  }
  const std::string prefix = ":" + std::to_string(journey->id) + ":";
  const std::string anniv = "anniv" + prefix + std::to_string(c.id);
  const std::string inactive = "inactive" + prefix + std::to_string(c.id);
  const std::string kept_anniv = "anniv" + prefix + std::to_string(kept.id);
  w.timers.push_back(
      TimerWrite{ws_, anniv, R"({"note":"zq-journey-timer-1661"})", kT0 + std::chrono::hours(24)});
  w.timers.push_back(TimerWrite{ws_, inactive, "{}", kT0 + std::chrono::hours(48)});
  w.timers.push_back(TimerWrite{ws_, kept_anniv, "{}", kT0 + std::chrono::hours(24)});
  ASSERT_OK(store_->journeys().Apply(w));
  const RunId run = w.runs[0].run.id, kept_run = w.runs[1].run.id;
  ASSERT_GT(run, 0);
  ASSERT_GT(kept_run, 0);
  const std::string run_timer = "run:" + std::to_string(run), kept_timer = "run:" + std::to_string(kept_run);
  ASSERT_TRUE(store_->work().Find(kJourneyTimerQueue, run_timer)->has_value());

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
  recipients[0].contact_id = c.id;
  recipients[0].reason = "zq-recipient-1661";
  recipients[1].contact_id = kept.id;
  for (CampaignRecipient& r : recipients) r.due_at = kT0;
  auto occurrence = store_->campaigns().Freeze(o, recipients);
  ASSERT_OK(occurrence);

  ASSERT_OK(store_->analytics().Commit(
      "analytics", 1, {},
      {{ws_, "contact", c.id, std::string(R"({"note":"zq-analytics-state-1661"})")},
       {ws_, "send_time", c.id, std::string(R"({"hours":[],"timezone":"zq-analytics-state-1661"})")},
       {ws_, "contact", kept.id, std::string(R"({"orders":1})")}}));

  const bool sqlite = GetParam() == std::string("sqlite");
  const std::vector<const char*> needles{"zq-journey-context-1661", "zq-journey-timer-1661",
                                         "zq-recipient-1661", "zq-analytics-state-1661"};
  if (sqlite) {  // before: the search finds them (it can fail)
    for (const char* needle : needles) EXPECT_FALSE(FilesHolding(dir_, needle).empty()) << needle;
  }
  ASSERT_OK(store_->contacts().Erase(ws_, c.id));

  auto gone = store_->journeys().GetRun(run);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->journeys().ContactRuns(ws_, c.id, 10)->empty());
  for (const std::string& key : {run_timer, anniv, inactive})
    EXPECT_FALSE(store_->work().Find(kJourneyTimerQueue, key)->has_value()) << key;
  auto listed = store_->campaigns().Recipients(occurrence->id, 0, 100);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).contact_id, kept.id);
  std::vector<std::pair<std::string, int64_t>> entities;
  ASSERT_OK(store_->analytics().ForEachEntity(
      [&](WorkspaceId, std::string_view kind, int64_t id, std::string_view) {
        entities.emplace_back(std::string(kind), id);
        return true;
      }));
  EXPECT_EQ(entities, (std::vector<std::pair<std::string, int64_t>>{{"contact", kept.id}}));
  // The other contact's run and timers are untouched.
  EXPECT_TRUE(store_->journeys().GetRun(kept_run).ok());
  EXPECT_TRUE(store_->work().Find(kJourneyTimerQueue, kept_timer)->has_value());
  EXPECT_TRUE(store_->work().Find(kJourneyTimerQueue, kept_anniv)->has_value());

  if (sqlite) {
    for (const char* needle : needles)
      EXPECT_EQ(FilesHolding(dir_, needle), std::vector<std::string>{}) << needle;
    std::error_code ec;
    EXPECT_EQ(std::filesystem::file_size(dir_ / "sub" / "rapport.db-wal", ec), 0u);
  }
}

// A tombstone written before the erasure key existed keeps the bare SHA-256 hex of the address as
// it was stored (64 hex digits, no "h1:" prefix); it is still honoured for that exact address.
TEST_P(Issue14Erasure, ALegacyBareHashTombstoneIsStillHonoured) {
  const std::string legacy_hash = sql::Sha256Hex("legacy.erased@example.com");
  const std::string statement =
      "INSERT INTO contacts (workspace_id, email, email_hash, status, attributes, timezone, locale, "
      "created_at, updated_at) VALUES ($1, NULL, $2, 'erased', '{}', '', '', 1, 1)";
  const std::vector<sql::Param> params{ws_, std::string_view(legacy_hash)};
  if (GetParam() == std::string("postgres")) {
    auto conn = postgres::PgConnection::Connect(url_);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec(statement, params, nullptr).ok());
  } else {
    auto conn = sqlite::Connection::Open(url_.substr(7), {});
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec(statement, params, nullptr).ok());
  }
  ContactInput in;
  in.email = "legacy.erased@example.com";
  auto r = store_->contacts().Create(ws_, in);
  ASSERT_FALSE(r.ok());
  ExpectErased(r.error());
  NewEvent e = EventFor("legacy.erased@example.com", "order_placed");
  auto appended = store_->events().Append(ws_, {e}, kT0);
  ASSERT_OK(appended);
  EXPECT_NE((*appended)[0].outcome, AppendOutcome::kAccepted);
  // Another address is not caught by it.
  in.email = "legacy.kept@example.com";
  ASSERT_OK(store_->contacts().Create(ws_, in));
  // Reconsent passes it.
  in.email = "legacy.erased@example.com";
  in.reconsent = true;
  ASSERT_OK(store_->contacts().Create(ws_, in));
}

INSTANTIATE_TEST_SUITE_P(Backends, Issue14Erasure, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// The generic row-by-row Append (the set-based ones above are the backends' own).
TEST(Issue14ErasureRowByRow, AnEventNamingAnErasedAddressFails) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-issue14-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  FakeClock clock{kT0};
  {
    auto db = sqlite::SqliteDatabase::Open((dir / "rows.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    sql::SqlStore store(std::move(db).value(), sqlite::SqliteMigrations(), "sqlite", clock);
    store.SetErasureKey("row-by-row-key-0123456789abcdef0123");
    ASSERT_TRUE(store.Migrate().ok());
    WorkspaceId ws = store.workspaces().Create("acme")->id;
    ContactInput in;
    in.email = "dana@example.com";
    auto c = store.contacts().Create(ws, in);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(store.contacts().Erase(ws, c->id).ok());
    NewEvent e;
    e.contact.email = "DANA@example.com";
    e.name = "order.placed";
    auto r = store.events().Append(ws, {e}, kT0);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)[0].outcome, AppendOutcome::kFailed);
    ExpectErased((*r)[0].error);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport
