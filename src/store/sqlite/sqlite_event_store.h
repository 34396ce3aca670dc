// The SQLite event facet: Append works on the whole batch rather than event by event.
//
// Outside the write lock it checks each event and serializes its properties (so two request
// threads overlap that work with the other's transaction). Inside one BEGIN IMMEDIATE
// transaction it looks up the batch's idempotency keys and its distinct contacts with a few
// multi-value IN queries (emails by their identity key), creates the contacts that are missing one
// by one (in request order), takes event ids after the highest ever given (sqlite_sequence: the
// table is AUTOINCREMENT, so erased ids never come back; the writer holds the database's only
// write lock, so they are the ids SQLite would assign and the feed's positions), and writes events
// and keys with multi-row INSERTs. Each event comes after the change events it caused (its
// contact's "contact.created", its attribute merge's "contact.updated").
//
// Results equal the row-by-row sql::SqlEventStore::Append's, item for item (the same outcomes,
// ids, errors and messages; duplicates within the batch point at the first occurrence; a failed
// item creates no contact); src/store/sqlite/sqlite_event_store_test.cpp checks it against the
// row-by-row Append on random batches. Thread-safety and failure: as sql::SqlEventStore.
#pragma once

#include "store/sql/sql_store.h"

namespace rapport::sqlite {

class SqliteEventStore final : public sql::SqlEventStore {
 public:
  using SqlEventStore::SqlEventStore;

 protected:
  Result<std::vector<AppendResult>> AppendWith(WorkspaceId ws, const std::vector<NewEvent>& events,
                                               Timestamp received_at, const PositionCommit* commit) override;
};

}  // namespace rapport::sqlite
