#include "tracking/link_table_cache.h"

namespace rapport::tracking {

std::shared_ptr<const TrackedMessage> LinkTableCache::Find(WorkspaceId ws, int64_t key, Timestamp now) {
  std::lock_guard lock(mu_);
  auto it = index_.find(Key{ws, key});
  if (it == index_.end()) return nullptr;
  if (now - it->second->stored >= options_.ttl || now < it->second->stored) {
    EraseLocked(it->second);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->message;
}

void LinkTableCache::Put(int64_t key, const TrackedMessage& message, Timestamp now) {
  if (options_.max_entries == 0 || !Cacheable(message)) return;
  auto shared = std::make_shared<const TrackedMessage>(message);
  std::lock_guard lock(mu_);
  Key k{message.workspace_id, key};
  if (auto it = index_.find(k); it != index_.end()) EraseLocked(it->second);
  lru_.push_front(Entry{k, std::move(shared), now});
  index_.emplace(k, lru_.begin());
  while (lru_.size() > options_.max_entries) EraseLocked(std::prev(lru_.end()));
}

void LinkTableCache::Drop(WorkspaceId ws, int64_t key) {
  std::lock_guard lock(mu_);
  if (auto it = index_.find(Key{ws, key}); it != index_.end()) EraseLocked(it->second);
}

void LinkTableCache::DropContact(WorkspaceId ws, ContactId contact) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key.ws == ws && it->message->contact_id == contact) EraseLocked(it);
    it = next;
  }
}

size_t LinkTableCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

void LinkTableCache::EraseLocked(std::list<Entry>::iterator it) {
  index_.erase(it->key);
  lru_.erase(it);
}

}  // namespace rapport::tracking
