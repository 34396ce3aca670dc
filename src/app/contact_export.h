// Contact export: CSV or JSON lines, streamed from ContactStore::ForEach.
//
// CSV has a fixed header: email, external_id, status, timezone, locale, created_at, updated_at,
// attributes; the attributes column holds the contact's attributes as one JSON object (so the
// columns do not depend on the data and the file can be written in one pass; `contacts import`
// reads that column back). JSON lines write one object per contact exactly as the API encodes it
// (EncodeContact): id, email, external_id, status, timezone, locale, attributes, created_at,
// updated_at (RFC 3339); an absent optional field is null, as in the API.
// Erased contacts are not exported. The Append* functions are pure; ExportContacts writes to the
// stream it is given. Not thread-safe per stream.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/model.h"
#include "core/store.h"

namespace rapport::app {

enum class ExportFormat { kCsv, kJsonLines };
// "csv" or "jsonl"; kInvalid naming "format" otherwise.
Result<ExportFormat> ParseExportFormat(std::string_view name);

void AppendContactCsvHeader(std::string& out);
void AppendContactCsv(std::string& out, const Contact& contact);       // with "\r\n"
void AppendContactJsonLine(std::string& out, const Contact& contact);  // with "\n"
// FormatTimestamp(t) as a JSON string, written in place (no snprintf, no string per call).
void AppendTimestampString(std::string& out, Timestamp t);

// Streams the workspace's contacts to `out`; returns how many were written. kUnavailable when
// the stream fails.
Result<int64_t> ExportContacts(ContactStore& store, WorkspaceId ws, ExportFormat format, std::ostream& out);

}  // namespace rapport::app
