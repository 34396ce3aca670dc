#include "analytics/event_facts.h"

namespace rapport::analytics {

EventKind KindOf(std::string_view n) {
  // Most frequent first: the send pipeline's message events, then tracking hits.
  if (n.size() >= 8 && Is(n.substr(0, 8), "message.")) {
    std::string_view s = n.substr(8);
    if (Is(s, "queued")) return EventKind::kMessageQueued;
    if (Is(s, "sent")) return EventKind::kMessageSent;
    if (Is(s, "deferred")) return EventKind::kMessageDeferred;
    if (Is(s, "bounced")) return EventKind::kMessageBounced;
    if (Is(s, "soft_bounced")) return EventKind::kMessageSoftBounced;
    if (Is(s, "suppressed")) return EventKind::kMessageSuppressed;
    if (Is(s, "blocked")) return EventKind::kMessageBlocked;
    if (Is(s, "failed")) return EventKind::kMessageFailed;
    if (Is(s, "complained")) return EventKind::kMessageComplained;
    return EventKind::kMessageOther;
  }
  if (Is(n, "email_opened")) return EventKind::kOpened;
  if (Is(n, "email_clicked")) return EventKind::kClicked;
  if (n.size() >= 8 && Is(n.substr(0, 8), "contact.")) {
    std::string_view s = n.substr(8);
    if (Is(s, "updated")) return EventKind::kContactUpdated;
    if (Is(s, "created")) return EventKind::kContactCreated;
    if (Is(s, "status_changed")) return EventKind::kStatusChanged;
    if (Is(s, "merged")) return EventKind::kContactMerged;
    if (Is(s, "erased")) return EventKind::kContactErased;
    return EventKind::kOther;
  }
  if (Is(n, "topic.unsubscribed")) return EventKind::kTopicUnsubscribed;
  if (Is(n, "lifecycle_changed") || Is(n, "engagement_changed") || Is(n, "clv_changed"))
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
    if (Is(k, "message_id")) {
      const json::value& v = kv.value();
      if (v.is_int64()) {
        f.has_message_id = true;
        f.message_id = v.get_int64();
      } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
        f.has_message_id = true;
        f.message_id = static_cast<int64_t>(v.get_uint64());
      }
      if (++found == 2) break;
    } else if (Is(k, "machine")) {
      f.machine = kv.value().is_bool() && kv.value().get_bool();
      if (++found == 2) break;
    }
  }
  return f;
}

}  // namespace rapport::analytics
