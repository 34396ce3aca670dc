#include "core/model.h"

#include <date/tz.h>

#include <algorithm>

#include "core/email_address.h"

namespace rapport {

std::string_view ContactStatusName(ContactStatus s) {
  switch (s) {
    case ContactStatus::kActive: return "active";
    case ContactStatus::kUnsubscribed: return "unsubscribed";
    case ContactStatus::kBounced: return "bounced";
    case ContactStatus::kComplained: return "complained";
    case ContactStatus::kErased: return "erased";
  }
  return "active";
}

std::optional<ContactStatus> ParseContactStatus(std::string_view s) {
  for (auto st : {ContactStatus::kActive, ContactStatus::kUnsubscribed, ContactStatus::kBounced,
                  ContactStatus::kComplained, ContactStatus::kErased})
    if (ContactStatusName(st) == s) return st;
  return std::nullopt;
}

std::string_view AttributeTypeName(AttributeType t) {
  switch (t) {
    case AttributeType::kString: return "string";
    case AttributeType::kNumber: return "number";
    case AttributeType::kBool: return "bool";
    case AttributeType::kDate: return "date";
    case AttributeType::kTimestamp: return "timestamp";
    case AttributeType::kList: return "list";
  }
  return "string";
}

std::optional<AttributeType> AttributeTypeOf(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (IsIsoDate(s)) return AttributeType::kDate;
      if (s.size() >= 20 && ParseTimestamp(s)) return AttributeType::kTimestamp;
      return AttributeType::kString;
    }
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return AttributeType::kNumber;
    case json::kind::bool_: return AttributeType::kBool;
    case json::kind::array: return AttributeType::kList;
    default: return std::nullopt;
  }
}

namespace {

bool ValidName(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  auto head = static_cast<unsigned char>(name[0]);
  if (!(std::isalpha(head) || head == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; });
}

// Control characters a text value may not hold: NUL and the other C0 controls and DEL, except
// tab, line feed and carriage return, which multi-line text carries.
bool HasControlInText(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) {
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
  });
}

// The length of `o` serialized, counted through a stack buffer (the store serializes it again
// to write it), and only until it passes `limit`.
size_t SerializedSizeUpTo(const json::object& o, size_t limit) {
  json::serializer sr;
  sr.reset(&o);
  char buf[4096];
  size_t n = 0;
  while (!sr.done() && n <= limit) n += sr.read(buf, sizeof buf).size();
  return n;
}

}  // namespace

