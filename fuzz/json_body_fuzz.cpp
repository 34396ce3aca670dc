// Fuzzes the API's JSON body decoders (http/json_codec.h): the reusable body parser, contacts,
// event batches, send requests (with "from"), sender identities, topics and subscriptions. Beyond "no crash,
// no sanitizer report" it checks that the arena parser and the one-shot parser agree, that a decoded batch
// accounts for every item, and that a decoded contact survives a round trip through its own normalization.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "http/json_codec.h"
#include "http/send_request_codec.h"
#include "http/sender_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static rapport::http::JsonBodyParser parser;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto arena = parser.Parse(text);
  auto plain = rapport::http::ParseJson(text);
  Check(arena.ok() == plain.ok());
  if (!arena.ok()) {
    Check(arena.error().code == rapport::ErrorCode::kBadRequest);
    return 0;
  }
  Check(*arena == *plain);
  const rapport::json::value& body = *arena;

  auto contact = rapport::http::DecodeContactInput(body);
  if (contact.ok()) {
    rapport::ContactInput again = *contact;
    Check(rapport::ValidateContactInput(again).ok());  // normalization is idempotent
    Check(again.email == contact->email);
  } else {
    Check(contact.error().code == rapport::ErrorCode::kInvalid);
  }

  auto batch = rapport::http::DecodeEventBatch(body, 100);
  if (batch.ok()) {
    Check(batch->events.size() == batch->indexes.size());
    Check(batch->events.size() + batch->errors.size() == batch->total);
    for (size_t i = 1; i < batch->indexes.size(); ++i) Check(batch->indexes[i - 1] < batch->indexes[i]);
    for (const auto& [index, err] : batch->errors) {
      Check(index < batch->total);
      Check(!err.message.empty());
    }
    for (const auto& ev : batch->events) {
      Check(!ev.name.empty());
      Check(ev.contact.id || ev.contact.email || ev.contact.external_id);
    }
  } else {
    Check(batch.error().code == rapport::ErrorCode::kInvalid ||
          batch.error().code == rapport::ErrorCode::kTooLarge);
  }

  auto sender = rapport::http::DecodeSender(body);
  if (sender.ok()) {
    rapport::SenderIdentity once = *sender;
    if (rapport::ValidateSender(once).ok()) {
      rapport::SenderIdentity twice = once;
      Check(rapport::ValidateSender(twice).ok());  // normalization is idempotent
      Check(twice.email == once.email && twice.reply_to_email == once.reply_to_email);
      for (const std::string* f : {&once.name, &once.reply_to_name, &once.postal_address})
        Check(f->find('\r') == std::string::npos && f->find('\n') == std::string::npos);
      (void)rapport::http::EncodeSender(once);
    }
  } else {
    Check(sender.error().code == rapport::ErrorCode::kInvalid);
  }
  std::optional<std::string> from_email;
  auto with_from = rapport::http::DecodeSendRequest(body, &from_email);
  if (with_from.ok() && from_email) Check(rapport::NormalizeEmail(*from_email).ok());

  auto send = rapport::http::DecodeSendRequest(body);
  if (send.ok()) {
    Check(send->template_id.has_value() != !send->template_name.empty());
    Check(send->contact_id.has_value() || send->contact.email || send->contact.external_id);
  } else {
    Check(send.error().code == rapport::ErrorCode::kInvalid);
  }

  (void)rapport::http::DecodeTopicInput(body);
  (void)rapport::http::DecodeSubscriptionInput(body);
  return 0;
}
