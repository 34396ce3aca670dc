#include "http/json_codec.h"

#include "core/json_parse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace rapport::http {

namespace {

// The arena grows with the bodies it sees, up to this; beyond it the arena takes heap blocks.
constexpr size_t kMaxReusedArena = 16 * 1024 * 1024;
constexpr size_t kMinArena = 16 * 1024;

json::parse_options ParseOptions() {
  json::parse_options opt;
  opt.max_depth = 64;
  return opt;
}

Error SyntaxError(std::string_view text, size_t offset, const json::error_code& ec) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return Error::BadRequest("invalid JSON at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + " (offset " + std::to_string(offset) +
                           "): " + ec.message());
}

// A field name quoted in a message: short, and without control characters.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) out.push_back(c < 0x20 || c == 0x7F ? '?' : char(c));
  if (s.size() > 64) out += "...";
  return out;
}

Error Unknown(std::string_view key) {
  return Error::Invalid(Printable(key), "unknown field '" + Printable(key) + "'");
}

Error NotObject(std::string_view what) {
  return Error::Invalid("", std::string(what) + " must be a JSON object");
}

Result<std::string> String(const json::value& v, std::string_view field) {
  if (!v.is_string()) return Error::Invalid(std::string(field), std::string(field) + " must be a string");
  return std::string(v.get_string());
}

// A copy of an object in the default allocator (the parsed body lives in an arena).
Result<json::object> Object(const json::value& v, std::string_view field) {
  if (!v.is_object()) return Error::Invalid(std::string(field), std::string(field) + " must be an object");
  return json::object(v.get_object(), json::storage_ptr());
}

// Boost.JSON reads 1e999 as infinity (and 0e999 as NaN); neither can be written back as JSON.
bool AllNumbersFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& item : v.get_array())
        if (!AllNumbersFinite(item)) return false;
      return true;
    case json::kind::object:
      for (const auto& [k, item] : v.get_object())
        if (!AllNumbersFinite(item)) return false;
      return true;
    default: return true;
  }
}

Result<json::value> Finite(json::value v) {
  if (!AllNumbersFinite(v)) return Error::BadRequest("invalid JSON: a number is out of range");
  return v;
}

json::value OptionalString(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

}  // namespace

struct JsonBodyParser::Impl {
  std::unique_ptr<unsigned char[]> arena;
  size_t arena_size = 0;
  std::optional<json::monotonic_resource> resource;
  JsonParser parser{ParseOptions()};  // numbers read exactly (core/json_parse.h)
};

JsonBodyParser::JsonBodyParser() : impl_(std::make_unique<Impl>()) {}
JsonBodyParser::~JsonBodyParser() = default;

Result<json::value> JsonBodyParser::Parse(std::string_view text) {
  Impl& m = *impl_;
  size_t want = std::clamp(text.size() * 8 + 1024, kMinArena, kMaxReusedArena);
  m.resource.reset();
  if (m.arena_size < want) {
    m.arena = std::make_unique<unsigned char[]>(want);
    m.arena_size = want;
  }
  m.resource.emplace(m.arena.get(), m.arena_size);
  m.parser.Reset(json::storage_ptr(&*m.resource));
  json::error_code ec;
  size_t n = m.parser.Write(text, ec);
  if (ec) return SyntaxError(text, n, ec);
  return Finite(m.parser.Release());
}

Result<json::value> ParseJson(std::string_view text) {
  JsonParser parser(ParseOptions());
  json::error_code ec;
  size_t n = parser.Write(text, ec);
  if (ec) return SyntaxError(text, n, ec);
  return Finite(parser.Release());
}

