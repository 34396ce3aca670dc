#include "send/template_cache.h"

namespace rapport::send {

Result<std::shared_ptr<const compose::CompiledTemplate>> TemplateCache::Compiled(const MessageTemplate& t) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(t.id);
    if (it != entries_.end() && it->second.first == t.updated_at) return it->second.second;
  }
  // Compile outside the lock: two threads may both compile a new version; both results are equal.
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const compose::CompiledTemplate> compiled,
                           compose::CompiledTemplate::Compile(t));
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_ && !entries_.count(t.id)) entries_.clear();
  entries_[t.id] = {t.updated_at, compiled};
  return compiled;
}

Result<std::shared_ptr<const compose::CompiledTemplate>> TemplateCache::CompiledVariant(
    const MessageTemplate& t) {
  std::string key = std::to_string(t.id);
  key.push_back('\0');
  key += t.subject;
  key.push_back('\0');
  key += t.preheader;
  {
    std::lock_guard lock(mu_);
    auto it = variants_.find(key);
    if (it != variants_.end() && it->second.first == t.updated_at) return it->second.second;
  }
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const compose::CompiledTemplate> compiled,
                           compose::CompiledTemplate::Compile(t));
  std::lock_guard lock(mu_);
  if (variants_.size() >= capacity_ && !variants_.count(key)) variants_.clear();
  variants_[key] = {t.updated_at, compiled};
  return compiled;
}

}  // namespace rapport::send
