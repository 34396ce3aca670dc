#include "automation/step_registry.h"

#include <fmt/format.h>

namespace rapport::automation {

namespace {

bool IsKindName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

std::vector<StepTarget> StepKind::Targets(const boost::json::object& config) const {
  const boost::json::value* next = config.if_contains("next");
  if (next && next->is_string()) return {StepTarget{"next", std::string(next->get_string())}};
  return {};
}

Status StepRegistry::Register(std::unique_ptr<const StepKind> kind) {
  if (!kind) return Error::Invalid("kind", "a step kind is required");
  std::string name(kind->name());
  if (!IsKindName(name)) return Error::Invalid("kind", fmt::format("'{}' is not a step kind name", name));
  auto [it, inserted] = kinds_.try_emplace(name, nullptr);
  if (!inserted) return Error::Conflict(fmt::format("step kind '{}' is registered already", name), "kind");
  it->second = std::move(kind);
  return {};
}

const StepKind* StepRegistry::Find(std::string_view name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second.get();
}

std::vector<std::string_view> StepRegistry::Names() const {
  std::vector<std::string_view> out;
  out.reserve(kinds_.size());
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

Status StepRegistry::Validate(std::string_view name, const boost::json::object& config,
                              std::string_view field) const {
  const StepKind* kind = Find(name);
  if (!kind)
    return Error::Invalid(std::string(field),
                          fmt::format("unknown step kind '{}'; known: {}", name, fmt::join(Names(), ", ")));
  return kind->Validate(config);
}

}  // namespace rapport::automation
