// Small, fully specified hashes whose values are part of rapport's behaviour, so each is written
// once: a contact's random bucket (segments), a journey split's bucket, the CLV fit's sample
// order, an experiment's draws, a retry's jitter. FNV-1a (64-bit; offset basis
// 14695981039346656037, prime 1099511628211) and SplitMix64 (Steele, Lea and Flood 2014; the
// finalizer is a bijection with full avalanche). Pure, constexpr.
#pragma once

#include <cstdint>
#include <string_view>

namespace rapport {

inline constexpr uint64_t kFnv1aOffsetBasis = 14695981039346656037ULL;
inline constexpr uint64_t kFnv1aPrime = 1099511628211ULL;
inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

// FNV-1a of the bytes of `s`, continuing from `h` (the offset basis for a fresh hash).
constexpr uint64_t Fnv1a64(std::string_view s, uint64_t h = kFnv1aOffsetBasis) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnv1aPrime;
  }
  return h;
}

// SplitMix64's output function (its finalizer), applied to a state.
constexpr uint64_t SplitMix64Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One SplitMix64 step from state `x`: the generator's next output.
constexpr uint64_t SplitMix64(uint64_t x) { return SplitMix64Finalize(x + kSplitMix64Gamma); }

}  // namespace rapport
