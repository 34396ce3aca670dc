#include "core/governance.h"

namespace rapport {

std::string_view GovernorVerdictName(GovernorVerdict v) {
  switch (v) {
    case GovernorVerdict::kAllow: return "allowed";
    case GovernorVerdict::kDefer: return "deferred";
    case GovernorVerdict::kSkip: return "skipped";
  }
  return "allowed";
}

}  // namespace rapport
