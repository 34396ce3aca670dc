#include "mail/dkim.h"

#include "core/encoding.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cassert>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "mail/dkim_canonical.h"

namespace rapport::mail {
namespace {

constexpr size_t kFoldAt = 78;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string Base64(const unsigned char* data, size_t n) {
  return rapport::Base64(std::string_view(reinterpret_cast<const char*>(data), n));
}

// A DNS label sequence: letters, digits, '-', '_' and '.', 1-253 characters.
Status ValidateDnsName(std::string_view field, std::string_view s) {
  if (s.empty() || s.size() > 253) return Error::Invalid(std::string(field), "must be 1-253 characters");
  for (unsigned char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return Error::Invalid(std::string(field), "may hold only letters, digits, '-', '_' and '.'");
  }
  return {};
}

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

}  // namespace

// RSA PKCS#1 v1.5 signing contexts for one key, each set up once (sign init, padding, SHA-256)
// and lent to one thread at a time: setting one up per message (EVP_DigestSignInit) costs 3-8 us
// of a ~270 us signature. The signature is the same bytes either way (PKCS#1 v1.5 is
// deterministic). Thread-safe.
class DkimSignContexts {
 public:
  explicit DkimSignContexts(EVP_PKEY* key) : key_(key) {}
  ~DkimSignContexts() {
    for (EVP_PKEY_CTX* c : free_) EVP_PKEY_CTX_free(c);
  }
  DkimSignContexts(const DkimSignContexts&) = delete;
  DkimSignContexts& operator=(const DkimSignContexts&) = delete;

  // Signs a SHA-256 digest.
  Result<std::string> SignDigest(const unsigned char* digest, size_t len) {
    EVP_PKEY_CTX* ctx = Take();
    if (ctx == nullptr) return Error::Internal("DKIM: signing init failed: " + OpenSslError());
    std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key_)), '\0');
    size_t sig_len = sig.size();
    const bool ok =
        EVP_PKEY_sign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len, digest, len) == 1;
    Give(ctx);
    if (!ok) return Error::Internal("DKIM: signing failed: " + OpenSslError());
    sig.resize(sig_len);
    return sig;
  }

 private:
  EVP_PKEY_CTX* Take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        EVP_PKEY_CTX* c = free_.back();
        free_.pop_back();
        return c;
      }
    }
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(key_, nullptr);
    if (c == nullptr || EVP_PKEY_sign_init(c) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1) {
      EVP_PKEY_CTX_free(c);
      return nullptr;
    }
    return c;
  }
  void Give(EVP_PKEY_CTX* c) {
    std::lock_guard lock(mu_);
    free_.push_back(c);
  }

  EVP_PKEY* key_;  // the DkimKey's; each context made from it holds its own reference
  std::mutex mu_;
  std::vector<EVP_PKEY_CTX*> free_;  // guarded by mu_
};

namespace {

// Signs `data` with the key's algorithm; the signature's raw bytes. Both algorithms sign the
// SHA-256 hash of the data (RFC 8463: Ed25519 as PureEdDSA over that hash).
Result<std::string> SignData(const DkimKey& key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &dlen, EVP_sha256(), nullptr) != 1)
    return Error::Internal("DKIM: SHA-256 failed: " + OpenSslError());
  if (DkimSignContexts* contexts = key.sign_contexts()) return contexts->SignDigest(digest, dlen);
  // Ed25519 (an RSA key always has its signing contexts).
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx) return Error::Internal("out of memory");
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.pkey()) != 1)
    return Error::Internal("DKIM: signing init failed: " + OpenSslError());
  size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, digest, dlen) != 1)
    return Error::Internal("DKIM: signing failed: " + OpenSslError());
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, digest, dlen) != 1)
    return Error::Internal("DKIM: signing failed: " + OpenSslError());
  sig.resize(sig_len);
  return sig;
}

Result<std::string> BodyHash(std::string_view body) {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Error::Internal("DKIM: SHA-256 init failed");
  bool ok = true;
  RelaxedBodyCanonicalizer::Run(
      body, [&](std::string_view s) { ok = ok && EVP_DigestUpdate(ctx.get(), s.data(), s.size()) == 1; });
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) return Error::Internal("DKIM: SHA-256 failed");
  return Base64(digest, len);
}

