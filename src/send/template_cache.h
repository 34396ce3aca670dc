// Compiled templates by (id, updated_at): a template is compiled once after each save, not once
// per message. Used by the send service and template previews. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "compose/composer.h"

namespace rapport::send {

class TemplateCache {
 public:
  explicit TemplateCache(size_t capacity = 1000) : capacity_(capacity) {}
  // The compiled form of `t` (as read from the store just now; a newer updated_at recompiles).
  Result<std::shared_ptr<const compose::CompiledTemplate>> Compiled(const MessageTemplate& t);
  // The same for `t` with its subject and preheader replaced by a variant's (a campaign's A/B
  // variant): cached by (id, subject, preheader) and recompiled after a newer updated_at.
  Result<std::shared_ptr<const compose::CompiledTemplate>> CompiledVariant(const MessageTemplate& t);

 private:
  using Entry = std::pair<Timestamp, std::shared_ptr<const compose::CompiledTemplate>>;
  std::mutex mu_;
  size_t capacity_;
  std::unordered_map<TemplateId, Entry> entries_;
  std::unordered_map<std::string, Entry> variants_;  // id, subject and preheader, NUL-separated
};

}  // namespace rapport::send
