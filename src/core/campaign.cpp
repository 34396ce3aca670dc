#include "core/campaign.h"

#include <array>
#include <utility>

namespace rapport {

namespace {

template <class E, size_t N>
std::optional<E> ParseName(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view s) {
  for (const auto& [e, n] : names)
    if (n == s) return e;
  return std::nullopt;
}

template <class E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E e) {
  for (const auto& [v, n] : names)
    if (v == e) return n;
  return "unknown";
}

constexpr std::array<std::pair<CampaignState, std::string_view>, 6> kStates = {{
    {CampaignState::kDraft, "draft"},
    {CampaignState::kScheduled, "scheduled"},
    {CampaignState::kRunning, "running"},
    {CampaignState::kPaused, "paused"},
    {CampaignState::kCancelled, "cancelled"},
    {CampaignState::kDone, "done"},
}};
constexpr std::array<std::pair<OccurrenceState, std::string_view>, 4> kOccurrenceStates = {{
    {OccurrenceState::kSending, "sending"},
    {OccurrenceState::kDeciding, "deciding"},
    {OccurrenceState::kDone, "done"},
    {OccurrenceState::kCancelled, "cancelled"},
}};
constexpr std::array<std::pair<RecipientArm, std::string_view>, 3> kArms = {{
    {RecipientArm::kHoldout, "holdout"},
    {RecipientArm::kTest, "test"},
    {RecipientArm::kRest, "rest"},
}};
constexpr std::array<std::pair<RecipientStatus, std::string_view>, 4> kStatuses = {{
    {RecipientStatus::kPending, "pending"},
    {RecipientStatus::kQueued, "queued"},
    {RecipientStatus::kSkipped, "skipped"},
    {RecipientStatus::kHeld, "held"},
}};

}  // namespace

std::string_view CampaignStateName(CampaignState s) { return NameOf(kStates, s); }
std::optional<CampaignState> ParseCampaignState(std::string_view s) { return ParseName(kStates, s); }
std::string_view OccurrenceStateName(OccurrenceState s) { return NameOf(kOccurrenceStates, s); }
std::optional<OccurrenceState> ParseOccurrenceState(std::string_view s) {
  return ParseName(kOccurrenceStates, s);
}
std::string_view RecipientArmName(RecipientArm a) { return NameOf(kArms, a); }
std::optional<RecipientArm> ParseRecipientArm(std::string_view s) { return ParseName(kArms, s); }
std::string_view RecipientStatusName(RecipientStatus s) { return NameOf(kStatuses, s); }
std::optional<RecipientStatus> ParseRecipientStatus(std::string_view s) { return ParseName(kStatuses, s); }

}  // namespace rapport