bool IsValidTimezone(std::string_view tz) {
  if (tz.empty() || tz.size() > 64) return false;
  try {
    return date::locate_zone(tz) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

Status ValidateAttributes(const json::object& attributes) {
  if (attributes.size() > kMaxAttributes)
    return Error::Invalid("attributes", "a contact may have at most 256 attributes");
  for (const auto& [key, value] : attributes) {
    std::string field = "attributes." + std::string(key);
    if (!ValidName(key, kMaxAttributeNameLength))
      return Error::Invalid(field,
                            "attribute names start with a letter or _, then letters, digits or _ "
                            "(at most 64)");
    if (value.is_null()) continue;  // removes the attribute on merge
    auto type = AttributeTypeOf(value);
    if (!type)
      return Error::Invalid(field, "an attribute is a string, number, bool, date, timestamp or list");
    if (value.is_string() && value.get_string().size() > kMaxAttributeStringLength)
      return Error::Invalid(field, "a string attribute is at most 8192 bytes");
    if (value.is_string() && HasControlInText(value.get_string()))
      return Error::Invalid(field, "a string attribute may not hold NUL or other control characters");
    if (value.is_double() && !std::isfinite(value.get_double()))
      return Error::Invalid(field, "a number must be finite");
    if (value.is_array()) {
      const auto& arr = value.get_array();
      if (arr.size() > kMaxListAttributeItems)
        return Error::Invalid(field, "a list attribute has at most 1000 items");
      for (const auto& item : arr) {
        if (item.is_object() || item.is_array() || item.is_null())
          return Error::Invalid(field, "a list holds strings, numbers or bools");
        if (item.is_string() && item.get_string().size() > kMaxAttributeStringLength)
          return Error::Invalid(field, "a list item is at most 8192 bytes");
        if (item.is_string() && HasControlInText(item.get_string()))
          return Error::Invalid(field, "a list item may not hold NUL or other control characters");
      }
    }
  }
  return {};
}

Status ValidateContactInput(ContactInput& input) {
  if (input.email) {
    RAPPORT_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(*input.email, "email"));
    input.email = std::move(normalized);
  }
  if (input.external_id) {
    if (input.external_id->empty() || input.external_id->size() > kMaxExternalIdLength)
      return Error::Invalid("external_id", "external_id is 1 to 255 characters");
    if (HasControl(*input.external_id))
      return Error::Invalid("external_id", "external_id may not hold control characters");
  }
  if (input.status && *input.status == ContactStatus::kErased)
    return Error::Invalid("status", "a contact is erased with DELETE, not by setting its status");
  if (input.timezone && !input.timezone->empty() && !IsValidTimezone(*input.timezone))
    return Error::Invalid("timezone", "timezone must be an IANA zone name such as Europe/Paris");
  if (input.locale && !input.locale->empty()) {
    const std::string& l = *input.locale;
    bool ok = l.size() <= 35 &&
              std::all_of(l.begin(), l.end(),
                          [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }) &&
              std::isalpha(static_cast<unsigned char>(l[0]));
    if (!ok) return Error::Invalid("locale", "locale must be a language tag such as en or fr-CA");
  }
  if (input.attributes) RAPPORT_TRY(ValidateAttributes(*input.attributes));
  return {};
}

Status ValidateNewEvent(NewEvent& event) {
  if (event.name.empty() || event.name.size() > kMaxEventNameLength)
    return Error::Invalid("name", "an event name is 1 to 128 characters");
  if (HasControl(event.name)) return Error::Invalid("name", "an event name may not hold control characters");
  if (!event.contact.id && !event.contact.email && !event.contact.external_id)
    return Error::Invalid("contact", "an event names its contact by contact_id, email or external_id");
  if (event.contact.email) {
    RAPPORT_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(*event.contact.email, "email"));
    event.contact.email = std::move(normalized);
  }
  if (event.contact.external_id &&
      (event.contact.external_id->empty() || event.contact.external_id->size() > kMaxExternalIdLength))
    return Error::Invalid("external_id", "external_id is 1 to 255 characters");
  if (event.idempotency_key &&
      (event.idempotency_key->empty() || event.idempotency_key->size() > kMaxIdempotencyKeyLength))
    return Error::Invalid("idempotency_key", "idempotency_key is 1 to 255 characters");
  if (SerializedSizeUpTo(event.properties, kMaxEventPropertiesBytes) > kMaxEventPropertiesBytes)
    return Error::Invalid("properties", "event properties are at most 64 KiB of JSON");
  if (event.contact_attributes) RAPPORT_TRY(ValidateAttributes(*event.contact_attributes));
  return {};
}

std::string_view SubscriptionStatusName(SubscriptionStatus s) {
  return s == SubscriptionStatus::kSubscribed ? "subscribed" : "unsubscribed";
}

std::optional<SubscriptionStatus> ParseSubscriptionStatus(std::string_view s) {
  if (s == "subscribed") return SubscriptionStatus::kSubscribed;
  if (s == "unsubscribed") return SubscriptionStatus::kUnsubscribed;
  return std::nullopt;
}

Status ValidateSlug(std::string_view value, std::string_view field, std::string_view what) {
  bool ok = !value.empty() && value.size() <= 64 &&
            (std::islower(static_cast<unsigned char>(value[0])) ||
             std::isdigit(static_cast<unsigned char>(value[0]))) &&
            std::all_of(value.begin(), value.end(), [](unsigned char c) {
              return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
            });
  if (!ok)
    return Error::Invalid(
        std::string(field),
        std::string(what) + " is 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit");
  return {};
}

Status ValidateTopicKey(std::string_view key) { return ValidateSlug(key, "key", "a topic key"); }

Result<Scopes> ParseScopes(std::string_view list) {
  Scopes scopes = 0;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view name = list.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "read")
      scopes |= kScopeRead;
    else if (name == "write")
      scopes |= kScopeWrite;
    else if (name == "send")
      scopes |= kScopeSend;
    else if (name == "admin")
      scopes |= kScopeAdmin;
    else
      return Error::Invalid("scope", "unknown scope '" + std::string(name) + "' (admin, write, read, send)");
    start = end + 1;
  }
  if (scopes == 0) return Error::Invalid("scope", "at least one scope is required");
  return scopes;
}

std::string FormatScopes(Scopes scopes) {
  std::string out;
  auto add = [&](Scope s, const char* name) {
    if (scopes & s) {
      if (!out.empty()) out += ",";
      out += name;
    }
  };
  add(kScopeAdmin, "admin");
  add(kScopeWrite, "write");
  add(kScopeRead, "read");
  add(kScopeSend, "send");
  return out;
}

}  // namespace rapport
