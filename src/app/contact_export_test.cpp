#include "app/contact_export.h"

#include <gtest/gtest.h>

#include <sstream>

#include "app/contact_import.h"
#include "app/csv_reader.h"
#include "http/json_codec.h"

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

TEST(ContactExportTest, ParseFormat) {
  EXPECT_EQ(*ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(*ParseExportFormat("jsonl"), ExportFormat::kJsonLines);
  EXPECT_FALSE(ParseExportFormat("xml").ok());
}

}  // namespace
}  // namespace rapport::app
