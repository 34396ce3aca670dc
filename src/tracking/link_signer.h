// Signed links: the tokens in unsubscribe, preference, view-in-browser, open-pixel and click URLs.
//
// A LinkSigner holds the key ring (key_ring.h) and signs and verifies link tokens
// (link_token.h: kind, workspace, contact, optionally a message, a link index and an expiry,
// tagged with HMAC-SHA256 under the ring's newest key; no URL inside, so no open redirect).
//
//   auto signer = LinkSigner::Create(secret);          // one key (tests, a throwaway process)
//   LinkSigner signer(std::move(ring), clock);         // the deployment's ring (app/)
//   std::string t = signer.Sign({LinkKind::kUnsubscribe, ws, contact});
//   Result<LinkClaims> c = signer.Verify(t, LinkKind::kUnsubscribe);  // kPermissionDenied when forged
//
// SetRing replaces the ring (a rotation, `rapport links rotate`, reloaded by a running server);
// links signed with a retired key keep verifying for the ring's retention. Thread-safe; the
// clock must outlive the signer.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "tracking/key_ring.h"
#include "tracking/link_token.h"

namespace rapport::tracking {

class LinkSigner {
 public:
  // A ring of one key that never retires. kInvalid when the secret is shorter than 32 bytes.
  static Result<LinkSigner> Create(std::string secret);
  LinkSigner(KeyRing ring, const Clock& clock);
  LinkSigner(LinkSigner&& other) noexcept;
  LinkSigner& operator=(LinkSigner&&) = delete;

  std::string Sign(const LinkClaims& claims) const;
  // kPermissionDenied (field "token") for a malformed, altered, forged, expired token, one signed
  // with a key past retention, or one of another kind than `expected`.
  Result<LinkClaims> Verify(std::string_view token, LinkKind expected) const;
  // Any kind (the caller checks it).
  Result<LinkClaims> VerifyAny(std::string_view token) const;

  void SetRing(KeyRing ring);
  std::shared_ptr<const KeyRing> ring() const;

 private:
  std::shared_ptr<const KeyRing> ring_;  // guarded by mu_
  const Clock* clock_;
  mutable std::mutex mu_;
};

// The URL of a link: base (e.g. "https://mail.example.com") + "/" + kind letter + "/" + token:
// /u/ unsubscribe, /p/ preferences, /v/ view in browser, /o/ open pixel, /c/ click, and
// /confirm/ for a double opt-in confirmation.
std::string LinkUrl(std::string_view base, LinkKind kind, std::string_view token);

}  // namespace rapport::tracking
