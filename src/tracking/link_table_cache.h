// Recently looked-up tracked messages (their row and link targets, never their HTML), so that the
// opens and clicks of a message just sent do not read the store for every hit. A bounded LRU map
// keyed by (workspace, message key), with a time to live.
//
// What may be cached: only a message that was sent (MessageState::kSent), whose row no longer
// changes on the hit path's account (its contact may still change by a merge, or vanish by an
// erasure: see below). A queued or deferred message is looked up every time, so the machine
// classifier's "seconds since delivery" is never judged from a stale state.
//
// Erasure leaves nothing behind: DropContact removes every entry of the contact at once (the
// erasure use case calls it in this process); an erasure or merge made by another process or node
// is seen at the latest after `ttl`, and sooner by the first hit whose event the store refuses
// (the caller then calls Drop and looks the message up again).
//
// Time is passed in (no clock inside). Thread-safe (one mutex; every call is O(1) but DropContact,
// which scans the entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/clock.h"
#include "core/store.h"

namespace rapport::tracking {

class LinkTableCache {
 public:
  struct Options {
    size_t max_entries = 65536;  // 0: the cache is off (Find always misses, Put keeps nothing)
    Micros ttl = std::chrono::seconds(60);
  };
  explicit LinkTableCache(Options options) : options_(options) {}

  // The cached message, or null when there is none (or it is older than the ttl: then forgotten).
  std::shared_ptr<const TrackedMessage> Find(WorkspaceId ws, int64_t key, Timestamp now);
  // Keeps `message` (looked up at `now`) if it may be cached (above); the least recently used
  // entry is forgotten when the cache is full.
  void Put(int64_t key, const TrackedMessage& message, Timestamp now);
  void Drop(WorkspaceId ws, int64_t key);
  // Forgets every message of the contact (its erasure, or its merge into another contact).
  void DropContact(WorkspaceId ws, ContactId contact);

  static bool Cacheable(const TrackedMessage& m) { return m.state == MessageState::kSent; }
  size_t size() const;

 private:
  struct Key {
    WorkspaceId ws;
    int64_t key;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<int64_t>()(k.key) ^ (std::hash<int64_t>()(k.ws) * 0x9e3779b97f4a7c15ULL);
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const TrackedMessage> message;
    Timestamp stored;
  };
  void EraseLocked(std::list<Entry>::iterator it);

  const Options options_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;                                                // guarded by mu_; front: newest
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;  // guarded by mu_
};

}  // namespace rapport::tracking
