// Bearer-key authentication for the API.
//
// Authenticate() takes the Authorization header, hashes the key (HashApiKey) and looks it up with
// KeyStore::FindByHash. Positive lookups are cached for `ttl` so the hot path does not touch the
// store on every request; Invalidate() drops a revoked key at once (on this node; other nodes see
// the revocation within `ttl`). Unknown keys are never cached. Errors: kUnauthenticated (no
// header, not Bearer, unknown or revoked key), or the store's kUnavailable/kInternal.
// Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "core/store.h"

namespace rapport::http {

class Authenticator {
 public:
  Authenticator(KeyStore& keys, Clock& clock, std::chrono::seconds ttl);

  Result<ApiKey> Authenticate(const std::string* authorization_header);
  void Invalidate(KeyId id);

 private:
  struct Cached {
    ApiKey key;
    Timestamp expires;
  };
  KeyStore& keys_;
  Clock& clock_;
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // GUARDED_BY(mu_); by key hash
};

}  // namespace rapport::http
