// DKIM signing (RFC 6376) with OpenSSL 3: rsa-sha256 and ed25519-sha256 (RFC 8463),
// relaxed/relaxed canonicalization, one or several signatures per message (dual signing).
//
// DkimKey: a domain, a selector, an algorithm and a private key. Copies share the immutable
// key. LoadDkimKey reads an unencrypted PEM file (PKCS#8 or traditional; an encrypted key is
// refused, never prompted for); it fails with kInvalid (field "key_file") when the file cannot
// be read, is not a private key, or does not match the algorithm (an RSA key under 2048 bits
// is refused too). Key material is never put in an error message.
//
// DkimSigner: signs complete messages (CRLF line ends, as mime_writer.h writes them). h= lists
// each header of DefaultSignedHeaders() present in the message, once per occurrence, and
// from, to and subject once more (over-signing, so a copy added later breaks the signature); bh= is the
// relaxed body hash; t= the signing time. Each call builds its own EVP_MD_CTX, so one signer
// may be used from any number of threads at once. Failures (a message without a From header,
// an OpenSSL failure) are kInvalid / kInternal errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace rapport::mail {

enum class DkimAlgorithm { kRsaSha256, kEd25519Sha256 };

// "rsa-sha256" / "ed25519-sha256" (the a= tag).
std::string_view DkimAlgorithmName(DkimAlgorithm a);
// Accepts "rsa", "rsa-sha256", "ed25519", "ed25519-sha256".
std::optional<DkimAlgorithm> ParseDkimAlgorithm(std::string_view s);

// RSA signing contexts of one key, prepared once and reused (dkim.cpp).
class DkimSignContexts;

class DkimKey {
 public:
  DkimKey(std::string domain, std::string selector, DkimAlgorithm algorithm, std::shared_ptr<EVP_PKEY> key);

  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }
  DkimAlgorithm algorithm() const { return algorithm_; }
  EVP_PKEY* pkey() const { return key_.get(); }
  // RSA keys: a pool of signing contexts shared by the key's copies (null for Ed25519).
  DkimSignContexts* sign_contexts() const { return contexts_.get(); }

 private:
  std::string domain_;
  std::string selector_;
  DkimAlgorithm algorithm_;
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<DkimSignContexts> contexts_;
};

Result<DkimKey> LoadDkimKey(std::string_view domain, std::string_view selector, const std::string& key_file,
                            DkimAlgorithm algorithm);
// The same from PEM text in memory.
Result<DkimKey> DkimKeyFromPem(std::string_view domain, std::string_view selector, std::string_view pem,
                               DkimAlgorithm algorithm);

// A new private key as PKCS#8 PEM: RSA 2048 bits or Ed25519.
Result<std::string> GenerateDkimKeyPem(DkimAlgorithm algorithm);

// The p= value: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32-byte key (Ed25519).
Result<std::string> DkimPublicKeyBase64(const DkimKey& key);

// The TXT record text "v=DKIM1; k=rsa; p=...".
Result<std::string> DkimTxtValue(const DkimKey& key);

// A zone-file line: `selector._domainkey.domain. IN TXT "..." "..."` with the value split in
// strings of at most 255 characters.
Result<std::string> DkimDnsRecord(const DkimKey& key);

// The headers signed when present (lower case), in h= order.
const std::vector<std::string>& DefaultSignedHeaders();

class DkimSigner {
 public:
  // `keys` must not be empty (a programmer error). Each key makes one signature.
  explicit DkimSigner(std::vector<DkimKey> keys,
                      std::vector<std::string> signed_headers = DefaultSignedHeaders());

  // The DKIM-Signature header fields (each folded, CRLF-terminated), one per key in order, to
  // be put before `message`.
  Result<std::string> SignatureHeaders(std::string_view message, Timestamp now) const;

  // SignatureHeaders(message, now) followed by `message`.
  Result<std::string> Sign(std::string_view message, Timestamp now) const;

 private:
  std::vector<DkimKey> keys_;
  std::vector<std::string> signed_headers_;
};

}  // namespace rapport::mail
