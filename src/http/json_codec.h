// The JSON wire format of the API: decoders (JSON -> validated input values, with errors that name
// the offending field) and encoders (model values -> JSON objects).
//
// Part of http/ (the API owns its wire format), pure functions with no I/O: the fuzz build
// compiles this file alone into its target, so it exercises every decoder. Decoders
// never throw: every failure is an Error (kBadRequest for text that is not JSON, kInvalid naming
// the field for JSON that does not fit). Unknown fields are rejected (kInvalid naming them) so
// that a typo never silently vanishes. Thread-safety: JsonBodyParser is one per thread (it reuses
// its buffers); everything else is a free function on values.
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/consent.h"
#include "core/error.h"
#include "core/model.h"

namespace rapport::http {

// Parses request bodies into JSON, reusing its parser state and a monotonic arena between calls
// (the arena is reset on every Parse). The returned value lives in that arena: it is valid until
// the next Parse or the parser's destruction; copy what must outlive it (the decoders below do).
// Errors: kBadRequest "invalid JSON at line L, column C (offset O): <reason>".
class JsonBodyParser {
 public:
  JsonBodyParser();
  ~JsonBodyParser();
  JsonBodyParser(const JsonBodyParser&) = delete;
  JsonBodyParser& operator=(const JsonBodyParser&) = delete;

  Result<json::value> Parse(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot parse with the default allocator (tests, tools).
Result<json::value> ParseJson(std::string_view text);

// {"email","external_id","status","attributes","timezone","locale"} -> a validated ContactInput
// (ValidateContactInput applied). The read-only fields id, created_at and updated_at are refused
// like any unknown field.
Result<ContactInput> DecodeContactInput(const json::value& body);

// A contact reference: {"id": N} | {"email": "..."} | {"external_id": "..."} (several may be
// given; the id wins, then the email, as in ContactRef). Errors are kInvalid naming
// "<field>.<key>" (or `field` itself for a value that is not such an object). The email is not
// normalized here (ValidateNewEvent / ValidateContactInput do it). Shared by every endpoint that
// names a contact.
Result<ContactRef> DecodeContactRef(const json::value& v, std::string_view field);

// One event object -> a validated NewEvent (ValidateNewEvent applied). Fields: name, contact
// ({"id"|"email"|"external_id"}, DecodeContactRef) or the flat contact_id | email | external_id
// (not both forms), properties, occurred_at (RFC 3339), idempotency_key, attributes (merged
// into the contact), create_contact (default true).
Result<NewEvent> DecodeNewEvent(const json::value& item);

// The body of POST /events: one event object, or {"events":[...]}.
struct DecodedEventBatch {
  size_t total = 0;                              // items in the request
  bool single = false;                           // the body was one event object
  std::vector<NewEvent> events;                  // the items that decoded and validated
  std::vector<size_t> indexes;                   // indexes[i] is events[i]'s request index
  std::vector<std::pair<size_t, Error>> errors;  // (request index, why) for the others
};
// kInvalid for a body of the wrong shape; kTooLarge (field "events") past max_items.
Result<DecodedEventBatch> DecodeEventBatch(const json::value& body, size_t max_items);

// {"key","name","description"} -> a validated Topic (key checked with ValidateTopicKey).
Result<Topic> DecodeTopicInput(const json::value& body);

// {"status":"subscribed"|"unsubscribed","consent":{"source","text_version"}}; the status defaults
// to subscribed and the source to "api". The caller stamps at, ip and user_agent.
struct SubscriptionInput {
  SubscriptionStatus status = SubscriptionStatus::kSubscribed;
  Consent consent;
};
Result<SubscriptionInput> DecodeSubscriptionInput(const json::value& body);

// Encoders: the JSON the API returns. Timestamps are RFC 3339 (FormatTimestamp).
json::object EncodeContact(const Contact& c);
json::object EncodeEvent(const Event& e);
json::object EncodeTopic(const Topic& t);
json::object EncodeSubscription(const Subscription& s);
// A consent ledger record and a contact's preferences (core/consent.h; docs/consent.md).
json::object EncodeConsentRecord(const ConsentRecord& r);
json::object EncodePreferences(const ContactPreferences& p);
// {"error":{"code","message","field"}} with field null when the error names none.
json::object EncodeError(const Error& e);
// An error as a batch item: {"index","code","message","field"}.
json::object EncodeItemError(size_t index, const Error& e);

}  // namespace rapport::http
