// GDPR erasure of one contact, the one use case behind `DELETE /api/v1/contacts/{id}` and
// `rapport contacts erase`.
//
// The contact's personal data leaves every table and every file of the store
// (ContactStore::Erase: rows deleted or emptied, a keyed hash of the address kept on the erasure
// list, the deleted content zeroed and the SQLite WAL truncated before it returns), then every
// copy of its messages that rapport kept after delivering them (DeliveredCopies: the maildir
// transport's files). A message being sent while the contact is erased has its copy erased by
// the outbox worker when it finds the message gone (delivery/outbox_worker.cpp).
//
// Erasing again is harmless and retries the copies: the tombstone keeps the message ids (not
// personal data), so a failure to remove a file is reported and can be mended by calling again.
#pragma once

#include "core/error.h"
#include "core/outbox.h"
#include "core/store.h"

namespace rapport::tracking {

// `copies` may be null (a store without transports: nothing kept outside it).
Status EraseContact(Store& store, DeliveredCopies* copies, WorkspaceId ws, ContactId id);

}  // namespace rapport::tracking
