// Fuzzes the link token decoder (tracking/link_token.h) with a fixed ring of two keys, one retired:
// every input ends in claims or kPermissionDenied, never a crash; whatever decodes re-encodes
// (with the current key) to a token that decodes to the same claims; and a token that verifies is
// never changed by one character into another that verifies (checked on the input's own token).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tracking/link_token.h"

namespace {

using namespace rapport;
using namespace rapport::tracking;

const KeyRing& Ring() {
  static const KeyRing* ring = [] {
    std::vector<SigningKey> keys = {
        {1,
         std::string(32, 'a'),
         Timestamp(std::chrono::seconds(1000)),
         Timestamp(std::chrono::seconds(2000)),
         {}},
        {2, std::string(32, 'b'), Timestamp(std::chrono::seconds(2000)), std::nullopt, {}}};
    return new KeyRing(*KeyRing::Create(std::move(keys)));
  }();
  return *ring;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Timestamp now(std::chrono::seconds(3000));
  auto claims = DecodeLinkToken(Ring(), input, now);
  if (claims.ok()) {
    std::string again = EncodeLinkToken(Ring(), *claims);
    auto back = DecodeLinkToken(Ring(), again, now);
    if (!back.ok() || !(*back == *claims)) {
      fprintf(stderr, "a decoded token does not round-trip\n");
      abort();
    }
  }
  // Claims built from the input: encode, decode, and flip one character.
  if (size >= 8) {
    LinkClaims c;
    const char kinds[] = {'u', 'p', 'v', 'o', 'c'};
    c.kind = static_cast<LinkKind>(kinds[data[0] % 5]);
    c.workspace_id = data[1];
    c.contact_id = (int64_t{data[2]} << 16) | (int64_t{data[3]} << 8) | data[4];
    c.message_key = data[5] & 1 ? (int64_t{data[6]} << 40) + 1 : 0;
    c.link_index = data[7] % 50;
    std::string token = EncodeLinkToken(Ring(), c);
    auto got = DecodeLinkToken(Ring(), token, now);
    if (!got.ok() || !(*got == c)) {
      fprintf(stderr, "encode/decode mismatch\n");
      abort();
    }
    size_t pos = size > 8 ? data[8] % token.size() : 0;
    char ch = size > 9 ? static_cast<char>(data[9]) : 'A';
    if (ch != token[pos]) {
      token[pos] = ch;
      if (DecodeLinkToken(Ring(), token, now).ok()) {
        fprintf(stderr, "a one-character change verified\n");
        abort();
      }
    }
  }
  return 0;
}
