// The ring of link-signing keys: every signed link (unsubscribe, preferences, web view, open
// pixel, click, confirmation) is tagged with HMAC-SHA256 under the ring's newest key, and names
// that key's id, so keys can rotate without breaking a link already in an inbox.
//
//   auto ring = KeyRing::Parse(file_text, retention);     // or KeyRing::Create({...}, retention)
//   const SigningKey& k = ring->current();                // sign with the newest key
//   const SigningKey* v = ring->Verifier(id, now);        // null once the key is past retention
//   auto next = ring->Rotated(new_secret, now);           // `rapport links rotate`
//
// Rotation: the new key becomes current and the previous current is retired at `now`; a retired
// key keeps verifying for `retention` (default 400 days) after it was retired, then it is
// dropped at the next rotation. Ids increase and are never reused.
//
// The text form (the key ring file, one key a line, oldest first; '#' starts a comment):
//   <id> <created_at unix seconds> <retired_at unix seconds or -> <secret as hex>
//
// Pure values (no I/O; time is passed in); immutable, so thread-safe. Errors: kInvalid naming
// "keys" (or the line) for a malformed ring: no key, ids not increasing, a secret under 32 bytes,
// a retired key after the current one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace rapport::tracking {

inline constexpr Micros kDefaultKeyRetention = std::chrono::hours(24 * 400);
inline constexpr size_t kTagBytes = 16;  // HMAC-SHA256 truncated to 128 bits

// HMAC-SHA256 with its key's inner and outer blocks hashed once (key_ring.cpp): a tag is then
// two short hashes, ~0.2 us, against ~1.1 us for OpenSSL's one-shot HMAC(), which looks the
// digest up and keys it anew every time (a tracking hit verifies one tag, a message signs many).
class HmacSha256;

struct SigningKey {
  uint32_t id = 0;
  std::string secret;  // at least 32 bytes
  Timestamp created_at{};
  std::optional<Timestamp> retired_at;  // set on the keys a rotation replaced
  // Made by KeyRing::Create from `secret`; a key made elsewhere is tagged the slower way.
  std::shared_ptr<const HmacSha256> hmac;
};

class KeyRing {
 public:
  static Result<KeyRing> Create(std::vector<SigningKey> keys, Micros retention = kDefaultKeyRetention);
  static Result<KeyRing> Parse(std::string_view text, Micros retention = kDefaultKeyRetention);
  std::string Serialize() const;

  // The newest key: new links are signed with it.
  const SigningKey& current() const { return keys_.back(); }
  // The key with this id when it still verifies at `now` (current, or retired less than
  // `retention` ago); nullptr otherwise.
  const SigningKey* Verifier(uint32_t id, Timestamp now) const;
  // Every key that still verifies at `now`, newest first.
  std::vector<const SigningKey*> Verifiers(Timestamp now) const;
  // A new ring where `secret` (at least 32 bytes) is current with the next id, the previous
  // current is retired at `now`, and keys past retention at `now` are dropped.
  Result<KeyRing> Rotated(std::string secret, Timestamp now) const;

  Micros retention() const { return retention_; }
  const std::vector<SigningKey>& keys() const { return keys_; }

 private:
  KeyRing(std::vector<SigningKey> keys, Micros retention) : keys_(std::move(keys)), retention_(retention) {}
  std::vector<SigningKey> keys_;  // oldest first; never empty
  Micros retention_;
};

// HMAC-SHA256(key.secret, message), the first kTagBytes bytes.
std::string Tag(const SigningKey& key, std::string_view message);
// Constant-time comparison of two tags.
bool SameTag(std::string_view a, std::string_view b);

}  // namespace rapport::tracking
