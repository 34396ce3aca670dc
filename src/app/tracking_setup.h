// Tracking's files in the data directory: the link-signing key ring (<data_dir>/link-keys,
// created on first use with the link secret as its first key, so links signed before the ring
// existed keep verifying) and the machine ranges (<data_dir>/machine-ranges.txt, the shipped copy
// on first use). `rapport links rotate` and `rapport tracking update-ranges` rewrite them; a
// running `rapport serve` notices a rotation within a second (KeyRingReloader).
//
// Files are replaced atomically (written beside, fsynced, renamed), mode 0600. Errors: kInvalid
// naming the config key for unreadable or malformed files. Not thread-safe except
// KeyRingReloader, which runs on a thread of its own.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "app/config.h"
#include "core/clock.h"
#include "core/store.h"
#include "http/hit_loader.h"
#include "http/hit_log.h"
#include "tracking/key_ring.h"
#include "tracking/link_signer.h"
#include "tracking/machine_ranges.h"

namespace rapport::app {

// The copy of data/tracking/machine-ranges.txt built into the binary.
std::string_view ShippedMachineRanges();

Result<tracking::KeyRing> LoadOrCreateKeyRing(const Config& config, Timestamp now);
// Loads the ring, rotates it (a new random 32-byte key becomes current) and saves it.
Result<tracking::KeyRing> RotateKeyRing(const Config& config, Timestamp now);

Result<std::shared_ptr<const tracking::MachineRanges>> LoadOrCreateMachineRanges(const Config& config);
// Replaces the "apple" lines of the ranges file with Apple's egress list (CSV text), keeping the
// others; returns the number of Apple ranges written.
Result<size_t> UpdateAppleRanges(const Config& config, std::string_view apple_csv, std::string_view source);

// The tracking hit log of this node (`[tracking] hit_log`, docs/tracking.md): the log under
// HitLogDir() opened at the position node `node_id` loaded up to, and its loader (which loads the
// leftovers of an earlier process first). Both empty when the config turns the hit log off.
// Destroy the loader before the log, after the server stopped (the loader then loads the rest).
struct HitLogParts {
  std::unique_ptr<http::HitLog> log;
  std::unique_ptr<http::HitLoader> loader;
};
Result<HitLogParts> OpenHitLog(const Config& config, Store& store, Clock& clock, const std::string& node_id);

// Watches the key ring file and hands a changed ring to the signer (checked every second).
class KeyRingReloader {
 public:
  KeyRingReloader(Config config, tracking::LinkSigner& signer);
  ~KeyRingReloader();
  KeyRingReloader(const KeyRingReloader&) = delete;
  KeyRingReloader& operator=(const KeyRingReloader&) = delete;

 private:
  void Run();
  Config config_;
  tracking::LinkSigner& signer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rapport::app
