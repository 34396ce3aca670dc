#include "app/contact_import.h"
#include "core/json_parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace rapport::app {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)? -> a number; anything else (leading zeros, "+1", "1e5") is not.
std::optional<json::value> ParseNumber(std::string_view s) {
  std::string_view body = s;
  if (!body.empty() && body.front() == '-') body.remove_prefix(1);
  size_t dot = body.find('.');
  std::string_view whole = body.substr(0, dot);
  if (!IsDigits(whole) || (whole.size() > 1 && whole.front() == '0')) return std::nullopt;
  if (dot == std::string_view::npos) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;  // out of range
    return json::value(v);
  }
  if (!IsDigits(body.substr(dot + 1))) return std::nullopt;
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return json::value(d);
}

std::optional<bool> ParseBool(std::string_view s, bool lenient) {
  std::string l = Lower(s);
  if (l == "true") return true;
  if (l == "false") return false;
  if (lenient) {
    if (l == "yes" || l == "1") return true;
    if (l == "no" || l == "0") return false;
  }
  return std::nullopt;
}

bool ValidAttributeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttributeNameLength) return false;
  auto head = static_cast<unsigned char>(name[0]);
  if (!(std::isalpha(head) || head == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::optional<ValueType> ParseValueType(std::string_view s) {
  if (s == "auto") return ValueType::kAuto;
  if (s == "string") return ValueType::kString;
  if (s == "number") return ValueType::kNumber;
  if (s == "bool") return ValueType::kBool;
  if (s == "date") return ValueType::kDate;
  if (s == "list") return ValueType::kList;
  return std::nullopt;
}

}  // namespace

Result<ImportMapping> MapHeader(const std::vector<std::string_view>& header) {
  ImportMapping mapping;
  std::vector<std::string> seen;
  bool has_email = false;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view raw = Trim(header[i]);
    std::string column_name = fmt::format("column {} (\"{}\")", i + 1, raw);
    ImportColumn col;
    std::string lower = Lower(raw);
    if (lower == "email")
      col.kind = ColumnKind::kEmail, has_email = true;
    else if (lower == "external_id")
      col.kind = ColumnKind::kExternalId;
    else if (lower == "status")
      col.kind = ColumnKind::kStatus;
    else if (lower == "timezone")
      col.kind = ColumnKind::kTimezone;
    else if (lower == "locale")
      col.kind = ColumnKind::kLocale;
    else if (lower == "attributes")
      col.kind = ColumnKind::kAttributesJson;
    else if (lower == "id" || lower == "created_at" || lower == "updated_at")
      col.kind = ColumnKind::kIgnored;
    else {
      col.kind = ColumnKind::kAttribute;
      std::string_view name = raw;
      size_t colon = raw.find(':');
      if (colon != std::string_view::npos) {
        name = Trim(raw.substr(0, colon));
        auto type = ParseValueType(Lower(Trim(raw.substr(colon + 1))));
        if (!type)
          return Error::Invalid("header",
                                column_name + ": unknown type after ':' (string, number, bool, date, list)");
        col.type = *type;
      }
      if (!ValidAttributeName(name))
        return Error::Invalid("header",
                              column_name +
                                  ": an attribute name starts with a letter or _, then letters, digits "
                                  "or _ (at most 64)");
      col.attribute = std::string(name);
      lower = "attribute:" + col.attribute;
    }
    if (col.kind != ColumnKind::kIgnored) {
      if (std::find(seen.begin(), seen.end(), lower) != seen.end())
        return Error::Invalid("header", column_name + ": the column appears twice");
      seen.push_back(lower);
    }
    mapping.columns.push_back(std::move(col));
  }
  if (!has_email) return Error::Invalid("header", "the header row has no email column");
  return mapping;
}

Result<json::value> TypeValue(std::string_view text, ValueType type) {
  if (text.empty()) return json::value(nullptr);
  switch (type) {
    case ValueType::kString: return json::value(json::string(text));
    case ValueType::kNumber: {
      auto n = ParseNumber(Trim(text));
      if (!n) return Error::Invalid("", fmt::format("\"{}\" is not a number", text));
      return *n;
    }
    case ValueType::kBool: {
      auto b = ParseBool(Trim(text), /*lenient=*/true);
      if (!b) return Error::Invalid("", fmt::format("\"{}\" is not true/false", text));
      return json::value(*b);
    }
    case ValueType::kDate: {
      std::string_view t = Trim(text);
      if (!IsIsoDate(t)) return Error::Invalid("", fmt::format("\"{}\" is not a date YYYY-MM-DD", text));
      return json::value(json::string(t));
    }
    case ValueType::kList: {
      json::array items;
      size_t start = 0;
      while (start <= text.size()) {
        size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view item = Trim(text.substr(start, end - start));
        if (!item.empty()) items.emplace_back(json::string(item));
        start = end + 1;
      }
      if (items.empty()) return json::value(nullptr);
      return json::value(std::move(items));
    }
    case ValueType::kAuto: {
      char c = text.front();
      if ((c >= '0' && c <= '9') || c == '-') {
        if (auto n = ParseNumber(text)) return *n;
        if (text.size() == 10 && IsIsoDate(text)) return json::value(json::string(text));
      } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
        if (auto b = ParseBool(text, /*lenient=*/false)) return json::value(*b);
      }
      return json::value(json::string(text));
    }
  }
  return json::value(json::string(text));
}

