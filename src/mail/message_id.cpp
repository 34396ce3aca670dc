#include "mail/message_id.h"

#include <array>
#include <cstdint>

#include "mail/fast_random.h"

namespace rapport::mail {

std::string GenerateMessageId(std::string_view domain) {
  std::array<unsigned char, 16> bytes{};
  FastRandomBytes(bytes.data(), bytes.size());
  static constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id;
  id.reserve(domain.size() + 32);
  id.push_back('<');
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      id.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) id.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  id.push_back('@');
  id.append(domain);
  id.push_back('>');
  return id;
}

}  // namespace rapport::mail
