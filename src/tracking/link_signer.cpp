#include "tracking/link_signer.h"

namespace rapport::tracking {

Result<LinkSigner> LinkSigner::Create(std::string secret) {
  if (secret.size() < 32) return Error::Invalid("secret", "the link secret must be at least 32 bytes");
  SigningKey key;
  key.id = 1;
  key.secret = std::move(secret);
  RAPPORT_ASSIGN_OR_RETURN(KeyRing ring, KeyRing::Create({std::move(key)}));
  return LinkSigner(std::move(ring), SystemClock::Instance());
}

LinkSigner::LinkSigner(KeyRing ring, const Clock& clock)
    : ring_(std::make_shared<const KeyRing>(std::move(ring))), clock_(&clock) {}

LinkSigner::LinkSigner(LinkSigner&& other) noexcept : ring_(other.ring()), clock_(other.clock_) {}

std::shared_ptr<const KeyRing> LinkSigner::ring() const {
  std::lock_guard lock(mu_);
  return ring_;
}

void LinkSigner::SetRing(KeyRing ring) {
  auto next = std::make_shared<const KeyRing>(std::move(ring));
  std::lock_guard lock(mu_);
  ring_ = std::move(next);
}

std::string LinkSigner::Sign(const LinkClaims& claims) const { return EncodeLinkToken(*ring(), claims); }

Result<LinkClaims> LinkSigner::VerifyAny(std::string_view token) const {
  return DecodeLinkToken(*ring(), token, clock_->Now());
}

Result<LinkClaims> LinkSigner::Verify(std::string_view token, LinkKind expected) const {
  RAPPORT_ASSIGN_OR_RETURN(LinkClaims c, VerifyAny(token));
  if (c.kind != expected) return Error{ErrorCode::kPermissionDenied, "this link is not valid", "token"};
  return c;
}

std::string LinkUrl(std::string_view base, LinkKind kind, std::string_view token) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += '/';
  if (kind == LinkKind::kConfirm)
    url += "confirm";
  else
    url.push_back(static_cast<char>(kind));
  url += '/';
  url += token;
  return url;
}

}  // namespace rapport::tracking
