// EventFacts: what the analytics folds need of one event, read once (pure).
//
// The consumer hands every event of the feed to two folds (ReportBook, SendTimeBook). Both
// dispatch on the event's name and read the same few properties (`message_id`, `machine`); a
// name compared against a chain of strings and a property looked up by a scan of the JSON object
// per fold and per use was a large part of the fold's cost. ReadFacts classifies the name once
// and reads those properties in one pass over the object; the folds take the result.
//
// No allocation, no I/O. The facts borrow nothing from the event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/model.h"

namespace rapport::analytics {

enum class EventKind : uint8_t {
  kOther,      // no fold reads it by kind (goal and engagement events are matched by name)
  kOwnOutput,  // lifecycle_changed, engagement_changed, clv_changed: the consumer's own output
  kContactCreated,
  kContactUpdated,
  kContactErased,
  kContactMerged,
  kStatusChanged,      // contact.status_changed
  kTopicUnsubscribed,  // topic.unsubscribed
  kOpened,             // email_opened
  kClicked,            // email_clicked
  kMessageQueued,
  kMessageSuppressed,
  kMessageSent,
  kMessageDeferred,
  kMessageBounced,
  kMessageSoftBounced,
  kMessageBlocked,
  kMessageFailed,
  kMessageComplained,
  kMessageOther,  // any other message.* event
};

inline bool IsMessageKind(EventKind k) {
  return k >= EventKind::kMessageQueued && k <= EventKind::kMessageOther;
}

struct EventFacts {
  EventKind kind = EventKind::kOther;
  bool machine = false;         // properties.machine is true (a machine open or click)
  bool has_message_id = false;  // properties.message_id is an integer that fits int64
  int64_t message_id = 0;
};

// Whether `s` is the literal: the size first, then a compare of a size known at compile time,
// which the compiler does inline (std::string_view's == calls memcmp with the size unknown: on
// the fold's hot path those calls, several an event, were a tenth of its time at 1M contacts).
template <size_t N>
inline bool Is(std::string_view s, const char (&literal)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), literal, N - 1) == 0;
}

EventKind KindOf(std::string_view name);
EventFacts ReadFacts(const Event& e);

}  // namespace rapport::analytics