Result<ContactInput> DecodeContactInput(const json::value& body) {
  if (!body.is_object()) return NotObject("a contact");
  ContactInput in;
  for (const auto& [key, v] : body.get_object()) {
    if (key == "email") {
      RAPPORT_ASSIGN_OR_RETURN(in.email, String(v, "email"));
    } else if (key == "external_id") {
      RAPPORT_ASSIGN_OR_RETURN(in.external_id, String(v, "external_id"));
    } else if (key == "status") {
      RAPPORT_ASSIGN_OR_RETURN(std::string s, String(v, "status"));
      in.status = ParseContactStatus(s);
      if (!in.status)
        return Error::Invalid("status", "status is one of active, unsubscribed, bounced, complained");
    } else if (key == "attributes") {
      RAPPORT_ASSIGN_OR_RETURN(in.attributes, Object(v, "attributes"));
    } else if (key == "timezone") {  // null or "" clears it
      if (v.is_null())
        in.timezone = std::string();
      else {
        RAPPORT_ASSIGN_OR_RETURN(in.timezone, String(v, "timezone"));
      }
    } else if (key == "locale") {
      if (v.is_null())
        in.locale = std::string();
      else {
        RAPPORT_ASSIGN_OR_RETURN(in.locale, String(v, "locale"));
      }
    } else if (key == "reconsent") {
      if (!v.is_bool()) return Error::Invalid("reconsent", "reconsent must be true or false");
      in.reconsent = v.get_bool();
    } else if (key == "id" || key == "created_at" || key == "updated_at") {
      return Error::Invalid(std::string(key), std::string(key) + " is read-only");
    } else {
      return Unknown(key);
    }
  }
  RAPPORT_TRY(ValidateContactInput(in));
  return in;
}

namespace {
Result<int64_t> PositiveId(const json::value& v, const std::string& field) {
  int64_t id = 0;
  if (v.is_int64())
    id = v.get_int64();
  else if (v.is_uint64() && v.get_uint64() <= uint64_t(std::numeric_limits<int64_t>::max()))
    id = int64_t(v.get_uint64());
  if (id <= 0) return Error::Invalid(field, field + " must be a positive integer");
  return id;
}
}  // namespace

Result<ContactRef> DecodeContactRef(const json::value& v, std::string_view field) {
  const std::string f(field);
  if (!v.is_object()) return Error::Invalid(f, f + " is {\"id\"}, {\"email\"} or {\"external_id\"}");
  ContactRef ref;
  for (const auto& [key, x] : v.get_object()) {
    std::string at = f + "." + std::string(key);
    if (key == "id") {
      RAPPORT_ASSIGN_OR_RETURN(ref.id, PositiveId(x, at));
    } else if (key == "email") {
      RAPPORT_ASSIGN_OR_RETURN(ref.email, String(x, at));
    } else if (key == "external_id") {
      RAPPORT_ASSIGN_OR_RETURN(ref.external_id, String(x, at));
    } else {
      return Error::Invalid(at, "unknown field '" + std::string(key) + "'");
    }
  }
  if (!ref.id && !ref.email && !ref.external_id)
    return Error::Invalid(f, f + " needs an id, an email or an external_id");
  return ref;
}

Result<NewEvent> DecodeNewEvent(const json::value& item) {
  if (!item.is_object()) return NotObject("an event");
  NewEvent ev;
  bool has_name = false, flat = false, nested = false;
  for (const auto& [key, v] : item.get_object()) {
    if (key == "name") {
      RAPPORT_ASSIGN_OR_RETURN(ev.name, String(v, "name"));
      has_name = true;
    } else if (key == "contact") {
      RAPPORT_ASSIGN_OR_RETURN(ContactRef ref, DecodeContactRef(v, "contact"));
      ev.contact.id = ref.id;
      ev.contact.email = std::move(ref.email);
      ev.contact.external_id = std::move(ref.external_id);
      nested = true;
    } else if (key == "contact_id") {
      RAPPORT_ASSIGN_OR_RETURN(ev.contact.id, PositiveId(v, "contact_id"));
      flat = true;
    } else if (key == "email") {
      flat = true;
      RAPPORT_ASSIGN_OR_RETURN(ev.contact.email, String(v, "email"));
    } else if (key == "external_id") {
      flat = true;
      RAPPORT_ASSIGN_OR_RETURN(ev.contact.external_id, String(v, "external_id"));
    } else if (key == "properties") {
      if (!v.is_null()) {
        RAPPORT_ASSIGN_OR_RETURN(ev.properties, Object(v, "properties"));
      }
    } else if (key == "occurred_at") {
      RAPPORT_ASSIGN_OR_RETURN(std::string s, String(v, "occurred_at"));
      ev.occurred_at = ParseTimestamp(s);
      if (!ev.occurred_at)
        return Error::Invalid("occurred_at",
                              "occurred_at must be an RFC 3339 date-time such as 2026-01-31T09:30:00Z");
    } else if (key == "idempotency_key") {
      RAPPORT_ASSIGN_OR_RETURN(ev.idempotency_key, String(v, "idempotency_key"));
    } else if (key == "attributes") {
      RAPPORT_ASSIGN_OR_RETURN(ev.contact_attributes, Object(v, "attributes"));
    } else if (key == "create_contact") {
      if (!v.is_bool()) return Error::Invalid("create_contact", "create_contact must be true or false");
      ev.contact.create_contact = v.get_bool();
    } else {
      return Unknown(key);
    }
  }
  if (!has_name) return Error::Invalid("name", "an event needs a name");
  if (flat && nested)
    return Error::Invalid("contact",
                          "name the contact with contact or with contact_id/email/external_id, not both");
  Status st = ValidateNewEvent(ev);
  if (!st.ok()) {
    Error e = st.error();
    // Name the field as the caller wrote it.
    if (nested && (e.field == "email" || e.field == "external_id")) e.field = "contact." + e.field;
    return e;
  }
  return ev;
}

