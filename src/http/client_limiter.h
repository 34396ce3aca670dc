// Per-client rate limits for what strangers can do without a key: failed authentications and hits
// on the public link pages (/u/..., later opens and clicks). A token bucket per client address:
// `rate` tokens a second up to `burst`; a hit takes one; a client with no token left is refused
// (429) until its next token, which RetryAfter() gives in whole seconds for the Retry-After header.
//
// Addresses: an IPv4 address is one client; an IPv6 address counts by its /64, which one host
// commonly holds whole. The table holds at most `max_clients` buckets: when it is full, the buckets
// full again are forgotten (losing nothing), else the eighth seen longest ago (the fullest), in one
// pass, so a flood from many addresses can neither grow memory without bound nor make each new
// client a scan of the table. Time comes from the Clock. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace rapport::http {

class ClientLimiter {
 public:
  ClientLimiter(const Clock& clock, double rate_per_second, double burst, size_t max_clients = 100000);

  // True when the client has a token left (nothing is taken).
  bool Allowed(std::string_view address);
  // Takes a token; false (and nothing taken) when none is left.
  bool Take(std::string_view address);
  // Seconds (at least 1) until the client has a token again.
  int RetryAfter(std::string_view address);
  // The bucket key of an address: the address itself for IPv4, its /64 for IPv6.
  static std::string ClientKey(std::string_view address);

 private:
  struct Bucket {
    double tokens;
    Timestamp at;
  };
  Bucket& Refill(const std::string& key, Timestamp now);  // REQUIRES(mu_)
  // Makes room in a full table: the buckets full again, else the oldest eighth. REQUIRES(mu_)
  void Evict(Timestamp now);

  const Clock& clock_;
  const double rate_;
  const double burst_;
  const size_t max_clients_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace rapport::http
