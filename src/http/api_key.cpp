#include "http/api_key.h"

#include "core/encoding.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace rapport::http {

namespace {
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
}  // namespace

std::string GenerateApiKey() {
  std::string key(kApiKeyPrefix);
  unsigned char buf[64];
  while (key.size() < kApiKeyPrefix.size() + kApiKeyRandomChars) {
    if (RAND_bytes(buf, sizeof buf) != 1) {
      std::fputs("rapport: RAND_bytes failed; cannot generate an API key\n", stderr);
      std::abort();
    }
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: rejection keeps the characters uniform
      key.push_back(kBase62[b % 62]);
      if (key.size() == kApiKeyPrefix.size() + kApiKeyRandomChars) break;
    }
  }
  return key;
}

std::string HashApiKey(std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

bool LooksLikeApiKey(std::string_view key) {
  if (key.size() < kApiKeyPrefix.size() + 8 || key.size() > 200) return false;
  for (unsigned char c : key)
    if (c <= 0x20 || c >= 0x7F) return false;
  return true;
}

}  // namespace rapport::http
