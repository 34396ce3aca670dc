// The JSON of a sender identity (core/sender.h) in /api/v1/senders:
//
//   {"name": "Northwind Outfitters", "email": "news@northwind.example",
//    "reply_to": "help@northwind.example" | {"email": "...", "name": "..."} | null,
//    "postal_address": "12 Harbour St, Portland, ME 04101, USA", "default": true}
//
// DecodeSender checks the shape (strings, a boolean, no unknown field, an email) and leaves the
// values to ValidateSender (the store calls it): kInvalid naming the field. EncodeSender adds
// id, domain and the times. Pure; thread-safe.
#pragma once

#include "core/sender.h"
#include "http/json_codec.h"

namespace rapport::http {

Result<SenderIdentity> DecodeSender(const json::value& body);
json::object EncodeSender(const SenderIdentity& sender);

}  // namespace rapport::http
