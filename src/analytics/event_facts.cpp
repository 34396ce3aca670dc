#include "analytics/event_facts.h"

namespace rapport::analytics {

EventKind KindOf(std::string_view n) {
  // Most frequent first: the send pipeline's message events, then tracking hits.
  if (n.starts_with("message.")) {
    std::string_view s = n.substr(8);
    if (s == "queued") return EventKind::kMessageQueued;
    if (s == "sent") return EventKind::kMessageSent;
    if (s == "deferred") return EventKind::kMessageDeferred;
    if (s == "bounced") return EventKind::kMessageBounced;
    if (s == "soft_bounced") return EventKind::kMessageSoftBounced;
    if (s == "suppressed") return EventKind::kMessageSuppressed;
    if (s == "blocked") return EventKind::kMessageBlocked;
    if (s == "failed") return EventKind::kMessageFailed;
    if (s == "complained") return EventKind::kMessageComplained;
    return EventKind::kMessageOther;
  }
  if (n == "email_opened") return EventKind::kOpened;
  if (n == "email_clicked") return EventKind::kClicked;
  if (n.starts_with("contact.")) {
    std::string_view s = n.substr(8);
    if (s == "updated") return EventKind::kContactUpdated;
    if (s == "created") return EventKind::kContactCreated;
    if (s == "status_changed") return EventKind::kStatusChanged;
    if (s == "merged") return EventKind::kContactMerged;
    if (s == "erased") return EventKind::kContactErased;
    return EventKind::kOther;
  }
  if (n == "topic.unsubscribed") return EventKind::kTopicUnsubscribed;
  if (n == "lifecycle_changed" || n == "engagement_changed" || n == "clv_changed")
    return EventKind::kOwnOutput;
  return EventKind::kOther;
}

EventFacts ReadFacts(const Event& e) {
  EventFacts f;
  f.kind = KindOf(e.name);
  // One pass over the properties for the two the folds read on the hot path (a json::object's
  // keys are unique, so the first match is the one if_contains would find).
  int found = 0;
  for (const auto& kv : e.properties) {
    std::string_view k = kv.key();
    if (k == "message_id") {
      const json::value& v = kv.value();
      if (v.is_int64()) {
        f.has_message_id = true;
        f.message_id = v.get_int64();
      } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
        f.has_message_id = true;
        f.message_id = static_cast<int64_t>(v.get_uint64());
      }
      if (++found == 2) break;
    } else if (k == "machine") {
      f.machine = kv.value().is_bool() && kv.value().get_bool();
      if (++found == 2) break;
    }
  }
  return f;
}

}  // namespace rapport::analytics
