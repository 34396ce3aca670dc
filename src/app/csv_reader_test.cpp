#include "app/csv_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace rapport::app {
namespace {

struct Row {
  std::vector<std::string> fields;
  int64_t line;
  std::string error;
};

// Reads everything with a given chunk size (small chunks exercise records split across reads).
std::vector<Row> ReadAll(const std::string& text, size_t chunk = 1 << 20) {
  std::istringstream in(text);
  CsvReader reader(in, ',', chunk);
  CsvRecord rec;
  std::vector<Row> rows;
  while (reader.Next(rec)) {
    Row r{{}, rec.line, std::string(rec.error)};
    for (auto f : rec.fields) r.fields.emplace_back(f);
    rows.push_back(std::move(r));
  }
  return rows;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, Issue14RecordsCarryTheirRawBytes) {
  const std::string text =
      "\xEF\xBB\xBF\"a\",b\r\n\r\n\"x\"\"y\",\"multi\r\nline\"\n\n"
      "\"bad\"z,1\rlast, spaced ";
  for (size_t chunk : {size_t{16}, size_t{1} << 20}) {
    std::istringstream in(text);
    CsvReader reader(in, ',', chunk);
    CsvRecord rec;
    std::vector<std::string> raws;
    while (reader.Next(rec)) raws.emplace_back(rec.raw);
    EXPECT_EQ(raws, (std::vector<std::string>{"\"a\",b", "\"x\"\"y\",\"multi\r\nline\"", "\"bad\"z,1",
                                              "last, spaced "}))
        << chunk;
  }
}

TEST(CsvReaderTest, PlainRecordsLfAndCrlf) {
  for (size_t chunk : {size_t{16}, size_t{1} << 20}) {
    auto rows = ReadAll("a,b,c\r\n1,2,3\n4,5,6", chunk);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].fields, (Fields{"a", "b", "c"}));
    EXPECT_EQ(rows[1].fields, (Fields{"1", "2", "3"}));
    EXPECT_EQ(rows[2].fields, (Fields{"4", "5", "6"}));
    EXPECT_EQ(rows[2].line, 3);
  }
}

TEST(CsvReaderTest, QuotedFieldsWithSeparatorsQuotesAndNewlines) {
  std::string text =
      "name,note\r\n"
      "\"Doe, Jane\",\"she said \"\"hi\"\"\"\r\n"
      "\"multi\r\nline\nvalue\",x\r\n"
      "last,\"\"\r\n";
  for (size_t chunk : {size_t{16}, size_t{17}, size_t{1} << 20}) {
    auto rows = ReadAll(text, chunk);
    ASSERT_EQ(rows.size(), 4u) << chunk;
    EXPECT_EQ(rows[1].fields, (Fields{"Doe, Jane", "she said \"hi\""}));
    EXPECT_EQ(rows[2].fields, (Fields{"multi\r\nline\nvalue", "x"}));
    EXPECT_EQ(rows[3].fields, (Fields{"last", ""}));
    // Physical lines: the multi-line record starts on line 3 and spans 3 lines.
    EXPECT_EQ(rows[1].line, 2);
    EXPECT_EQ(rows[2].line, 3);
    EXPECT_EQ(rows[3].line, 6);
    for (const auto& r : rows) EXPECT_EQ(r.error, "");
  }
}

TEST(CsvReaderTest, BomIsSkippedAndEmptyFieldsKept) {
  auto rows = ReadAll(
      "\xEF\xBB\xBF"
      "email,city\n,\na@example.com,\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"email", "city"}));
  EXPECT_EQ(rows[1].fields, (Fields{"", ""}));
  EXPECT_EQ(rows[2].fields, (Fields{"a@example.com", ""}));
}

TEST(CsvReaderTest, BlankLinesAreSkippedButCounted) {
  auto rows = ReadAll("h\n\nx\r\n\r\ny\n\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields, (Fields{"x"}));
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[2].fields, (Fields{"y"}));
  EXPECT_EQ(rows[2].line, 5);
}

TEST(CsvReaderTest, OldMacLineEnds) {
  auto rows = ReadAll("a,b\rc,d\r");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ(rows[1].line, 2);
}

TEST(CsvReaderTest, MalformedRecordsAreReportedAndReadingGoesOn) {
  auto rows = ReadAll("a,b\n\"x\"y,z\nok,1\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[1].error, "");
  EXPECT_EQ(rows[1].fields, (Fields{"xy", "z"}));
  EXPECT_EQ(rows[2].error, "");
  EXPECT_EQ(rows[2].fields, (Fields{"ok", "1"}));
  EXPECT_EQ(rows[2].line, 3);

  auto open = ReadAll("a\n\"never closed\nmore\n");
  ASSERT_EQ(open.size(), 2u);
  EXPECT_NE(open[1].error.find("not closed"), std::string::npos);
  EXPECT_EQ(open[1].line, 2);
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsKept) {
  auto rows = ReadAll("5'11\",x\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"5'11\"", "x"}));
  EXPECT_EQ(rows[0].error, "");
}

TEST(CsvReaderTest, EmptyInput) {
  EXPECT_TRUE(ReadAll("").empty());
  EXPECT_TRUE(ReadAll("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(ReadAll("\n\n").empty());
}

TEST(CsvReaderTest, WriterRoundTrips) {
  std::vector<std::string_view> fields = {"plain", "with,comma", "with \"quote\"", "line\nbreak", "", " pad"};
  std::string out;
  AppendCsvRow(out, fields);
  EXPECT_EQ(out, "plain,\"with,comma\",\"with \"\"quote\"\"\",\"line\nbreak\",,\" pad\"");
  auto rows = ReadAll(out + "\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"plain", "with,comma", "with \"quote\"", "line\nbreak", "", " pad"}));
}

}  // namespace
}  // namespace rapport::app
