// Signed links: the tokens in unsubscribe, preference and view-in-browser URLs.
//
// A token names what the link acts on (kind, workspace, contact, and optionally a message) and
// carries an HMAC-SHA256 tag (128 bits) over it, keyed with the deployment's link secret, so a
// link cannot be forged or altered: changing one digit of the contact id fails verification.
// A token holds no URL, so a verified link can never be turned into an open redirect.
//
//   LinkSigner signer(secret);                        // secret: at least 32 random bytes
//   std::string t = signer.Sign({LinkKind::kUnsubscribe, ws, contact});
//   Result<LinkClaims> c = signer.Verify(t);          // kPermissionDenied when forged
//
// Format: base64url("<kind>.<ws>.<contact>.<message>") "." base64url(tag). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/model.h"

namespace rapport::tracking {

enum class LinkKind : char { kUnsubscribe = 'u', kPreferences = 'p', kView = 'v' };

struct LinkClaims {
  LinkKind kind = LinkKind::kUnsubscribe;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  int64_t message_id = 0;  // 0: not about one message
  bool operator==(const LinkClaims&) const = default;
};

class LinkSigner {
 public:
  // kInvalid when the secret is shorter than 32 bytes.
  static Result<LinkSigner> Create(std::string secret);

  std::string Sign(const LinkClaims& claims) const;
  // kPermissionDenied (field "token") for a malformed, altered or forged token, or one of
  // another kind than `expected`.
  Result<LinkClaims> Verify(std::string_view token, LinkKind expected) const;

 private:
  explicit LinkSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string Tag(std::string_view payload) const;
  std::string secret_;
};

// The URL of a link: base (e.g. "https://mail.example.com") + "/u/" + token for unsubscribe,
// "/p/" for preferences, "/v/" for view in browser.
std::string LinkUrl(std::string_view base, LinkKind kind, std::string_view token);

}  // namespace rapport::tracking
