// Fast per-thread random bytes for Message-IDs and MIME boundaries: xoshiro256** seeded once
// per thread from OpenSSL's RAND_bytes (from std::random_device if that fails). Unpredictable
// enough for identifiers that must not collide; not for secrets or tokens (use RAND_bytes).
// Thread-safe: the state is thread_local.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rapport::mail {

void FastRandomBytes(unsigned char* out, size_t n);
uint64_t FastRandom64();

}  // namespace rapport::mail