Result<DecodedEventBatch> DecodeEventBatch(const json::value& body, size_t max_items) {
  if (!body.is_object()) return NotObject("the body");
  const json::object& obj = body.get_object();
  DecodedEventBatch out;
  const json::value* events = obj.if_contains("events");
  if (!events) {  // one event
    out.total = 1;
    out.single = true;
    auto ev = DecodeNewEvent(body);
    if (ev.ok()) {
      out.events.push_back(std::move(ev).value());
      out.indexes.push_back(0);
    } else {
      out.errors.emplace_back(0, std::move(ev).error());
    }
    return out;
  }
  for (const auto& [key, v] : obj)
    if (key != "events") return Unknown(key);
  if (!events->is_array()) return Error::Invalid("events", "events must be an array of event objects");
  const json::array& items = events->get_array();
  if (items.size() > max_items)
    return Error{
        ErrorCode::kTooLarge,
        "at most " + std::to_string(max_items) + " events per request; got " + std::to_string(items.size()),
        "events"};
  out.total = items.size();
  out.events.reserve(items.size());
  out.indexes.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto ev = DecodeNewEvent(items[i]);
    if (ev.ok()) {
      out.events.push_back(std::move(ev).value());
      out.indexes.push_back(i);
    } else {
      out.errors.emplace_back(i, std::move(ev).error());
    }
  }
  return out;
}

Result<Topic> DecodeTopicInput(const json::value& body) {
  if (!body.is_object()) return NotObject("a topic");
  Topic t;
  bool has_key = false;
  for (const auto& [key, v] : body.get_object()) {
    if (key == "key") {
      RAPPORT_ASSIGN_OR_RETURN(t.key, String(v, "key"));
      has_key = true;
    } else if (key == "name") {
      RAPPORT_ASSIGN_OR_RETURN(t.name, String(v, "name"));
    } else if (key == "description") {
      if (!v.is_null()) {
        RAPPORT_ASSIGN_OR_RETURN(t.description, String(v, "description"));
      }
    } else if (key == "tracking") {
      if (!v.is_bool()) return Error::Invalid("tracking", "tracking is true or false");
      t.tracking = v.get_bool();
    } else if (key == "double_opt_in") {
      if (!v.is_bool()) return Error::Invalid("double_opt_in", "double_opt_in is true or false");
      t.double_opt_in = v.get_bool();
    } else {
      return Unknown(key);
    }
  }
  if (!has_key) return Error::Invalid("key", "a topic needs a key");
  RAPPORT_TRY(ValidateTopicKey(t.key));
  if (t.name.empty()) t.name = t.key;
  if (t.name.size() > 200) return Error::Invalid("name", "a topic name is at most 200 characters");
  if (t.description.size() > 2000)
    return Error::Invalid("description", "a topic description is at most 2000 characters");
  return t;
}

