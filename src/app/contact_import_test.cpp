#include "app/contact_import.h"

#include <gtest/gtest.h>

namespace rapport::app {
namespace {

using Views = std::vector<std::string_view>;

ImportMapping Map(const Views& header) {
  auto m = MapHeader(header);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : ImportMapping{};
}

TEST(MapHeaderTest, FieldsAttributesAndTypes) {
  auto m = Map({"Email", " external_id ", "STATUS", "timezone", "locale", "attributes", "created_at",
                "first_name", "zip:string", "interests:list", "vip:bool"});
  ASSERT_EQ(m.columns.size(), 11u);
  EXPECT_EQ(m.columns[0].kind, ColumnKind::kEmail);
  EXPECT_EQ(m.columns[1].kind, ColumnKind::kExternalId);
  EXPECT_EQ(m.columns[2].kind, ColumnKind::kStatus);
  EXPECT_EQ(m.columns[5].kind, ColumnKind::kAttributesJson);
  EXPECT_EQ(m.columns[6].kind, ColumnKind::kIgnored);
  EXPECT_EQ(m.columns[7].kind, ColumnKind::kAttribute);
  EXPECT_EQ(m.columns[7].attribute, "first_name");
  EXPECT_EQ(m.columns[7].type, ValueType::kAuto);
  EXPECT_EQ(m.columns[8].attribute, "zip");
  EXPECT_EQ(m.columns[8].type, ValueType::kString);
  EXPECT_EQ(m.columns[9].type, ValueType::kList);
  EXPECT_EQ(m.columns[10].type, ValueType::kBool);
}

TEST(MapHeaderTest, Errors) {
  auto missing = MapHeader({"external_id", "city"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no email column"), std::string::npos);

  auto dup = MapHeader({"email", "city", "city:string"});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("column 3"), std::string::npos) << dup.error().message;
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);

  auto badtype = MapHeader({"email", "age:integer"});
  ASSERT_FALSE(badtype.ok());
  EXPECT_NE(badtype.error().message.find("unknown type"), std::string::npos);

  auto badname = MapHeader({"email", "first name"});
  ASSERT_FALSE(badname.ok());
  EXPECT_NE(badname.error().message.find("column 2 (\"first name\")"), std::string::npos)
      << badname.error().message;
}

json::value Typed(std::string_view text, ValueType t = ValueType::kAuto) {
  auto v = TypeValue(text, t);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : json::value("<error>");
}

TEST(TypeValueTest, AutoTyping) {
  EXPECT_EQ(Typed("42"), json::value(42));
  EXPECT_EQ(Typed("-7"), json::value(-7));
  EXPECT_EQ(Typed("0"), json::value(0));
  EXPECT_EQ(Typed("19.99"), json::value(19.99));
  EXPECT_EQ(Typed("true"), json::value(true));
  EXPECT_EQ(Typed("FALSE"), json::value(false));
  EXPECT_EQ(Typed("1990-04-12"), json::value("1990-04-12"));
  EXPECT_TRUE(Typed("").is_null());
  // Things that look numeric but are not numbers keep their text.
  EXPECT_EQ(Typed("007"), json::value("007"));
  EXPECT_EQ(Typed("+33 1 23"), json::value("+33 1 23"));
  EXPECT_EQ(Typed("1e5"), json::value("1e5"));
  EXPECT_EQ(Typed("1."), json::value("1."));
  EXPECT_EQ(Typed("99999999999999999999"), json::value("99999999999999999999"));
  EXPECT_EQ(Typed("1990-02-30"), json::value("1990-02-30"));  // not a real date: a plain string
  EXPECT_EQ(Typed("yes"), json::value("yes"));
  EXPECT_EQ(Typed("Paris"), json::value("Paris"));
}

TEST(TypeValueTest, ForcedTypes) {
  EXPECT_EQ(Typed("02134", ValueType::kString), json::value("02134"));
  EXPECT_EQ(Typed("12", ValueType::kString), json::value("12"));
  EXPECT_EQ(Typed("12", ValueType::kNumber), json::value(12));
  EXPECT_EQ(Typed("yes", ValueType::kBool), json::value(true));
  EXPECT_EQ(Typed("0", ValueType::kBool), json::value(false));
  EXPECT_EQ(Typed("2024-01-31", ValueType::kDate), json::value("2024-01-31"));
  EXPECT_EQ(Typed("books; music ;;travel", ValueType::kList), json::parse(R"(["books","music","travel"])"));
  EXPECT_TRUE(Typed(" ; ", ValueType::kList).is_null());
  EXPECT_FALSE(TypeValue("abc", ValueType::kNumber).ok());
  EXPECT_FALSE(TypeValue("maybe", ValueType::kBool).ok());
  EXPECT_FALSE(TypeValue("2024-02-30", ValueType::kDate).ok());
  EXPECT_FALSE(TypeValue("31/01/2024", ValueType::kDate).ok());
}

TEST(MapRowTest, MapsAndValidates) {
  auto m = Map({"email", "external_id", "status", "timezone", "locale", "first_name", "ltv", "interests:list",
                "zip:string"});
  auto in = MapRow(m, {"Jane@Example.COM", "cust-1", "Active", "Europe/Paris", "fr-FR", "Jane", "120.5",
                       "books;music", "02134"});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(*in->email, "Jane@example.com");
  EXPECT_EQ(*in->external_id, "cust-1");
  EXPECT_EQ(*in->status, ContactStatus::kActive);
  EXPECT_EQ(*in->timezone, "Europe/Paris");
  EXPECT_EQ(*in->locale, "fr-FR");
  EXPECT_EQ(in->attributes->at("first_name"), json::value("Jane"));
  EXPECT_EQ(in->attributes->at("ltv"), json::value(120.5));
  EXPECT_EQ(in->attributes->at("interests"), json::parse(R"(["books","music"])"));
  EXPECT_EQ(in->attributes->at("zip"), json::value("02134"));

  auto sparse = MapRow(m, {"a@example.com", "", "", "", "", "", "", "", ""});
  ASSERT_TRUE(sparse.ok());
  EXPECT_FALSE(sparse->external_id.has_value());
  EXPECT_FALSE(sparse->status.has_value());
  EXPECT_FALSE(sparse->timezone.has_value());
  EXPECT_FALSE(sparse->attributes.has_value());
}

TEST(MapRowTest, RejectReasons) {
  auto m = Map({"email", "timezone", "status", "age:number"});
  struct Case {
    Views row;
    const char* reason;
  };
  for (const Case& c : std::initializer_list<Case>{
           {{"not-an-email", "", "", ""}, "email needs an @"},
           {{"", "", "", ""}, "email is required"},
           {{"a@example.com", "Mars/Olympus", "", ""}, "timezone"},
           {{"a@example.com", "", "erased", ""}, "status: \"erased\" is not one of"},
           {{"a@example.com", "", "", "old"}, "attributes.age: \"old\" is not a number"},
           {{"a@example.com", ""}, "expected 4 fields, found 2"},
       }) {
    auto r = MapRow(m, c.row);
    ASSERT_FALSE(r.ok()) << c.reason;
    std::string reason = RejectReason(r.error());
    EXPECT_NE(reason.find(c.reason), std::string::npos) << reason;
  }
}

TEST(MapRowTest, AttributesJsonColumnMergesUnderExplicitColumns) {
  auto m = Map({"email", "attributes", "city", "created_at"});
  auto in = MapRow(
      m, {"a@example.com", R"({"city":"Lyon","plan":"pro","tags":["x"]})", "Paris", "2024-01-01T00:00:00Z"});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(in->attributes->at("city"), json::value("Paris"));
  EXPECT_EQ(in->attributes->at("plan"), json::value("pro"));
  EXPECT_EQ(in->attributes->size(), 3u);
  auto bad = MapRow(m, {"a@example.com", "[1,2]", "", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "attributes");
}

}  // namespace
}  // namespace rapport::app

// The driver against the real SQLite store.
#include <filesystem>
#include <sstream>

#include "store/open.h"

namespace rapport::app {
namespace {

class RecordingListener final : public ImportListener {
 public:
  void OnHeader(std::string_view h) override { header = std::string(h); }
  void OnReject(int64_t line, std::string_view row, std::string_view reason) override {
    rejects.push_back({line, std::string(row), std::string(reason)});
  }
  void OnProgress(uint64_t, const ImportSummary&) override { ++progress_calls; }
  struct Reject {
    int64_t line;
    std::string row, reason;
  };
  std::string header;
  std::vector<Reject> rejects;
  int progress_calls = 0;
};

class ImportContactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport_import_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto store = OpenStore((dir_ / "rapport.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate().ok());
    auto ws = store_->workspaces().Create("default");
    ASSERT_TRUE(ws.ok());
    ws_ = ws->id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<ImportSummary> Run(const std::string& csv, RecordingListener& listener, size_t batch = 2) {
    std::istringstream in(csv);
    CsvReader reader(in);
    ImportOptions options;
    options.batch_size = batch;
    return ImportContacts(reader, store_->contacts(), ws_, options, listener);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  WorkspaceId ws_ = 0;
};

TEST_F(ImportContactsTest, KeepsGoodRowsAndReportsBadOnesByLine) {
  RecordingListener l;
  auto s =
      Run("email,external_id,city,age:number\r\n"
          "ada@example.com,c1,Paris,36\r\n"
          "not-an-email,c2,Lyon,1\r\n"
          "\"bob@example.com\",c3,\"Multi\nline\",40\r\n"
          "carol@example.com,c4,Rome\r\n"
          "dan@example.com,c5,Oslo,old\r\n"
          "bob@example.com,c1,Nice,30\r\n"  // c1 is ada, the email is bob: the store refuses it
          "ada@example.com,,Marseille,37\r\n",
          l);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->created, 2);
  EXPECT_EQ(s->updated, 1);
  EXPECT_EQ(s->rejected, 4);
  EXPECT_EQ(l.header, "email,external_id,city,age:number");
  ASSERT_EQ(l.rejects.size(), 4u);
  std::sort(l.rejects.begin(), l.rejects.end(), [](auto& a, auto& b) { return a.line < b.line; });
  EXPECT_EQ(l.rejects[0].line, 3);
  EXPECT_EQ(l.rejects[0].row, "not-an-email,c2,Lyon,1");
  EXPECT_NE(l.rejects[0].reason.find("email"), std::string::npos);
  EXPECT_EQ(l.rejects[1].line, 6);  // the multi-line record occupies lines 4-5
  EXPECT_NE(l.rejects[1].reason.find("expected 4 fields, found 3"), std::string::npos);
  EXPECT_EQ(l.rejects[2].line, 7);
  EXPECT_NE(l.rejects[2].reason.find("attributes.age"), std::string::npos);
  EXPECT_EQ(l.rejects[3].line, 8);
  EXPECT_EQ(l.rejects[3].row, "bob@example.com,c1,Nice,30");
  EXPECT_GE(l.progress_calls, 2);

  auto ada = store_->contacts().GetByEmail(ws_, "ada@example.com");
  ASSERT_TRUE(ada.ok());
  EXPECT_EQ(ada->attributes.at("city"), json::value("Marseille"));
  EXPECT_EQ(ada->attributes.at("age"), json::value(37));
  auto bob = store_->contacts().GetByEmail(ws_, "bob@example.com");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->attributes.at("city"), json::value("Multi\nline"));
}

TEST_F(ImportContactsTest, Issue14RejectedRowsAreWrittenExactlyAsInTheInput) {
  RecordingListener l;
  // Quotes that need none, a multi-line field, a malformed record and spaces: each reject must be the input's
  // bytes, not the row re-encoded.
  auto s =
      Run("\"email\",\"external_id\",city\r\n"
          "\"ada@example.com\",\"c1\",Paris\r\n"
          "\"not-an-email\",c2,\"Ly\non\"\r\n"
          "\"bob@example.com\",\"c1\",\"Nice\"\r\n"
          "x@example.com,\"c\"3,Rome\n"
          "eve@example.com, c5 ,Oslo,extra\n",
          l, /*batch=*/1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(l.header, "\"email\",\"external_id\",city");
  std::sort(l.rejects.begin(), l.rejects.end(), [](auto& a, auto& b) { return a.line < b.line; });
  ASSERT_EQ(l.rejects.size(), 3u);
  EXPECT_EQ(l.rejects[0].row, "\"not-an-email\",c2,\"Ly\non\"");
  EXPECT_EQ(l.rejects[1].row, "x@example.com,\"c\"3,Rome");
  EXPECT_EQ(l.rejects[2].row, "eve@example.com, c5 ,Oslo,extra");
}

TEST_F(ImportContactsTest, HeaderProblemsStopTheImport) {
  RecordingListener l;
  auto empty = Run("", l);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  auto no_email = Run("name,city\nx,y\n", l);
  ASSERT_FALSE(no_email.ok());
  EXPECT_NE(no_email.error().message.find("no email column"), std::string::npos);
  auto count = store_->contacts().Count(ws_);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
}

}  // namespace
}  // namespace rapport::app
