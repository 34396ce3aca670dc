#include "tracking/link_signer.h"

#include "core/encoding.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

namespace rapport::tracking {

namespace {

constexpr size_t kTagBytes = 16;
constexpr std::string_view kAlphabet = kBase64UrlAlphabet;

std::string Base64Url(std::string_view in) { return Base64(in, Base64Alphabet::kUrl); }

bool Unbase64Url(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero padding of fewer than 6 bits (canonical encoding only).
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

bool ParseId(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

Error Forged() { return Error{ErrorCode::kPermissionDenied, "this link is not valid", "token"}; }

}  // namespace

Result<LinkSigner> LinkSigner::Create(std::string secret) {
  if (secret.size() < 32) return Error::Invalid("secret", "the link secret must be at least 32 bytes");
  return LinkSigner(std::move(secret));
}

std::string LinkSigner::Tag(std::string_view payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), kTagBytes);
}

std::string LinkSigner::Sign(const LinkClaims& c) const {
  std::string payload;
  payload.push_back(static_cast<char>(c.kind));
  for (int64_t v : {c.workspace_id, c.contact_id, c.message_id}) {
    payload.push_back('.');
    payload += std::to_string(v);
  }
  return Base64Url(payload) + "." + Base64Url(Tag(payload));
}

Result<LinkClaims> LinkSigner::Verify(std::string_view token, LinkKind expected) const {
  if (token.size() > 200) return Forged();
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Forged();
  std::string payload, tag;
  if (!Unbase64Url(token.substr(0, dot), payload) || !Unbase64Url(token.substr(dot + 1), tag))
    return Forged();
  std::string want = Tag(payload);
  if (tag.size() != want.size() || CRYPTO_memcmp(tag.data(), want.data(), want.size()) != 0) return Forged();
  // Authentic: the payload is one we wrote; parse it all the same.
  std::vector<std::string_view> parts;
  std::string_view rest = payload;
  for (size_t p; (p = rest.find('.')) != std::string_view::npos; rest.remove_prefix(p + 1))
    parts.push_back(rest.substr(0, p));
  parts.push_back(rest);
  LinkClaims c;
  if (parts.size() != 4 || parts[0].size() != 1 || parts[0][0] != static_cast<char>(expected))
    return Forged();
  c.kind = expected;
  if (!ParseId(parts[1], c.workspace_id) || !ParseId(parts[2], c.contact_id) ||
      !ParseId(parts[3], c.message_id))
    return Forged();
  return c;
}

std::string LinkUrl(std::string_view base, LinkKind kind, std::string_view token) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += '/';
  url.push_back(static_cast<char>(kind));
  url += '/';
  url += token;
  return url;
}

}  // namespace rapport::tracking
