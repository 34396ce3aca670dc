#include "tracking/link_token.h"

#include <charconv>
#include <vector>

#include "core/encoding.h"

namespace rapport::tracking {

namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kHasMessageId = 1, kHasMessageKey = 2, kHasLinkIndex = 4, kHasExpiry = 8;
constexpr std::string_view kAlphabet = kBase64UrlAlphabet;

Error Forged() { return Error{ErrorCode::kPermissionDenied, "this link is not valid", "token"}; }

// Canonical base64url without padding: leftover bits must be zero.
bool Unbase64Url(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos || c == '\0') return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Minimal LEB128 of at most 63 bits.
bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 63; shift += 7) {
    if (in.empty()) return false;
    uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (b == 0 && shift > 0) return false;  // not minimal
      return v <= static_cast<uint64_t>(INT64_MAX);
    }
  }
  return false;
}

int64_t Seconds(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool ParseId(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

bool KnownKind(char c) {
  switch (c) {
    case 'u':
    case 'p':
    case 'v':
    case 'o':
    case 'c':
    case 'k': return true;
    default: return false;
  }
}

// "<kind>.<ws>.<contact>.<message>" "." tag, HMAC over the text payload (first releases).
Result<LinkClaims> DecodeLegacy(const KeyRing& ring, std::string_view token, Timestamp now) {
  size_t dot = token.find('.');
  std::string payload, tag;
  if (!Unbase64Url(token.substr(0, dot), payload) || !Unbase64Url(token.substr(dot + 1), tag))
    return Forged();
  bool verified = false;
  for (const SigningKey* k : ring.Verifiers(now)) verified = SameTag(tag, Tag(*k, payload)) || verified;
  if (!verified) return Forged();
  std::vector<std::string_view> parts;
  std::string_view rest = payload;
  for (size_t p; (p = rest.find('.')) != std::string_view::npos; rest.remove_prefix(p + 1))
    parts.push_back(rest.substr(0, p));
  parts.push_back(rest);
  if (parts.size() != 4 || parts[0].size() != 1 || !KnownKind(parts[0][0])) return Forged();
  LinkClaims c;
  c.kind = static_cast<LinkKind>(parts[0][0]);
  if (!ParseId(parts[1], c.workspace_id) || !ParseId(parts[2], c.contact_id) ||
      !ParseId(parts[3], c.message_id))
    return Forged();
  return c;
}

}  // namespace

std::string EncodeLinkToken(const KeyRing& ring, const LinkClaims& c) {
  const SigningKey& key = ring.current();
  std::string p;
  p.reserve(48);
  p.push_back(static_cast<char>(kVersion));
  PutVarint(p, key.id);
  p.push_back(static_cast<char>(c.kind));
  uint8_t flags = (c.message_id != 0 ? kHasMessageId : 0) | (c.message_key != 0 ? kHasMessageKey : 0) |
                  (c.link_index != 0 ? kHasLinkIndex : 0) | (c.expires_at ? kHasExpiry : 0);
  p.push_back(static_cast<char>(flags));
  PutVarint(p, static_cast<uint64_t>(c.workspace_id));
  PutVarint(p, static_cast<uint64_t>(c.contact_id));
  if (flags & kHasMessageId) PutVarint(p, static_cast<uint64_t>(c.message_id));
  if (flags & kHasMessageKey)
    for (int shift = 56; shift >= 0; shift -= 8)
      p.push_back(static_cast<char>((static_cast<uint64_t>(c.message_key) >> shift) & 0xff));
  if (flags & kHasLinkIndex) PutVarint(p, static_cast<uint64_t>(c.link_index));
  if (flags & kHasExpiry) PutVarint(p, static_cast<uint64_t>(std::max<int64_t>(0, Seconds(*c.expires_at))));
  p += Tag(key, p);
  return Base64(p, Base64Alphabet::kUrl);
}

Result<LinkClaims> DecodeLinkToken(const KeyRing& ring, std::string_view token, Timestamp now) {
  if (token.empty() || token.size() > kMaxTokenLength) return Forged();
  if (token.find('.') != std::string_view::npos) return DecodeLegacy(ring, token, now);
  std::string raw;
  if (!Unbase64Url(token, raw) || raw.size() < kTagBytes + 6) return Forged();
  std::string_view payload = std::string_view(raw).substr(0, raw.size() - kTagBytes);
  std::string_view tag = std::string_view(raw).substr(raw.size() - kTagBytes);
  std::string_view in = payload;
  if (static_cast<uint8_t>(in.front()) != kVersion) return Forged();
  in.remove_prefix(1);
  uint64_t key_id = 0;
  if (!GetVarint(in, key_id) || key_id > UINT32_MAX) return Forged();
  const SigningKey* key = ring.Verifier(static_cast<uint32_t>(key_id), now);
  if (key == nullptr || !SameTag(tag, Tag(*key, payload))) return Forged();
  // Authentic: written by us. Parse it strictly all the same.
  if (in.size() < 2 || !KnownKind(in[0])) return Forged();
  LinkClaims c;
  c.kind = static_cast<LinkKind>(in[0]);
  uint8_t flags = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  if (flags & ~(kHasMessageId | kHasMessageKey | kHasLinkIndex | kHasExpiry)) return Forged();
  uint64_t v = 0;
  if (!GetVarint(in, v)) return Forged();
  c.workspace_id = static_cast<int64_t>(v);
  if (!GetVarint(in, v)) return Forged();
  c.contact_id = static_cast<int64_t>(v);
  if (flags & kHasMessageId) {
    if (!GetVarint(in, v) || v == 0) return Forged();
    c.message_id = static_cast<int64_t>(v);
  }
  if (flags & kHasMessageKey) {
    if (in.size() < 8) return Forged();
    uint64_t k = 0;
    for (int i = 0; i < 8; ++i) k = (k << 8) | static_cast<uint8_t>(in[i]);
    in.remove_prefix(8);
    if (k == 0 || k > static_cast<uint64_t>(INT64_MAX)) return Forged();
    c.message_key = static_cast<int64_t>(k);
  }
  if (flags & kHasLinkIndex) {
    if (!GetVarint(in, v) || v == 0 || v > INT32_MAX) return Forged();
    c.link_index = static_cast<int32_t>(v);
  }
  if (flags & kHasExpiry) {
    if (!GetVarint(in, v)) return Forged();
    c.expires_at = Timestamp(std::chrono::seconds(static_cast<int64_t>(v)));
    if (now >= *c.expires_at) return Forged();
  }
  if (!in.empty()) return Forged();
  return c;
}

}  // namespace rapport::tracking
