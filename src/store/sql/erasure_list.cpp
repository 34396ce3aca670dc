#include "store/sql/erasure_list.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/email_address.h"
#include "store/sql/codec.h"

namespace rapport::sql {

std::string ErasureHash(std::string_view key, std::string_view email) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string identity = EmailIdentityKey(email);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(identity.data()), identity.size(), digest, &len);
  std::string out = "h1:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Error ErasedAddressError() {
  return Error::Conflict(
      "erased: the person with this address asked to be erased; a new contact for this address needs "
      "fresh consent (\"reconsent\": true on POST /api/v1/contacts)",
      "email");
}

Result<bool> IsErasedIn(Session& s, WorkspaceId ws, std::string_view email, const ErasureKey& key) {
  const std::string keyed = ErasureHash(key.Get(), email);
  const std::string legacy = Sha256Hex(email);  // tombstones written before the key existed
  bool found = false;
  RAPPORT_TRY(s.Exec("SELECT 1 FROM contacts WHERE workspace_id = $1 AND email_hash IN ($2, $3) LIMIT 1",
                     {ws, std::string_view(keyed), std::string_view(legacy)},
                     [&](const Row&) { found = true; }));
  return found;
}

Status CheckErasedIn(Session& s, WorkspaceId ws, std::string_view email, const ErasureKey& key,
                     bool reconsent, bool* reconsented) {
  RAPPORT_ASSIGN_OR_RETURN(bool erased, IsErasedIn(s, ws, email, key));
  if (!erased) return {};
  if (!reconsent) return ErasedAddressError();
  const std::string keyed = ErasureHash(key.Get(), email);
  const std::string legacy = Sha256Hex(email);
  RAPPORT_TRY(
      s.Exec("UPDATE contacts SET email_hash = NULL WHERE workspace_id = $1 AND email_hash IN ($2, $3)",
             {ws, std::string_view(keyed), std::string_view(legacy)}));
  if (reconsented) *reconsented = true;
  return {};
}

}  // namespace rapport::sql
