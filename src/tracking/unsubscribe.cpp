#include "tracking/unsubscribe.h"

namespace rapport::tracking {

Result<UnsubscribeOutcome> Unsubscribe(ContactStore& contacts, WorkspaceId ws, ContactId id,
                                       UnsubscribeMethod method, const Consent* who, int64_t message_id) {
  RAPPORT_ASSIGN_OR_RETURN(Contact contact, contacts.Get(ws, id));
  if (contact.status != ContactStatus::kActive) return UnsubscribeOutcome{std::move(contact), false};
  ContactInput patch;
  patch.status = ContactStatus::kUnsubscribed;
  json::object origin{{"via", "unsubscribe_link"},
                      {"method", method == UnsubscribeMethod::kOneClick ? "one-click" : "page"}};
  if (who) {
    origin["ip"] = who->ip;
    origin["user_agent"] = who->user_agent;
  }
  if (message_id > 0) origin["message_id"] = message_id;
  RAPPORT_ASSIGN_OR_RETURN(Contact updated, contacts.Update(ws, id, patch, origin));
  return UnsubscribeOutcome{std::move(updated), true};
}

}  // namespace rapport::tracking
