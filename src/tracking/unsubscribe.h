// The unsubscribe rule, for the signed link's page and RFC 8058 one-click alike: an active contact
// becomes unsubscribed (no more marketing mail; order and account mail still arrive). The status
// change and its "contact.status_changed" event (origin {"via": "unsubscribe_link", "method"})
// commit in one store transaction. A contact that is already unsubscribed, bounced, complained or
// erased keeps its status and nothing is written. Errors: the store's (kNotFound for an unknown
// contact). Thread-safe (the store is).
#pragma once

#include "core/store.h"

namespace rapport::tracking {

enum class UnsubscribeMethod { kOneClick, kPage };

struct UnsubscribeOutcome {
  Contact contact;       // as it is now
  bool changed = false;  // this call unsubscribed it
};

// `who` (optional): the request's truncated address and user agent, recorded in the origin and so
// in the consent ledger's withdrawal (core/consent.h). `message_id` (0: unknown): the message whose
// link was used, recorded in the origin (`message_id`), so reports credit the unsubscribe to it.
Result<UnsubscribeOutcome> Unsubscribe(ContactStore& contacts, WorkspaceId ws, ContactId id,
                                       UnsubscribeMethod method, const Consent* who = nullptr,
                                       int64_t message_id = 0);

}  // namespace rapport::tracking
