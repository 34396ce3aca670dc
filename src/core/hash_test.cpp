// The hashes against their published reference values: a change here would move every contact's
// random bucket and every journey split (docs/segments.md, docs/journeys.md).
#include "core/hash.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(Hash, Fnv1a64MatchesTheReferenceValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);  // the offset basis
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(Fnv1a64("bar", Fnv1a64("foo")), Fnv1a64("foobar"));  // continues a hash
}

TEST(Hash, SplitMix64MatchesTheReferenceGenerator) {
  // The reference generator seeded with 0 (state += gamma, then the finalizer).
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(SplitMix64(kSplitMix64Gamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(SplitMix64(0), SplitMix64Finalize(kSplitMix64Gamma));
  static_assert(SplitMix64(0) == 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace rapport