Result<ContactInput> MapRow(const ImportMapping& mapping, const std::vector<std::string_view>& fields) {
  if (fields.size() != mapping.columns.size())
    return Error::Invalid("",
                          fmt::format("expected {} fields, found {}", mapping.columns.size(), fields.size()));
  ContactInput input;
  for (size_t i = 0; i < fields.size(); ++i) {
    const ImportColumn& col = mapping.columns[i];
    std::string_view text = fields[i];
    if (col.kind == ColumnKind::kAttribute) {
      auto value = TypeValue(text, col.type);
      if (!value.ok()) return Error::Invalid("attributes." + col.attribute, value.error().message);
      if (value->is_null()) continue;
      if (!input.attributes) input.attributes.emplace();
      (*input.attributes)[col.attribute] = std::move(*value);
      continue;
    }
    text = Trim(text);
    if (text.empty()) continue;
    switch (col.kind) {
      case ColumnKind::kEmail: input.email = std::string(text); break;
      case ColumnKind::kExternalId: input.external_id = std::string(text); break;
      case ColumnKind::kStatus: {
        auto status = ParseContactStatus(Lower(text));
        if (!status || *status == ContactStatus::kErased)
          return Error::Invalid(
              "status", fmt::format("\"{}\" is not one of active, unsubscribed, bounced, complained", text));
        input.status = *status;
        break;
      }
      case ColumnKind::kTimezone: input.timezone = std::string(text); break;
      case ColumnKind::kLocale: input.locale = std::string(text); break;
      case ColumnKind::kAttributesJson: {
        boost::system::error_code ec;
        json::value v = ParseJsonExact(text, ec);
        if (ec || !v.is_object())
          return Error::Invalid("attributes", "the attributes column must hold a JSON object");
        if (!input.attributes) input.attributes.emplace();
        for (auto& [k, val] : v.get_object())
          if (!input.attributes->contains(k)) (*input.attributes)[k] = std::move(val);
        break;
      }
      case ColumnKind::kIgnored:
      case ColumnKind::kAttribute: break;
    }
  }
  if (!input.email && !input.external_id) return Error::Invalid("email", "email is required");
  RAPPORT_TRY(ValidateContactInput(input));
  return input;
}

std::string RejectReason(const Error& error) {
  if (error.field.empty() || error.message.rfind(error.field, 0) == 0) return error.message;
  return error.field + ": " + error.message;
}

namespace {

// The rows of one batch waiting for the store's verdict.
class Batch {
 public:
  void Add(ContactInput&& input, int64_t line, std::string_view raw) {
    inputs_.push_back(std::move(input));
    lines_.push_back(line);
    rows_.append(raw);
    row_ends_.push_back(rows_.size());
  }
  size_t size() const { return inputs_.size(); }

  Status Flush(ContactStore& store, WorkspaceId ws, ImportSummary& summary, ImportListener& listener) {
    if (inputs_.empty()) return {};
    Status st = store.Import(ws, inputs_, [&](size_t i, const Result<UpsertResult>& r) {
      if (r.ok()) {
        (r->created ? summary.created : summary.updated)++;
        return;
      }
      summary.rejected++;
      size_t begin = i == 0 ? 0 : row_ends_[i - 1];
      listener.OnReject(lines_[i], std::string_view(rows_).substr(begin, row_ends_[i] - begin),
                        RejectReason(r.error()));
    });
    inputs_.clear();
    lines_.clear();
    rows_.clear();
    row_ends_.clear();
    return st;
  }

 private:
  std::vector<ContactInput> inputs_;
  std::vector<int64_t> lines_;
  std::string rows_;  // the rows as in the input, back to back (for rejects reported by the store)
  std::vector<size_t> row_ends_;
};

}  // namespace

Result<ImportSummary> ImportContacts(CsvReader& reader, ContactStore& store, WorkspaceId ws,
                                     const ImportOptions& options, ImportListener& listener) {
  CsvRecord record;
  if (!reader.Next(record)) {
    if (reader.failed()) return Error::Unavailable("cannot read the input");
    return Error::Invalid("header", "the file is empty (a header row is expected)");
  }
  if (!record.error.empty())
    return Error::Invalid("header", fmt::format("line {}: {}", record.line, record.error));
  RAPPORT_ASSIGN_OR_RETURN(ImportMapping mapping, MapHeader(record.fields));
  listener.OnHeader(record.raw);

  ImportSummary summary;
  Batch batch;
  auto reject = [&](std::string_view raw, int64_t line, std::string_view reason) {
    summary.rejected++;
    listener.OnReject(line, raw, reason);
  };
  const size_t batch_size = std::max<size_t>(1, options.batch_size);
  while (reader.Next(record)) {
    if (!record.error.empty()) {
      reject(record.raw, record.line, record.error);
      continue;
    }
    auto input = MapRow(mapping, record.fields);
    if (!input.ok()) {
      reject(record.raw, record.line, RejectReason(input.error()));
      continue;
    }
    batch.Add(std::move(input).value(), record.line, record.raw);
    if (batch.size() >= batch_size) {
      RAPPORT_TRY(batch.Flush(store, ws, summary, listener));
      listener.OnProgress(reader.bytes_read(), summary);
    }
  }
  if (reader.failed()) return Error::Unavailable("reading the input failed");
  RAPPORT_TRY(batch.Flush(store, ws, summary, listener));
  listener.OnProgress(reader.bytes_read(), summary);
  return summary;
}

}  // namespace rapport::app
