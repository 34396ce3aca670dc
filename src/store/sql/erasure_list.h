// The erasure list: the addresses of erased contacts, kept only as keyed hashes in the
// tombstones (contacts.email_hash), consulted by every path that creates a contact.
//
// A tombstone's hash is "h1:" + hex HMAC-SHA256(key, EmailIdentityKey(address)): keyed, so a
// dictionary of addresses cannot reverse it without the data directory's erasure secret
// (app/ keeps it in <data_dir>/erasure-secret), and case-folded the way contact identity is (any
// letter case of an erased address is refused). Tombstones written before the key existed hold
// the bare SHA-256 of the address as it was stored (64 hex digits, no prefix): those are still
// found, by the bare hash of the address as given after normalization (a letter-case variant of
// a legacy address is not recognized: documented in docs/architecture.md).
// Thread-safety: ErasureKey is thread-safe; the functions run inside the caller's transaction.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/model.h"
#include "store/sql/database.h"

namespace rapport::sql {

class ErasureKey {
 public:
  void Set(std::string key) {
    std::lock_guard lock(mu_);
    key_ = std::move(key);
  }
  std::string Get() const {
    std::lock_guard lock(mu_);
    return key_;
  }

 private:
  mutable std::mutex mu_;
  std::string key_;  // empty until set: the HMAC is then keyed with the empty key
};

// "h1:" + hex HMAC-SHA256(key, EmailIdentityKey(email)).
std::string ErasureHash(std::string_view key, std::string_view email);

// The error every create path returns for an erased address (kConflict, field "email").
Error ErasedAddressError();

// True when `email` (normalized) belongs to an erased contact of the workspace.
Result<bool> IsErasedIn(Session& s, WorkspaceId ws, std::string_view email, const ErasureKey& key);

// The refusal: ErasedAddressError() when the address is erased and `reconsent` is false; when it
// is erased and `reconsent` is true, removes it from the list (the fresh consent supersedes the
// erasure; erasing the new contact lists it again) and sets `reconsented`.
Status CheckErasedIn(Session& s, WorkspaceId ws, std::string_view email, const ErasureKey& key,
                     bool reconsent, bool* reconsented = nullptr);

}  // namespace rapport::sql
