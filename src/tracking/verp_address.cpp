#include "tracking/verp_address.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace rapport::tracking {

namespace {

constexpr size_t kTagHex = 20;  // 80 bits

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool ParseId(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out > 0;
}

}  // namespace

Result<VerpCodec> VerpCodec::Create(std::string_view secret) {
  if (secret.size() < 32) return Error::Invalid("link_secret", "the link secret must be at least 32 bytes");
  // A key of its own, so a VERP tag is never a valid tag of another signer with the same secret.
  return VerpCodec(Hmac(secret, "rapport verp v1"));
}

std::string VerpCodec::Tag(WorkspaceId ws, int64_t message_id) const {
  std::string mac = Hmac(key_, std::to_string(ws) + "-" + std::to_string(message_id));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < kTagHex / 2; ++i) {
    hex.push_back(kHex[(static_cast<unsigned char>(mac[i]) >> 4) & 0xf]);
    hex.push_back(kHex[static_cast<unsigned char>(mac[i]) & 0xf]);
  }
  return hex;
}

std::string VerpCodec::Encode(std::string_view bounce_address, WorkspaceId ws, int64_t message_id) const {
  size_t at = bounce_address.rfind('@');
  if (at == std::string_view::npos) return std::string(bounce_address);
  return std::string(bounce_address.substr(0, at)) + "+" + std::to_string(ws) + "-" +
         std::to_string(message_id) + "-" + Tag(ws, message_id) + std::string(bounce_address.substr(at));
}

Result<VerpClaims> VerpCodec::Decode(std::string_view address) const {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return Error::NotFound("not a VERP address");
  std::string_view local = address.substr(0, at);
  size_t plus = local.rfind('+');
  if (plus == std::string_view::npos) return Error::NotFound("not a VERP address");
  std::string_view token = local.substr(plus + 1);
  size_t d1 = token.find('-');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return Error::NotFound("not a VERP address");
  VerpClaims c;
  if (!ParseId(token.substr(0, d1), c.workspace_id) ||
      !ParseId(token.substr(d1 + 1, d2 - d1 - 1), c.message_id))
    return Error::NotFound("not a VERP address");
  std::string_view tag = token.substr(d2 + 1);
  if (tag.size() != kTagHex)
    return Error{ErrorCode::kPermissionDenied, "the VERP tag does not verify", "address"};
  std::string lower(tag);
  for (char& ch : lower)
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
  std::string want = Tag(c.workspace_id, c.message_id);
  if (CRYPTO_memcmp(want.data(), lower.data(), kTagHex) != 0)
    return Error{ErrorCode::kPermissionDenied, "the VERP tag does not verify", "address"};
  return c;
}

}  // namespace rapport::tracking
