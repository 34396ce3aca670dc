// The frequency governor's record on a marketing message, and what the governor reads back about
// a contact's recent marketing mail (docs/governor.md). The policy engine is campaign/governor.h;
// the send service (send/send_service.h) applies it; this file holds the values the store keeps
// and the store facet that keeps them (migration v16).
// Thread-safety: values; the store facet is thread-safe like every facet (core/store.h).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "core/outbox.h"

namespace rapport {

// One marketing message of a contact as the governor sees it. `at` is the moment the governor
// placed it (when it was, or will be, sent: next_attempt_at when it was queued; created_at for
// messages queued before v16). Every state counts against the caps except kSuppressed and
// kCancelled; only a kQueued one may yield its place to a higher-priority message.
struct GovernedMessage {
  MessageId id = 0;
  ContactId contact_id = 0;
  MessageState state = MessageState::kQueued;
  Timestamp at{};
  std::optional<std::string> topic;
  int priority = 0;
  bool skip_on_cap = false;
  std::string source;
};

// The store facet: the workspace's policy (JSON text, parsed by campaign/governor.h) and the
// facts. Errors as in core/store.h.
class GovernorStore {
 public:
  virtual ~GovernorStore() = default;
  // The workspace's policy document; nullopt when it never set one.
  virtual Result<std::optional<std::string>> Policy(WorkspaceId ws) = 0;
  // Replaces the workspace's policy document (already validated by the caller).
  virtual Status SetPolicy(WorkspaceId ws, std::string_view policy_json) = 0;
  // The marketing messages of `contacts` (any number: read in chunks on an index of
  // (contact_id, governed_at)) placed at or after `since`, in every state, ordered by contact
  // then moment.
  virtual Result<std::vector<GovernedMessage>> Recent(WorkspaceId ws, std::span<const ContactId> contacts,
                                                      Timestamp since) = 0;
  // A queued message yields its place to a higher-priority one: kDefer moves it to `until`
  // (state stays queued), kSkip suppresses it; last_reply = reason and a "message.governed"
  // event, in one transaction. kConflict (field "message_id") unless it is still kQueued and
  // unleased; kNotFound for an unknown message.
  virtual Status Yield(WorkspaceId ws, MessageId id, const MessageGovernance& governance,
                       Timestamp until) = 0;
};

}  // namespace rapport
