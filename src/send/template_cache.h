// Compiled templates by (id, updated_at): a template is compiled once after each save, not once
// per message. Used by the send service and template previews. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "compose/composer.h"

namespace rapport::send {

class TemplateCache {
 public:
  explicit TemplateCache(size_t capacity = 1000) : capacity_(capacity) {}
  // The compiled form of `t` (as read from the store just now; a newer updated_at recompiles).
  Result<std::shared_ptr<const compose::CompiledTemplate>> Compiled(const MessageTemplate& t);

 private:
  std::mutex mu_;
  size_t capacity_;
  std::unordered_map<TemplateId, std::pair<Timestamp, std::shared_ptr<const compose::CompiledTemplate>>>
      entries_;
};

}  // namespace rapport::send
