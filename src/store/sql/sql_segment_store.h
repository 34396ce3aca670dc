// The saved segments facet (core/saved_segment.h) over SQL: table `segments` (migration v8).
#pragma once

#include "core/clock.h"
#include "core/saved_segment.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlSegmentStore final : public SegmentStore {
 public:
  SqlSegmentStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<SavedSegment> Create(const SavedSegment& segment) override;
  Result<SavedSegment> Get(WorkspaceId ws, SegmentId id) override;
  Result<SavedSegment> GetByName(WorkspaceId ws, std::string_view name) override;
  Result<std::vector<SavedSegment>> List(WorkspaceId ws) override;
  Result<std::vector<SavedSegment>> ListAll() override;
  Result<SavedSegment> Update(const SavedSegment& segment) override;
  Status Delete(WorkspaceId ws, SegmentId id) override;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
