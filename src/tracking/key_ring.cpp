#include "tracking/key_ring.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cstring>

#include "core/encoding.h"

namespace rapport::tracking {

namespace {

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

bool Unhex(std::string_view s, std::string& out) {
  if (s.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = HexDigitValue(s[i]), lo = HexDigitValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

int64_t Seconds(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
Timestamp FromSeconds(int64_t s) { return Timestamp(std::chrono::seconds(s)); }

}  // namespace

class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key) {
    const EVP_MD* md = EVP_sha256();
    unsigned char block[64] = {};
    if (key.size() > sizeof(block)) {  // RFC 2104: a longer key is hashed first
      unsigned int len = 0;
      EVP_Digest(key.data(), key.size(), block, &len, md, nullptr);
    } else {
      std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[64];
    for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    ok_ = inner_ && outer_ && EVP_DigestInit_ex(inner_.get(), md, nullptr) == 1 &&
          EVP_DigestUpdate(inner_.get(), pad, sizeof(pad)) == 1;
    for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    ok_ = ok_ && EVP_DigestInit_ex(outer_.get(), md, nullptr) == 1 &&
          EVP_DigestUpdate(outer_.get(), pad, sizeof(pad)) == 1;
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
  }
  // HMAC(key, message) into mac (32 bytes); false if OpenSSL failed (the caller falls back).
  bool Mac(std::string_view message, unsigned char* mac) const {
    if (!ok_) return false;
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> scratch(EVP_MD_CTX_new(),
                                                                                 EVP_MD_CTX_free);
    EVP_MD_CTX* s = scratch.get();
    unsigned char inner[32];
    unsigned int len = 0;
    return s && EVP_MD_CTX_copy_ex(s, inner_.get()) == 1 &&
           EVP_DigestUpdate(s, message.data(), message.size()) == 1 &&
           EVP_DigestFinal_ex(s, inner, &len) == 1 && EVP_MD_CTX_copy_ex(s, outer_.get()) == 1 &&
           EVP_DigestUpdate(s, inner, sizeof(inner)) == 1 && EVP_DigestFinal_ex(s, mac, &len) == 1;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> inner_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> outer_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  bool ok_ = false;
};

Result<KeyRing> KeyRing::Create(std::vector<SigningKey> keys, Micros retention) {
  if (keys.empty()) return Error::Invalid("keys", "the key ring holds no key");
  if (retention < Micros(0)) return Error::Invalid("retention", "the key retention cannot be negative");
  for (size_t i = 0; i < keys.size(); ++i) {
    const SigningKey& k = keys[i];
    if (k.secret.size() < 32)
      return Error::Invalid("keys", fmt::format("key {}: a signing key is at least 32 bytes", k.id));
    if (i > 0 && k.id <= keys[i - 1].id)
      return Error::Invalid("keys", fmt::format("key {}: key ids must increase", k.id));
    if (i + 1 < keys.size() && !k.retired_at)
      return Error::Invalid("keys", fmt::format("key {}: only the newest key may be unretired", k.id));
  }
  for (SigningKey& k : keys)
    if (!k.hmac) k.hmac = std::make_shared<const HmacSha256>(k.secret);
  return KeyRing(std::move(keys), retention);
}

Result<KeyRing> KeyRing::Parse(std::string_view text, Micros retention) {
  std::vector<SigningKey> keys;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> f;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) f.push_back(line.substr(start, i - start));
    }
    if (f.empty()) continue;
    auto bad = [&](std::string_view why) {
      return Error::Invalid("keys", fmt::format("key ring line {}: {}", line_no, why));
    };
    if (f.size() != 4) return bad("expected <id> <created_at> <retired_at or -> <secret hex>");
    int64_t id = 0, created = 0, retired = 0;
    if (!ParseInt(f[0], id) || id > UINT32_MAX) return bad("the id is not a number");
    if (!ParseInt(f[1], created)) return bad("created_at is not unix seconds");
    SigningKey k;
    k.id = static_cast<uint32_t>(id);
    k.created_at = FromSeconds(created);
    if (f[2] != "-") {
      if (!ParseInt(f[2], retired)) return bad("retired_at is not unix seconds or -");
      k.retired_at = FromSeconds(retired);
    }
    if (!Unhex(f[3], k.secret)) return bad("the secret is not hex");
    keys.push_back(std::move(k));
  }
  return Create(std::move(keys), retention);
}

std::string KeyRing::Serialize() const {
  std::string out =
      "# rapport link-signing keys, oldest first (docs/tracking.md). Secret: keep it mode 0600.\n"
      "# <id> <created_at unix s> <retired_at unix s or -> <secret hex>\n";
  for (const SigningKey& k : keys_)
    out += fmt::format("{} {} {} {}\n", k.id, Seconds(k.created_at),
                       k.retired_at ? std::to_string(Seconds(*k.retired_at)) : "-", Hex(k.secret));
  return out;
}

const SigningKey* KeyRing::Verifier(uint32_t id, Timestamp now) const {
  for (const SigningKey& k : keys_) {
    if (k.id != id) continue;
    if (k.retired_at && now >= *k.retired_at + retention_) return nullptr;
    return &k;
  }
  return nullptr;
}

std::vector<const SigningKey*> KeyRing::Verifiers(Timestamp now) const {
  std::vector<const SigningKey*> out;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it)
    if (!it->retired_at || now < *it->retired_at + retention_) out.push_back(&*it);
  return out;
}

Result<KeyRing> KeyRing::Rotated(std::string secret, Timestamp now) const {
  if (current().id == UINT32_MAX) return Error::Invalid("keys", "no key id left");
  std::vector<SigningKey> keys;
  for (const SigningKey& k : keys_) {
    SigningKey copy = k;
    if (!copy.retired_at) copy.retired_at = now;
    if (now >= *copy.retired_at + retention_) continue;  // past retention: dropped
    keys.push_back(std::move(copy));
  }
  SigningKey next;
  next.id = current().id + 1;
  next.secret = std::move(secret);
  next.created_at = now;
  keys.push_back(std::move(next));
  return Create(std::move(keys), retention_);
}

std::string Tag(const SigningKey& key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  if (key.hmac && key.hmac->Mac(message, mac))
    return std::string(reinterpret_cast<const char*>(mac), kTagBytes);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), kTagBytes);
}

bool SameTag(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rapport::tracking
