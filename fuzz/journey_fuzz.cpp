// The journey document parser and checker (automation/journey_model.h) on arbitrary bytes: never
// crashes, and what it accepts holds its promises (every target exists, the start exists, every
// step's kind is registered, durations parse).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "automation/journey_model.h"
#include "automation/steps.h"

using namespace rapport::automation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static StepRegistry* registry = [] {
    auto* r = new StepRegistry();
    if (!RegisterBuiltinSteps(*r).ok()) std::abort();
    return r;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  TemplateLookup templates = [](std::string_view name) { return !name.empty() && name[0] == 't'; };
  auto def = ParseJourney(text, *registry, templates);
  if (!def.ok()) return 0;
  if (!def->Find(def->start)) std::abort();
  for (const StepDef& s : def->steps) {
    if (registry->Find(s.kind) != s.impl) std::abort();
    for (const StepTarget& t : s.impl->Targets(s.config))
      if (!def->Find(t.step)) std::abort();
    for (const std::string& t : s.impl->Templates(s.config))
      if (!templates(t)) std::abort();
  }
  for (const Trigger& t : def->triggers) (void)PropertiesMatch(t.where, {});
  return 0;
}
