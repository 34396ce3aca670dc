// The signed link token: what a link acts on, tagged under a key of the ring (key_ring.h).
//
// A token names the action (kind), the workspace, the contact, and optionally the message (by
// its id, or by the random key of a tracked message), a link's index in that message and an
// expiry. It never holds a URL: a click's target is read from the stored message, so a verified
// link cannot be turned into an open redirect.
//
// Format (compact, URL-safe, no padding): base64url(payload || tag), where payload is
//   version(1) varint(key id) kind(1) flags(1) varint(workspace) varint(contact)
//   [varint(message_id)] [message_key: 8 bytes big-endian] [varint(link_index)]
//   [varint(expires_at unix seconds)]
// (flags bits 1, 2, 4, 8 say which of the optional fields follow) and tag is
// HMAC-SHA256(key, payload) truncated to 128 bits. Decoding is strict: canonical base64url,
// minimal varints, no unknown flag, no trailing byte; so every change of one character of a
// token makes it fail. A tracked click token for a six-digit contact is 44 characters.
//
// The tokens of the first releases ("<base64url text payload>.<base64url tag>", no key id)
// still verify, against every key the ring still verifies with: links already in inboxes.
//
// Pure; thread-safe. Errors: kPermissionDenied (field "token") for anything that does not
// verify, with one message that says nothing of why.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "tracking/key_ring.h"

namespace rapport::tracking {

enum class LinkKind : char {
  kUnsubscribe = 'u',
  kPreferences = 'p',
  kView = 'v',   // the message in a browser
  kOpen = 'o',   // the open pixel
  kClick = 'c',  // a tracked link
  // A double opt-in confirmation (/confirm/{token}): message_id names the ledger's request id
  // (core/consent.h), and the token expires (default 7 days).
  kConfirm = 'k',
};

struct LinkClaims {
  LinkKind kind = LinkKind::kUnsubscribe;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  int64_t message_id = 0;                 // 0: not about one outbox message
  int64_t message_key = 0;                // a tracked message's random key (MessageTracking::key); 0: none
  int32_t link_index = 0;                 // the link's index in the tracked message (clicks)
  std::optional<Timestamp> expires_at{};  // refused from then on (seconds precision)
  bool operator==(const LinkClaims&) const = default;
};

inline constexpr size_t kMaxTokenLength = 200;

// Encodes and tags `claims` with the ring's current key.
std::string EncodeLinkToken(const KeyRing& ring, const LinkClaims& claims);
// Decodes and verifies a token of any kind at `now` (keys past retention and expired claims are
// refused). Accepts the first releases' format too.
Result<LinkClaims> DecodeLinkToken(const KeyRing& ring, std::string_view token, Timestamp now);

}  // namespace rapport::tracking
