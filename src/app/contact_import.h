// CSV contact import: from a header row and data rows to ContactInputs, and the streaming driver
// that feeds them to ContactStore::Import in batches.
//
// Header columns email, external_id, status, timezone and locale (case-insensitive) map to those
// fields; `attributes` holds a JSON object merged into the attributes (what `contacts export`
// writes); id, created_at and updated_at are read-only and ignored (so an export re-imports).
// Every other column is an attribute, typed from its text unless the header names a type after a
// colon (`zip:string`, `interests:list`):
//   auto (default): integer or decimal -> number (but "007" stays a string: leading zeros),
//                   true/false (any case) -> bool, YYYY-MM-DD -> date (a string), else string
//   string, number, bool (true/false/yes/no/1/0), date (YYYY-MM-DD), list (split on ';', items
//   trimmed, empty items dropped, items kept as strings)
// An empty cell leaves the attribute (or field) absent. An email column is required.
//
// MapHeader/MapRow are pure. ImportContacts reads a CsvReader and writes through the store; it
// reports every rejected row (malformed CSV, wrong column count, invalid value, or a store
// refusal such as a conflicting external_id) to the listener with its line and reason and keeps
// the good rows. Not thread-safe; one import at a time per listener.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/csv_reader.h"
#include "core/error.h"
#include "core/model.h"
#include "core/store.h"

namespace rapport::app {

enum class ColumnKind {
  kEmail,
  kExternalId,
  kStatus,
  kTimezone,
  kLocale,
  kAttributesJson,
  kIgnored,
  kAttribute
};
enum class ValueType { kAuto, kString, kNumber, kBool, kDate, kList };

struct ImportColumn {
  ColumnKind kind = ColumnKind::kIgnored;
  std::string attribute;  // for kAttribute
  ValueType type = ValueType::kAuto;
};

struct ImportMapping {
  std::vector<ImportColumn> columns;
};

// kInvalid naming the column on a duplicate column, a bad attribute name, an unknown type or a
// missing email column.
Result<ImportMapping> MapHeader(const std::vector<std::string_view>& header);

// The JSON value of one cell: null when the cell is empty. kInvalid (message says why) when the
// text does not fit a forced type.
Result<json::value> TypeValue(std::string_view text, ValueType type);

// Maps and validates one data row (ValidateContactInput included). kInvalid with the field.
Result<ContactInput> MapRow(const ImportMapping& mapping, const std::vector<std::string_view>& fields);

// "field: message", the reason written beside a rejected row.
std::string RejectReason(const Error& error);

struct ImportOptions {
  size_t batch_size = 5000;
};

struct ImportSummary {
  int64_t created = 0;
  int64_t updated = 0;
  int64_t rejected = 0;
  int64_t imported() const { return created + updated; }
};

class ImportListener {
 public:
  virtual ~ImportListener() = default;
  // The header row as in the input (no line end), before any reject.
  virtual void OnHeader(std::string_view csv_header) {}
  // A rejected row: the physical line where it starts, the row's bytes exactly as in the input
  // (no line end), and why.
  virtual void OnReject(int64_t line, std::string_view csv_row, std::string_view reason) = 0;
  // After each batch: bytes of input read so far and the summary so far.
  virtual void OnProgress(uint64_t bytes_read, const ImportSummary& summary) {}
};

// Imports every row of `reader` (the first record is the header). Fails on an empty input, a
// bad header, a read error or a store failure (rows of earlier batches stay imported).
Result<ImportSummary> ImportContacts(CsvReader& reader, ContactStore& store, WorkspaceId ws,
                                     const ImportOptions& options, ImportListener& listener);

}  // namespace rapport::app
