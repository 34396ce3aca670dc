// The frequency governor: one policy for all marketing mail (campaigns, journeys, the API's
// marketing sends) of a workspace. Transactional mail is never governed. Pure: no I/O, no
// clock; the send service (send/send_service.h) reads the facts, asks Decide() and acts on the
// answer. docs/governor.md is the user's guide.
//
// What it enforces, for one contact, in the contact's timezone (Contact::timezone, else the
// policy's default timezone, else UTC):
//  - caps: at most `per_day` marketing messages per local calendar day and `per_week` per local
//    calendar week (Monday 00:00 to Monday 00:00), over all topics, and the same per topic
//    (`topics`); 0 means no cap. A message counts in the day and week of its moment
//    (GovernedMessage::at): a message deferred to Thursday takes Thursday's place now.
//  - the contact's own choice from the preference center: a weekly digest means at most one
//    marketing message per local week, whether or not the policy is enabled;
//  - quiet hours [start, end) of local time (wrapping midnight when start > end): a message that
//    would go in them is deferred to their end, whatever its on_cap (quiet hours move mail, they
//    never drop it).
// A message the caps stop is deferred to the next allowed moment, or skipped when it asks for
// that (skip_on_cap). Nothing is deferred further than kHorizon: past it, the message is skipped.
//
// Priorities (the exact rule): when a cap stops candidate C at its earliest moment T, the
// governor looks among the contact's messages still kQueued (not claimed, not sent) that lie in
// every full window at T (the same day for a day cap, the same week for a week cap, the same
// topic for a topic cap) for those with a priority strictly lower than C's. If removing one of
// them frees every full window, the one with the lowest priority (then the latest moment, then
// the highest id) yields: C takes T, and the yielding message is decided again by its own
// on_cap (skipped, or deferred to the next allowed moment after C is counted; it displaces no
// one in turn). Equal priorities never displace each other: the first queued keeps its place.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/consent.h"
#include "core/error.h"
#include "core/governance.h"

namespace rapport::campaign {

struct Caps {
  int per_day = 0;   // 0: no cap
  int per_week = 0;  // 0: no cap
  bool operator==(const Caps&) const = default;
};

// Minutes after local midnight, [0, 1440).
struct QuietHours {
  int start = 21 * 60;
  int end = 8 * 60;
  bool operator==(const QuietHours&) const = default;
};

struct GovernorPolicy {
  // Off: only the contacts' own weekly-digest choices are enforced. A workspace that never set a
  // policy has DefaultPolicy(): off, with the recommended values below ready to switch on.
  bool enabled = false;
  Caps caps{1, 3};                     // over all marketing mail
  std::map<std::string, Caps> topics;  // topic key -> caps for that topic alone
  std::optional<QuietHours> quiet_hours = QuietHours{};
  std::string timezone = "UTC";  // for contacts without one (an IANA name)
  // The global holdout (0 to 0.5, 0: none): this share of the workspace's contacts gets no
  // marketing mail at all (campaign/experiment.h, InGlobalHoldout). Applies even when the caps
  // are off (`enabled` false).
  double global_holdout = 0;
  bool operator==(const GovernorPolicy&) const = default;
};

GovernorPolicy DefaultPolicy();

// How far a message may be deferred before it is skipped instead.
inline constexpr auto kHorizon = std::chrono::hours(24 * 35);
// How far back the facts must reach: the start of the current local week is at most 7 days ago,
// plus a day of timezone slack.
inline constexpr auto kLookback = std::chrono::hours(24 * 8);

// The JSON form (GET/PUT /api/v1/governor):
//   {"enabled": true, "per_day": 1, "per_week": 3,
//    "topics": {"offers": {"per_day": 1, "per_week": 2}},
//    "quiet_hours": {"start": "21:00", "end": "08:00"} (or null: none),
//    "timezone": "Europe/Berlin", "global_holdout": 0.05}
// Every member is optional on input: a missing one keeps its value in `base`. kInvalid names the
// field (caps 0..1000, times HH:MM, start != end, a known timezone, topic keys as slugs).
Result<GovernorPolicy> ParsePolicy(const boost::json::value& json,
                                   const GovernorPolicy& base = DefaultPolicy());
boost::json::object PolicyToJson(const GovernorPolicy& policy);
// The policy as the store keeps it (GovernorStore::Policy): none is DefaultPolicy(); stored text
// that no longer parses is kInternal.
Result<GovernorPolicy> ParseStoredPolicy(const std::optional<std::string>& text);

// The instant local `day` (days since 1970-01-01) begins in the IANA zone `tz` (UTC when unknown);
// a midnight skipped by a DST change is the instant the clocks jumped. And the local day of `t`.
Timestamp LocalMidnight(std::string_view tz, int64_t day);
int64_t LocalDayOf(std::string_view tz, Timestamp t);

struct GovernorCandidate {
  std::optional<std::string> topic;
  int priority = 0;
  bool skip_on_cap = false;
  // The contact is in the workspace's global holdout (InGlobalHoldout with the policy's share):
  // the message is skipped, whatever its priority.
  bool in_global_holdout = false;
};

struct GovernorFacts {
  // The contact's marketing messages placed at or after now - kLookback (any order, any state).
  std::span<const GovernedMessage> recent;
  MailFrequency frequency = MailFrequency::kEverything;
  std::string_view timezone;  // the contact's; empty: the policy's
  Timestamp now{};
};

// A queued message that gives its place to the candidate, and what becomes of it.
struct Yielded {
  MessageId id = 0;
  GovernorVerdict verdict = GovernorVerdict::kDefer;  // kDefer or kSkip
  Timestamp until{};                                  // for kDefer
  std::string reason;
};

struct GovernorDecision {
  GovernorVerdict verdict = GovernorVerdict::kAllow;
  Timestamp at{};      // kAllow: now; kDefer: the next allowed moment; kSkip: unset
  std::string reason;  // a sentence for the message and the timeline; empty when allowed at once
  std::vector<Yielded> yielded;
};

GovernorDecision Decide(const GovernorPolicy& policy, const GovernorCandidate& candidate,
                        const GovernorFacts& facts);

}  // namespace rapport::campaign
