#include "tracking/unsubscribe.h"

namespace rapport::tracking {

Result<UnsubscribeOutcome> Unsubscribe(ContactStore& contacts, WorkspaceId ws, ContactId id,
                                       UnsubscribeMethod method) {
  RAPPORT_ASSIGN_OR_RETURN(Contact contact, contacts.Get(ws, id));
  if (contact.status != ContactStatus::kActive) return UnsubscribeOutcome{std::move(contact), false};
  ContactInput patch;
  patch.status = ContactStatus::kUnsubscribed;
  json::object origin{{"via", "unsubscribe_link"},
                      {"method", method == UnsubscribeMethod::kOneClick ? "one-click" : "page"}};
  RAPPORT_ASSIGN_OR_RETURN(Contact updated, contacts.Update(ws, id, patch, origin));
  return UnsubscribeOutcome{std::move(updated), true};
}

}  // namespace rapport::tracking
