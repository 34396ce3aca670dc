#include "app/contact_export.h"

#include <charconv>

#include "app/csv_reader.h"
#include "core/json_write.h"
#include "http/json_codec.h"

namespace rapport::app {

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl" || name == "ndjson") return ExportFormat::kJsonLines;
  return Error::Invalid("format", "format must be csv or jsonl, got \"" + std::string(name) + "\"");
}

void AppendContactCsvHeader(std::string& out) {
  out += "email,external_id,status,timezone,locale,created_at,updated_at,attributes\r\n";
}

void AppendContactCsv(std::string& out, const Contact& c) {
  AppendCsvField(out, c.email);
  out.push_back(',');
  AppendCsvField(out, c.external_id.value_or(""));
  out.push_back(',');
  out += ContactStatusName(c.status);
  out.push_back(',');
  AppendCsvField(out, c.timezone);
  out.push_back(',');
  AppendCsvField(out, c.locale);
  out.push_back(',');
  out += FormatTimestamp(c.created_at);
  out.push_back(',');
  out += FormatTimestamp(c.updated_at);
  out.push_back(',');
  AppendCsvField(out, WriteJson(c.attributes));
  out += "\r\n";
}

void AppendTimestampString(std::string& out, Timestamp t) {
  const int64_t us = ToMicros(t);
  constexpr int64_t kDay = int64_t{86'400'000'000};
  int64_t days = us >= 0 ? us / kDay : (us - kDay + 1) / kDay;
  int64_t rest = us - days * kDay;  // 0 <= rest < kDay
  // Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  if (y < 0 || y > 9999) {  // outside the four-digit years: as FormatTimestamp writes them
    AppendJsonString(out, FormatTimestamp(t));
    return;
  }
  char buf[32];
  char* p = buf;
  auto two = [&p](int64_t v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  *p++ = '"';
  two(y / 100);
  two(y % 100);
  *p++ = '-';
  two(m);
  *p++ = '-';
  two(d);
  *p++ = 'T';
  const int64_t secs = rest / 1'000'000, frac = rest % 1'000'000;
  two(secs / 3600);
  *p++ = ':';
  two(secs / 60 % 60);
  *p++ = ':';
  two(secs % 60);
  if (frac != 0) {
    *p++ = '.';
    for (int64_t div = 100'000; div >= 1; div /= 10) *p++ = static_cast<char>('0' + frac / div % 10);
  }
  *p++ = 'Z';
  *p++ = '"';
  out.append(buf, p);
}

namespace {

// An optional text field as the API writes it: absent (empty) is null.
void AppendOptionalString(std::string& out, std::string_view s) {
  if (s.empty())
    out += "null";
  else
    AppendJsonString(out, s);
}

}  // namespace

void AppendContactJsonLine(std::string& out, const Contact& c) {
  // What WriteJson(http::EncodeContact(c)) writes, field for field and in its order (the API's
  // encoder: an absent optional field is null in both), appended in place: no JSON value per
  // contact, no string per field (contact_export_test.cpp holds the two to the same bytes).
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, c.id);
  out += "{\"id\":";
  out.append(digits, end);
  out += ",\"email\":";
  AppendOptionalString(out, c.email);
  out += ",\"external_id\":";
  if (c.external_id)
    AppendJsonString(out, *c.external_id);
  else
    out += "null";
  out += ",\"status\":";
  AppendJsonString(out, ContactStatusName(c.status));
  out += ",\"attributes\":";
  AppendJson(out, c.attributes);
  out += ",\"timezone\":";
  AppendOptionalString(out, c.timezone);
  out += ",\"locale\":";
  AppendOptionalString(out, c.locale);
  out += ",\"created_at\":";
  AppendTimestampString(out, c.created_at);
  out += ",\"updated_at\":";
  AppendTimestampString(out, c.updated_at);
  out += "}\n";
}

Result<int64_t> ExportContacts(ContactStore& store, WorkspaceId ws, ExportFormat format, std::ostream& out) {
  std::string buffer;
  buffer.reserve(1 << 20);
  if (format == ExportFormat::kCsv) AppendContactCsvHeader(buffer);
  int64_t count = 0;
  bool write_failed = false;
  Status st = store.ForEach(ws, [&](const Contact& c) {
    if (c.status == ContactStatus::kErased) return true;
    if (format == ExportFormat::kCsv)
      AppendContactCsv(buffer, c);
    else
      AppendContactJsonLine(buffer, c);
    ++count;
    if (buffer.size() >= (1 << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (!out) {
        write_failed = true;
        return false;
      }
    }
    return true;
  });
  RAPPORT_TRY(st);
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  if (write_failed || !out) return Error::Unavailable("writing the export failed");
  return count;
}

}  // namespace rapport::app