bool NameEquals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Appends `text` to a folded tag list, starting a new line ("\r\n\t") when it would pass 78.
void AppendFolded(std::string& out, size_t& column, std::string_view text, bool space_before) {
  if (column + text.size() + (space_before ? 1 : 0) > kFoldAt && column > 1) {
    out.append("\r\n\t");
    column = 8;
  } else if (space_before) {
    out.push_back(' ');
    ++column;
  }
  out.append(text);
  column += text.size();
}

}  // namespace

std::string_view DkimAlgorithmName(DkimAlgorithm a) {
  return a == DkimAlgorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::optional<DkimAlgorithm> ParseDkimAlgorithm(std::string_view s) {
  if (s == "rsa" || s == "rsa-sha256") return DkimAlgorithm::kRsaSha256;
  if (s == "ed25519" || s == "ed25519-sha256") return DkimAlgorithm::kEd25519Sha256;
  return std::nullopt;
}

DkimKey::DkimKey(std::string domain, std::string selector, DkimAlgorithm algorithm,
                 std::shared_ptr<EVP_PKEY> key)
    : domain_(std::move(domain)),
      selector_(std::move(selector)),
      algorithm_(algorithm),
      key_(std::move(key)) {
  // Each context holds its own reference to the key (EVP_PKEY_CTX_new takes one).
  if (algorithm_ == DkimAlgorithm::kRsaSha256 && key_)
    contexts_ = std::make_shared<DkimSignContexts>(key_.get());
}

Result<DkimKey> DkimKeyFromPem(std::string_view domain, std::string_view selector, std::string_view pem,
                               DkimAlgorithm algorithm) {
  RAPPORT_TRY(ValidateDnsName("domain", domain));
  RAPPORT_TRY(ValidateDnsName("selector", selector));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  if (!bio) return Error::Internal("out of memory");
  // A callback that supplies no passphrase: an encrypted key fails instead of OpenSSL's
  // default prompting on the terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (raw == nullptr) {
    ERR_clear_error();
    return Error::Invalid("key_file", "not an unencrypted PEM private key");
  }
  std::shared_ptr<EVP_PKEY> key(raw, &EVP_PKEY_free);
  const int id = EVP_PKEY_get_base_id(raw);
  if (algorithm == DkimAlgorithm::kRsaSha256) {
    if (id != EVP_PKEY_RSA) return Error::Invalid("key_file", "algorithm rsa-sha256 needs an RSA key");
    if (EVP_PKEY_get_bits(raw) < 2048)
      return Error::Invalid("key_file", "an RSA DKIM key must have at least 2048 bits");
  } else if (id != EVP_PKEY_ED25519) {
    return Error::Invalid("key_file", "algorithm ed25519-sha256 needs an Ed25519 key");
  }
  DkimKey dkim_key(std::string(domain), std::string(selector), algorithm, std::move(key));
  // One signature now: proves the key works and warms OpenSSL's provider caches before
  // threads share it.
  auto probe = SignData(dkim_key, "rapport");
  if (!probe.ok()) return Error::Invalid("key_file", "the key cannot sign: " + probe.error().message);
  return dkim_key;
}

Result<DkimKey> LoadDkimKey(std::string_view domain, std::string_view selector, const std::string& key_file,
                            DkimAlgorithm algorithm) {
  std::ifstream in(key_file, std::ios::binary);
  if (!in) return Error::Invalid("key_file", "cannot read " + key_file);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto key = DkimKeyFromPem(domain, selector, ss.str(), algorithm);
  if (!key.ok()) {
    Error e = std::move(key).error();
    if (e.field == "key_file") e.message = key_file + ": " + e.message;
    return e;
  }
  return key;
}

Result<std::string> GenerateDkimKeyPem(DkimAlgorithm algorithm) {
  EVP_PKEY* raw = algorithm == DkimAlgorithm::kRsaSha256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return Error::Internal("key generation failed: " + OpenSslError());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), raw, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Error::Internal("writing the key failed: " + OpenSslError());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> DkimPublicKeyBase64(const DkimKey& key) {
  if (key.algorithm() == DkimAlgorithm::kEd25519Sha256) {
    unsigned char pub[32];
    size_t len = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(key.pkey(), pub, &len) != 1)
      return Error::Internal("cannot read the public key: " + OpenSslError());
    return Base64(pub, len);
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.pkey(), &der);
  if (len <= 0) return Error::Internal("cannot encode the public key: " + OpenSslError());
  std::string b64 = Base64(der, static_cast<size_t>(len));
  OPENSSL_free(der);
  return b64;
}

