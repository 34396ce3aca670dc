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

#include <cstdint>
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

EventKind KindOf(std::string_view name);
EventFacts ReadFacts(const Event& e);

}  // namespace rapport::analytics
