#include "app/tracking_setup.h"

#include <date/date.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/delivery_setup.h"
#include "core/thread_name.h"

namespace rapport::app {

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `path` atomically: a temporary file beside it (0600), fsynced, renamed over it.
Status ReplaceFile(const std::string& path, std::string_view text, const std::string& field) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Invalid(field, fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error::Invalid(field, fmt::format("cannot write {}", path));
  }
  return {};
}

Micros Retention(const Config& config) { return std::chrono::hours(24) * config.tracking.key_retention_days; }

Result<std::string> RandomSecret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1)
    return Error::Internal("no randomness for a link key");
  return secret;
}

Result<tracking::KeyRing> ParseRing(const Config& config, const std::string& text) {
  auto ring = tracking::KeyRing::Parse(text, Retention(config));
  if (!ring.ok())
    return Error::Invalid("tracking.key_ring_file",
                          fmt::format("{}: {}", config.KeyRingFile(), ring.error().message));
  return ring;
}

}  // namespace

Result<tracking::KeyRing> LoadOrCreateKeyRing(const Config& config, Timestamp now) {
  const std::string path = config.KeyRingFile();
  if (auto text = ReadFile(path)) return ParseRing(config, *text);
  // First use: the link secret is key 1, so links signed with it keep verifying.
  RAPPORT_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateLinkSecret(config));
  tracking::SigningKey first;
  first.id = 1;
  first.secret = std::move(secret);
  first.created_at = now;
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing ring,
                           tracking::KeyRing::Create({std::move(first)}, Retention(config)));
  RAPPORT_TRY(ReplaceFile(path, ring.Serialize(), "tracking.key_ring_file"));
  return ring;
}

Result<tracking::KeyRing> RotateKeyRing(const Config& config, Timestamp now) {
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing ring, LoadOrCreateKeyRing(config, now));
  RAPPORT_ASSIGN_OR_RETURN(std::string secret, RandomSecret());
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing next, ring.Rotated(std::move(secret), now));
  RAPPORT_TRY(ReplaceFile(config.KeyRingFile(), next.Serialize(), "tracking.key_ring_file"));
  return next;
}

Result<std::shared_ptr<const tracking::MachineRanges>> LoadOrCreateMachineRanges(const Config& config) {
  const std::string path = config.RangesFile();
  std::optional<std::string> text = ReadFile(path);
  if (!text) {
    RAPPORT_TRY(ReplaceFile(path, ShippedMachineRanges(), "tracking.ranges_file"));
    text = std::string(ShippedMachineRanges());
  }
  auto ranges = tracking::MachineRanges::Parse(*text);
  if (!ranges.ok())
    return Error::Invalid("tracking.ranges_file", fmt::format("{}: {}", path, ranges.error().message));
  return std::make_shared<const tracking::MachineRanges>(std::move(ranges).value());
}

Result<size_t> UpdateAppleRanges(const Config& config, std::string_view apple_csv, std::string_view source) {
  RAPPORT_ASSIGN_OR_RETURN(std::vector<std::string> apple, tracking::ParseAppleEgressCsv(apple_csv));
  std::string current = ReadFile(config.RangesFile()).value_or(std::string(ShippedMachineRanges()));
  auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::string out = fmt::format(
      "# rapport machine ranges (tracking/machine_ranges.h): <label> <CIDR>\n"
      "# apple lines from {} on {}; other lines kept.\n",
      source, date::format("%F", now));
  std::istringstream lines(current);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("apple ") || line.starts_with("#")) continue;
    out += line + "\n";
  }
  for (const std::string& a : apple) out += a + "\n";
  if (!tracking::MachineRanges::Parse(out).ok()) return Error::Internal("the new ranges file does not parse");
  RAPPORT_TRY(ReplaceFile(config.RangesFile(), out, "tracking.ranges_file"));
  return apple.size();
}

KeyRingReloader::KeyRingReloader(Config config, tracking::LinkSigner& signer)
    : config_(std::move(config)), signer_(signer) {
  thread_ = std::thread([this] {
    NameThisThread("key-reloader");
    Run();
  });
}

KeyRingReloader::~KeyRingReloader() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void KeyRingReloader::Run() {
  const std::string path = config_.KeyRingFile();
  auto stamp = [&]() -> std::pair<int64_t, int64_t> {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {0, 0};
    return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
            static_cast<int64_t>(st.st_ino)};
  };
  auto last = stamp();
  while (!stop_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto now = stamp();
    if (now == last || now.first == 0) continue;
    last = now;
    auto text = ReadFile(path);
    if (!text) continue;
    auto ring = ParseRing(config_, *text);
    if (!ring.ok()) {
      spdlog::error("link key ring not reloaded: {}", ring.error().message);
      continue;
    }
    spdlog::info("link key ring reloaded: key {} is current, {} keys", ring->current().id,
                 ring->keys().size());
    signer_.SetRing(std::move(ring).value());
  }
}

Result<HitLogParts> OpenHitLog(const Config& config, Store& store, Clock& clock, const std::string& node_id) {
  HitLogParts parts;
  if (!config.tracking.hit_log) return parts;
  http::HitLoaderOptions loader_options;
  loader_options.consumer = "hit_log/" + node_id;  // each node loads its own file
  loader_options.gather = std::chrono::milliseconds(config.tracking.hit_load_gather_ms);
  RAPPORT_ASSIGN_OR_RETURN(int64_t loaded,
                           http::HitLoader::LoadedPosition(store.feed(), loader_options.consumer));
  http::HitLogOptions log_options;
  log_options.dir = config.HitLogDir();
  log_options.fsync_interval = std::chrono::milliseconds(config.tracking.hit_log_fsync_ms);
  RAPPORT_ASSIGN_OR_RETURN(parts.log, http::HitLog::Open(log_options, loaded));
  parts.loader = std::make_unique<http::HitLoader>(*parts.log, store.events(), clock, loaded, loader_options);
  return parts;
}

}  // namespace rapport::app
