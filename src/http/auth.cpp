#include "http/auth.h"

#include <strings.h>

#include "http/api_key.h"

namespace rapport::http {

namespace {
constexpr size_t kMaxCachedKeys = 10000;

Error Unauthenticated(std::string msg) { return {ErrorCode::kUnauthenticated, std::move(msg), {}}; }
}  // namespace

Authenticator::Authenticator(KeyStore& keys, Clock& clock, std::chrono::seconds ttl)
    : keys_(keys), clock_(clock), ttl_(ttl) {}

Result<ApiKey> Authenticator::Authenticate(const std::string* header) {
  if (!header || header->empty())
    return Unauthenticated("an API key is required: send Authorization: Bearer <key>");
  std::string_view h = *header;
  if (h.size() < 7 || strncasecmp(h.data(), "Bearer ", 7) != 0)
    return Unauthenticated("the Authorization header must be: Bearer <key>");
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (!LooksLikeApiKey(h)) return Unauthenticated("unknown or revoked API key");
  std::string hash = HashApiKey(h);
  Timestamp now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      if (it->second.expires > now) return it->second.key;
      cache_.erase(it);
    }
  }
  auto found = keys_.FindByHash(hash);
  if (!found.ok()) {
    if (found.error().code == ErrorCode::kNotFound) return Unauthenticated("unknown or revoked API key");
    return std::move(found).error();
  }
  ApiKey key = std::move(found).value();
  if (key.revoked_at) return Unauthenticated("unknown or revoked API key");
  (void)keys_.TouchLastUsed(key.id, now);  // best effort: at most once per ttl per key and node
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  cache_[hash] = Cached{key, now + std::chrono::duration_cast<Micros>(ttl_)};
  return key;
}

void Authenticator::Invalidate(KeyId id) {
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.key.id == id)
      it = cache_.erase(it);
    else
      ++it;
  }
}

}  // namespace rapport::http