Result<std::string> DkimTxtValue(const DkimKey& key) {
  RAPPORT_ASSIGN_OR_RETURN(std::string p, DkimPublicKeyBase64(key));
  return std::string("v=DKIM1; k=") + (key.algorithm() == DkimAlgorithm::kRsaSha256 ? "rsa" : "ed25519") +
         "; p=" + p;
}

Result<std::string> DkimDnsRecord(const DkimKey& key) {
  RAPPORT_ASSIGN_OR_RETURN(std::string value, DkimTxtValue(key));
  std::string out = key.selector() + "._domainkey." + key.domain() + ". IN TXT";
  for (size_t i = 0; i < value.size(); i += 255) {
    out += " \"";
    out += value.substr(i, 255);
    out += '"';
  }
  return out;
}

const std::vector<std::string>& DefaultSignedHeaders() {
  static const std::vector<std::string> kHeaders = {
      "from",       "reply-to",     "to",           "subject",          "date",
      "message-id", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post",
      "list-id",    "feedback-id"};
  return kHeaders;
}

DkimSigner::DkimSigner(std::vector<DkimKey> keys, std::vector<std::string> signed_headers)
    : keys_(std::move(keys)), signed_headers_(std::move(signed_headers)) {
  assert(!keys_.empty());
}

Result<std::string> DkimSigner::SignatureHeaders(std::string_view message, Timestamp now) const {
  const SplitMessage split = SplitHeaders(message);
  bool has_from = false;
  for (const RawHeaderField& h : split.headers) has_from = has_from || NameEquals(h.name, "from");
  if (!has_from) return Error::Invalid("message", "a message to sign needs a From header");

  // The signed header block and h= list: for each name, every occurrence, bottom-up.
  std::string h_list;
  std::string signed_block;
  signed_block.reserve(1024);
  for (const std::string& name : signed_headers_) {
    bool found = false;
    for (size_t k = split.headers.size(); k-- > 0;) {
      if (!NameEquals(split.headers[k].name, name)) continue;
      if (!h_list.empty()) h_list.push_back(':');
      h_list += name;
      AppendRelaxedHeader(signed_block, split.headers[k].raw);
      found = true;
    }
    // Over-signing (RFC 6376 8.15): naming a present From, To or Subject once more makes a
    // second copy added in transit break the signature. The extra name signs nothing.
    if (found && (name == "from" || name == "to" || name == "subject")) {
      h_list.push_back(':');
      h_list += name;
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(std::string bh, BodyHash(split.body));
  const long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  std::string out;
  for (const DkimKey& key : keys_) {
    std::string field = "DKIM-Signature: v=1; a=";
    field += DkimAlgorithmName(key.algorithm());
    field += "; c=relaxed/relaxed;";
    size_t column = field.size();
    AppendFolded(field, column, "d=" + key.domain() + ";", true);
    AppendFolded(field, column, "s=" + key.selector() + ";", true);
    AppendFolded(field, column, "t=" + std::to_string(t) + ";", true);
    // h= folds after a colon.
    {
      size_t start = 0;
      bool first = true;
      while (start <= h_list.size()) {
        size_t colon = h_list.find(':', start);
        size_t end = colon == std::string::npos ? h_list.size() : colon + 1;
        std::string piece = (first ? "h=" : "") + h_list.substr(start, end - start);
        if (colon == std::string::npos) piece += ";";
        AppendFolded(field, column, piece, first);
        first = false;
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
    }
    AppendFolded(field, column, "bh=" + bh + ";", true);
    AppendFolded(field, column, "b=", true);

    std::string data = signed_block;
    AppendRelaxedHeader(data, field, /*crlf=*/false);
    RAPPORT_ASSIGN_OR_RETURN(std::string sig, SignData(key, data));
    const std::string b = Base64(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
    // The signature is folded inside the b= value; verifiers ignore FWS there.
    size_t i = 0;
    while (i < b.size()) {
      size_t room = column < kFoldAt ? kFoldAt - column : 0;
      if (room < 8) {
        field.append("\r\n\t ");
        column = 9;
        room = kFoldAt - column;
      }
      size_t take = std::min(room, b.size() - i);
      field.append(b, i, take);
      column += take;
      i += take;
    }
    field.append("\r\n");
    out += field;
  }
  return out;
}

Result<std::string> DkimSigner::Sign(std::string_view message, Timestamp now) const {
  RAPPORT_ASSIGN_OR_RETURN(std::string headers, SignatureHeaders(message, now));
  headers.append(message);
  return headers;
}

}  // namespace rapport::mail
