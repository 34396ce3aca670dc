#include "tracking/erasure.h"

namespace rapport::tracking {

Status EraseContact(Store& store, DeliveredCopies* copies, WorkspaceId ws, ContactId id) {
  RAPPORT_ASSIGN_OR_RETURN(ErasedContact erased, store.contacts().Erase(ws, id));
  if (copies == nullptr || erased.message_ids.empty()) return {};
  Status st = copies->EraseCopies(erased.message_ids);
  if (!st.ok()) {
    return Error{st.error().code,
                 "the contact is erased from the store, but copies of its " +
                     std::to_string(erased.message_ids.size()) +
                     " messages could not all be removed (erase it again to retry): " + st.error().message,
                 st.error().field};
  }
  return {};
}

}  // namespace rapport::tracking