Result<SubscriptionInput> DecodeSubscriptionInput(const json::value& body) {
  if (!body.is_object()) return NotObject("a subscription");
  SubscriptionInput in;
  in.consent.source = "api";
  for (const auto& [key, v] : body.get_object()) {
    if (key == "status") {
      RAPPORT_ASSIGN_OR_RETURN(std::string s, String(v, "status"));
      auto st = ParseSubscriptionStatus(s);
      if (!st) return Error::Invalid("status", "status is subscribed or unsubscribed");
      in.status = *st;
    } else if (key == "consent") {
      if (v.is_null()) continue;
      if (!v.is_object()) return Error::Invalid("consent", "consent must be an object");
      for (const auto& [ck, cv] : v.get_object()) {
        if (ck == "source") {
          RAPPORT_ASSIGN_OR_RETURN(in.consent.source, String(cv, "consent.source"));
          if (in.consent.source.empty() || in.consent.source.size() > 100)
            return Error::Invalid("consent.source", "consent.source is 1 to 100 characters");
        } else if (ck == "text_version") {
          RAPPORT_ASSIGN_OR_RETURN(in.consent.text_version, String(cv, "consent.text_version"));
          if (in.consent.text_version.size() > 100)
            return Error::Invalid("consent.text_version", "consent.text_version is at most 100 characters");
        } else {
          return Unknown("consent." + std::string(ck));
        }
      }
    } else {
      return Unknown(key);
    }
  }
  return in;
}

json::object EncodeContact(const Contact& c) {
  json::object o;
  o.reserve(9);
  o["id"] = c.id;
  o["email"] = OptionalString(c.email);
  o["external_id"] = c.external_id ? json::value(*c.external_id) : json::value(nullptr);
  o["status"] = ContactStatusName(c.status);
  o["attributes"] = c.attributes;
  o["timezone"] = OptionalString(c.timezone);
  o["locale"] = OptionalString(c.locale);
  o["created_at"] = FormatTimestamp(c.created_at);
  o["updated_at"] = FormatTimestamp(c.updated_at);
  return o;
}

json::object EncodeEvent(const Event& e) {
  json::object o;
  o.reserve(7);
  o["id"] = e.id;
  o["contact_id"] = e.contact_id;
  o["name"] = e.name;
  o["properties"] = e.properties;
  o["occurred_at"] = FormatTimestamp(e.occurred_at);
  o["received_at"] = FormatTimestamp(e.received_at);
  o["idempotency_key"] = e.idempotency_key ? json::value(*e.idempotency_key) : json::value(nullptr);
  return o;
}

json::object EncodeConsentRecord(const ConsentRecord& r) {
  json::object o{{"id", r.id},
                 {"topic", r.topic_key.empty() ? json::value(nullptr) : json::value(r.topic_key)},
                 {"action", ConsentActionName(r.action)},
                 {"source", r.consent.source},
                 {"at", FormatTimestamp(r.consent.at)},
                 {"ip", r.consent.ip},
                 {"user_agent", r.consent.user_agent},
                 {"text_version", r.consent.text_version}};
  if (r.request_id != 0) o["request_id"] = r.request_id;
  if (r.expires_at) o["expires_at"] = FormatTimestamp(*r.expires_at);
  return o;
}

json::object EncodePreferences(const ContactPreferences& p) {
  return json::object{{"frequency", MailFrequencyName(p.frequency)},
                      {"paused_until", p.paused_until ? json::value(FormatTimestamp(*p.paused_until))
                                                      : json::value(nullptr)}};
}

json::object EncodeTopic(const Topic& t) {
  return json::object{{"id", t.id},
                      {"key", t.key},
                      {"name", t.name},
                      {"description", t.description},
                      {"tracking", t.tracking},
                      {"double_opt_in", t.double_opt_in},
                      {"created_at", FormatTimestamp(t.created_at)}};
}

json::object EncodeSubscription(const Subscription& s) {
  json::object consent{{"source", s.consent.source},
                       {"at", FormatTimestamp(s.consent.at)},
                       {"ip", OptionalString(s.consent.ip)},
                       {"user_agent", OptionalString(s.consent.user_agent)},
                       {"text_version", OptionalString(s.consent.text_version)}};
  return json::object{{"contact_id", s.contact_id},    {"topic_id", s.topic_id},
                      {"topic", s.topic_key},          {"status", SubscriptionStatusName(s.status)},
                      {"consent", std::move(consent)}, {"updated_at", FormatTimestamp(s.updated_at)}};
}

json::object EncodeError(const Error& e) {
  return json::object{{"error", json::object{{"code", ErrorCodeName(e.code)},
                                             {"message", e.message},
                                             {"field", OptionalString(e.field)}}}};
}

json::object EncodeItemError(size_t index, const Error& e) {
  return json::object{{"index", index},
                      {"code", ErrorCodeName(e.code)},
                      {"message", e.message},
                      {"field", OptionalString(e.field)}};
}

}  // namespace rapport::http
