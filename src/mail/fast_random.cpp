#include "mail/fast_random.h"

#include <openssl/rand.h>

#include <cstring>
#include <random>

namespace rapport::mail {
namespace {

struct Xoshiro256 {
  uint64_t s[4];

  Xoshiro256() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(s), sizeof s) != 1) {
      std::random_device rd;
      for (uint64_t& x : s) x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 0x9E3779B97F4A7C15ULL;  // never all zero
  }

  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t Next() {
    const uint64_t result = Rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return result;
  }
};

Xoshiro256& State() {
  thread_local Xoshiro256 state;
  return state;
}

}  // namespace

uint64_t FastRandom64() { return State().Next(); }

void FastRandomBytes(unsigned char* out, size_t n) {
  Xoshiro256& st = State();
  while (n > 0) {
    uint64_t v = st.Next();
    size_t k = n < 8 ? n : 8;
    std::memcpy(out, &v, k);
    out += k;
    n -= k;
  }
}

}  // namespace rapport::mail
