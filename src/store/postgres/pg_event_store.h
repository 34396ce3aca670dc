// The PostgreSQL event facet: Append works on the whole batch with set-based statements
// (a handful of round trips per batch instead of several per event): existing idempotency keys
// in one query, contacts resolved with one query and created with one INSERT ... ON CONFLICT,
// event ids drawn from the sequence at once, keys claimed with one INSERT ... ON CONFLICT DO
// NOTHING RETURNING, attribute merges read (locked) and written once per contact, and the events,
// each after the change events it caused, written with one INSERT ... SELECT FROM
// json_to_recordset, their feed positions reserved with one counter update just before it.
// Results match the row-by-row SqlEventStore::Append (the contract suite runs both), except that
// a contact named only by an in-batch duplicate may still be created.
// Thread-safety and failure: as sql::SqlEventStore.
#pragma once

#include "store/sql/sql_store.h"

namespace rapport::postgres {

class PgEventStore final : public sql::SqlEventStore {
 public:
  using SqlEventStore::SqlEventStore;

 protected:
  Result<std::vector<AppendResult>> AppendWith(WorkspaceId ws, const std::vector<NewEvent>& events,
                                               Timestamp received_at, const PositionCommit* commit) override;
};

}  // namespace rapport::postgres
