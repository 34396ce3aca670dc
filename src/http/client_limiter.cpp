#include "http/client_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace rapport::http {

ClientLimiter::ClientLimiter(const Clock& clock, double rate_per_second, double burst, size_t max_clients)
    : clock_(clock),
      rate_(std::max(rate_per_second, 1e-6)),
      burst_(std::max(burst, 1.0)),
      max_clients_(std::max<size_t>(max_clients, 1)) {}

std::string ClientLimiter::ClientKey(std::string_view address) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return std::string(address);
  if (addr.is_v6()) {
    auto v6 = addr.to_v6();
    if (v6.is_v4_mapped())
      return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return addr.to_string();
}

void ClientLimiter::Evict(Timestamp now) {
  // First every bucket full again: forgetting it loses nothing (a new bucket starts full).
  std::erase_if(buckets_, [&](const auto& kv) {
    double elapsed = std::chrono::duration<double>(now - kv.second.at).count();
    return kv.second.tokens + elapsed * rate_ >= burst_;
  });
  if (buckets_.size() < max_clients_) return;
  // Then the eighth seen longest ago (theirs are the fullest), in one pass: a scan per new client
  // of a full table let a flood from many addresses serialize every public request on this lock.
  std::vector<std::pair<Timestamp, std::unordered_map<std::string, Bucket>::iterator>> by_age;
  by_age.reserve(buckets_.size());
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) by_age.emplace_back(it->second.at, it);
  const size_t drop = std::max<size_t>(1, buckets_.size() / 8);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1), by_age.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < drop; ++i) buckets_.erase(by_age[i].second);
}

ClientLimiter::Bucket& ClientLimiter::Refill(const std::string& key, Timestamp now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) Evict(now);
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.at).count();
  if (elapsed > 0) b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.at = std::max(b.at, now);
  return b;
}

bool ClientLimiter::Allowed(std::string_view address) {
  std::string key = ClientKey(address);
  std::lock_guard lock(mu_);
  return Refill(key, clock_.Now()).tokens >= 1.0;
}

bool ClientLimiter::Take(std::string_view address) {
  std::string key = ClientKey(address);
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, clock_.Now());
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

int ClientLimiter::RetryAfter(std::string_view address) {
  std::string key = ClientKey(address);
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, clock_.Now());
  if (b.tokens >= 1.0) return 1;
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
}

}  // namespace rapport::http
