#include "app/contact_export.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <streambuf>

#include "app/contact_import.h"
#include "app/csv_reader.h"
#include "core/json_write.h"
#include "http/json_codec.h"
#include "store/open.h"

namespace rapport::app {
namespace {

Contact Sample() {
  Contact c;
  c.id = 7;
  c.email = "jane@example.com";
  c.external_id = "cust, \"7\"";
  c.status = ContactStatus::kUnsubscribed;
  c.timezone = "Europe/Paris";
  c.locale = "fr";
  c.attributes = json::parse(R"({"city":"Lyon","ltv":12.5,"interests":["a","b"]})").as_object();
  c.created_at = FromMicros(1700000000000000);
  c.updated_at = FromMicros(1700000001000000);
  return c;
}

TEST(ContactExportTest, CsvRowReimports) {
  std::string out;
  AppendContactCsvHeader(out);
  AppendContactCsv(out, Sample());
  std::istringstream in(out);
  CsvReader reader(in);
  CsvRecord rec;
  ASSERT_TRUE(reader.Next(rec));
  auto mapping = MapHeader(rec.fields);
  ASSERT_TRUE(mapping.ok()) << mapping.error().message;
  ASSERT_TRUE(reader.Next(rec));
  EXPECT_EQ(rec.fields[5], "2023-11-14T22:13:20Z");
  auto input = MapRow(*mapping, rec.fields);
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(*input->email, "jane@example.com");
  EXPECT_EQ(*input->external_id, "cust, \"7\"");
  EXPECT_EQ(*input->status, ContactStatus::kUnsubscribed);
  EXPECT_EQ(*input->timezone, "Europe/Paris");
  EXPECT_EQ(*input->attributes, Sample().attributes);
  EXPECT_FALSE(reader.Next(rec));
}

TEST(ContactExportTest, JsonLine) {
  std::string out;
  AppendContactJsonLine(out, Sample());
  ASSERT_EQ(out.back(), '\n');
  auto v = json::parse(out).as_object();
  EXPECT_EQ(v["id"], json::value(7));
  EXPECT_EQ(v["status"], json::value("unsubscribed"));
  EXPECT_EQ(v["attributes"].as_object()["ltv"], json::value(12.5));
  EXPECT_EQ(v["created_at"], json::value("2023-11-14T22:13:20Z"));
  Contact bare;
  bare.email = "a@example.com";
  std::string line;
  AppendContactJsonLine(line, bare);
  EXPECT_TRUE(json::parse(line).as_object()["external_id"].is_null());
}

TEST(ContactExportTest, Issue14AbsentOptionalFieldsAreNullAsInTheApi) {
  Contact bare;
  bare.id = 3;
  bare.email = "a@example.com";
  std::string line;
  AppendContactJsonLine(line, bare);
  json::object v = json::parse(line).as_object();
  EXPECT_TRUE(v["external_id"].is_null()) << line;
  EXPECT_TRUE(v["timezone"].is_null()) << line;
  EXPECT_TRUE(v["locale"].is_null()) << line;
  EXPECT_EQ(json::value(v), json::value(http::EncodeContact(bare)));
}

// The export writes each line in place (no JSON value per contact): byte for byte what the API's
// encoder writes, for every kind of field.
TEST(ContactExportTest, Issue14JsonLineIsTheApiEncodingByteForByte) {
  std::vector<Contact> contacts;
  contacts.push_back(Sample());
  Contact bare;
  bare.id = 1;
  bare.external_id = "only-ext";
  contacts.push_back(bare);
  Contact odd = Sample();
  odd.id = 9007199254740993;
  odd.email = "q\"uo\\te\x01\x1f\t@exa\xc3\xa9mple.com";
  odd.external_id = std::string("nul\0byte", 8);
  odd.status = ContactStatus::kComplained;
  odd.timezone = "";
  odd.locale = "pt-BR";
  odd.attributes = json::parse(R"({"n":42.5,"tiny":1.5e-7,"big":1e21,"neg":-3,"t":true,"f":false,"z":null,)"
                               R"("nested":{"a":[1,"x\n",{"b":0.1}]},"s":"\u2028 \"x\""})")
                       .as_object();
  contacts.push_back(odd);
  for (const Contact& c : contacts) {
    std::string line;
    AppendContactJsonLine(line, c);
    EXPECT_EQ(line, WriteJson(http::EncodeContact(c)) + "\n");
  }
}

TEST(ContactExportTest, Issue14TimestampsAreWrittenAsFormatTimestampWrites) {
  std::vector<int64_t> micros = {0,
                                 1,
                                 -1,
                                 999'999,
                                 1'000'000,
                                 -86'400'000'000,
                                 951'782'400'000'000,
                                 1'700'000'000'123'456,
                                 253'402'300'799'999'999,
                                 253'402'300'800'000'000,
                                 -62'167'219'200'000'000,
                                 -62'167'219'200'000'001};
  uint64_t x = 88172645463325252u;  // xorshift: timestamps over years 0..9999 and beyond
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    micros.push_back(static_cast<int64_t>(x % 700'000'000'000'000'000u) - 350'000'000'000'000'000);
  }
  for (int64_t us : micros) {
    std::string out;
    AppendTimestampString(out, FromMicros(us));
    ASSERT_EQ(out, "\"" + FormatTimestamp(FromMicros(us)) + "\"") << us;
  }
}

// A stream buffer that keeps only the size of each write.
class WriteSizes : public std::streambuf {
 public:
  std::vector<size_t> sizes;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    sizes.push_back(static_cast<size_t>(n));
    return n;
  }
  int overflow(int c) override {
    if (c != traits_type::eof()) sizes.push_back(1);
    return c;
  }
};

// The export holds a bounded buffer whatever the size of the workspace: it writes as it reads
// (here ~3.5 MB of contacts in writes of about 1 MiB, never the whole file at once).
TEST(ContactExportTest, Issue14ExportStreamsInBoundedWrites) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport_export_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = OpenStore((dir / "rapport.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->Migrate().ok());
    auto ws = (*store)->workspaces().Create("default");
    ASSERT_TRUE(ws.ok());
    std::vector<ContactInput> inputs(3000);
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputs[i].email = "c" + std::to_string(i) + "@example.com";
      inputs[i].attributes = json::object{{"bio", std::string(1000, 'a' + static_cast<char>(i % 26))}};
    }
    ASSERT_TRUE(
        (*store)
            ->contacts()
            .Import(ws->id, inputs,
                    [](size_t, const Result<UpsertResult>& r) { ASSERT_TRUE(r.ok()) << r.error().message; })
            .ok());
    for (ExportFormat format : {ExportFormat::kJsonLines, ExportFormat::kCsv}) {
      WriteSizes sink;
      std::ostream out(&sink);
      auto count = ExportContacts((*store)->contacts(), ws->id, format, out);
      ASSERT_TRUE(count.ok()) << count.error().message;
      EXPECT_EQ(*count, 3000);
      size_t total = 0, largest = 0;
      for (size_t n : sink.sizes) total += n, largest = std::max(largest, n);
      EXPECT_GT(total, 3'000'000u);
      EXPECT_GE(sink.sizes.size(), 3u);
      EXPECT_LE(largest, (1u << 20) + 4096) << "one write of " << largest << " bytes";
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(ContactExportTest, ParseFormat) {
  EXPECT_EQ(*ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(*ParseExportFormat("jsonl"), ExportFormat::kJsonLines);
  EXPECT_FALSE(ParseExportFormat("xml").ok());
}

}  // namespace
}  // namespace rapport::app
