// The recurrence rule parser and expansion (campaign/rrule.h): any input is refused or parsed;
// a parsed rule formats to text that parses to the same rule, and its first occurrences come in
// order and sequence.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "campaign/rrule.h"

using namespace rapport;
using namespace rapport::campaign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto rule = ParseRRule(text); rule.ok()) {
    std::string again = FormatRRule(*rule);
    auto reparsed = ParseRRule(again);
    if (!reparsed.ok() || FormatRRule(*reparsed) != again) std::abort();
  }
  auto rec = Recurrence::ParseICal(text);
  if (!rec.ok()) return 0;
  Timestamp last{};
  int64_t seq = 0;
  auto list = rec->Between(Timestamp{}, ToInstant(LocalDateTime{2200, 1, 1}, "UTC"), 20);
  for (const auto& o : list) {
    if (o.seq != seq + 1) std::abort();
    // Instants follow wall times except within a repeated DST hour.
    if (seq && o.at + std::chrono::hours(3) < last) std::abort();
    seq = o.seq;
    last = o.at;
  }
  if (!list.empty()) {
    auto first = rec->Nth(1);
    if (!first || first->at != list[0].at) std::abort();
  }
  return 0;
}
