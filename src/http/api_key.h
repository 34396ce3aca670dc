// API keys: generation and hashing, shared by the HTTP auth and the CLI's `keys create`.
//
// A key is "rk_" followed by 40 base62 characters drawn from OpenSSL's RAND_bytes (about 238 bits).
// Only HashApiKey(key) (hex SHA-256 of the whole key) is stored; the key is shown once.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rapport::http {

inline constexpr std::string_view kApiKeyPrefix = "rk_";
inline constexpr size_t kApiKeyRandomChars = 40;
// How many leading characters of a key are kept (ApiKey::prefix) to recognise it in listings.
inline constexpr size_t kApiKeyShownPrefix = 10;

// A fresh key. Aborts only if the OS random source fails (a broken machine, not an input error).
std::string GenerateApiKey();
// Lower-case hex SHA-256 of the whole key.
std::string HashApiKey(std::string_view key);
// True when `key` has the shape of a rapport key (cheap pre-check before a store lookup).
bool LooksLikeApiKey(std::string_view key);

}  // namespace rapport::http
