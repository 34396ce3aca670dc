#include "http/client_limiter.h"

#include <algorithm>
#include <cmath>

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

ClientLimiter::Bucket& ClientLimiter::Refill(const std::string& key, Timestamp now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // Forget the client seen longest ago: its bucket is the fullest (or soon will be).
      auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                     [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
      buckets_.erase(oldest);
    }
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
