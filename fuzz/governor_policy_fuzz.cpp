// Fuzzes the frequency governor's policy document (campaign/governor.h, PUT /api/v1/governor) and
// the engine on the policies it accepts. Beyond "no crash, no sanitizer report" it checks that an
// accepted policy survives a round trip through its JSON form, and that a decision on it is one of
// the three verdicts with a moment that never lies before now (nor past the horizon when deferred).
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "campaign/governor.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rapport;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return 0;
  auto policy = campaign::ParsePolicy(v);
  if (!policy.ok()) {
    Check(policy.error().code == ErrorCode::kInvalid && !policy.error().field.empty());
    return 0;
  }
  auto again = campaign::ParsePolicy(campaign::PolicyToJson(*policy));
  Check(again.ok() && *again == *policy);

  // A few facts made from the input's bytes: moments within two weeks of now.
  const Timestamp now = *ParseTimestamp("2026-03-28T21:30:00Z");
  std::vector<GovernedMessage> recent;
  for (size_t i = 0; i + 1 < size && recent.size() < 16; i += 2) {
    GovernedMessage m;
    m.id = static_cast<MessageId>(i + 1);
    m.contact_id = 1;
    m.state = data[i] % 3 == 0 ? MessageState::kQueued : MessageState::kSent;
    m.at = now + std::chrono::hours(static_cast<int>(data[i + 1]) - 128);
    m.priority = data[i] % 5;
    if (data[i] & 0x80) m.topic = policy->topics.empty() ? "news" : policy->topics.begin()->first;
    recent.push_back(std::move(m));
  }
  campaign::GovernorCandidate c;
  c.priority = size % 5;
  c.skip_on_cap = size % 2 == 1;
  if (!policy->topics.empty()) c.topic = policy->topics.begin()->first;
  campaign::GovernorFacts facts;
  facts.recent = recent;
  facts.now = now;
  facts.timezone = size % 3 == 0 ? "Europe/Berlin" : "";
  facts.frequency = size % 7 == 0 ? MailFrequency::kWeeklyDigest : MailFrequency::kEverything;
  campaign::GovernorDecision d = campaign::Decide(*policy, c, facts);
  if (d.verdict == GovernorVerdict::kAllow) Check(d.at == now);
  if (d.verdict == GovernorVerdict::kDefer) Check(d.at > now && d.at - now <= campaign::kHorizon);
  if (d.verdict != GovernorVerdict::kAllow) Check(!d.reason.empty());
  for (const campaign::Yielded& y : d.yielded)
    Check(y.verdict != GovernorVerdict::kAllow && !y.reason.empty());
  return 0;
}
