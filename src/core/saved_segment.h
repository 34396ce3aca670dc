// Saved segments: a named segment expression (docs/segments.md) of a workspace. The store keeps
// the text; segment/ parses, checks and evaluates it. Thread-safe like every store facet.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace rapport {

using SegmentId = int64_t;

inline constexpr size_t kMaxSegmentExpressionBytes = 64 * 1024;
inline constexpr size_t kMaxSegmentDescriptionBytes = 4096;

struct SavedSegment {
  SegmentId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;  // unique per workspace: [a-z0-9][a-z0-9_-]{0,63}
  std::string description;
  std::string expression;
  Timestamp created_at{};
  Timestamp updated_at{};
};

class SegmentStore {
 public:
  virtual ~SegmentStore() = default;
  // kConflict (field "name") when the name is taken; kInvalid for a bad name or sizes.
  virtual Result<SavedSegment> Create(const SavedSegment& segment) = 0;
  virtual Result<SavedSegment> Get(WorkspaceId ws, SegmentId id) = 0;
  virtual Result<SavedSegment> GetByName(WorkspaceId ws, std::string_view name) = 0;
  virtual Result<std::vector<SavedSegment>> List(WorkspaceId ws) = 0;  // by name
  // Every workspace's segments, by id (the segment engine loads them at start).
  virtual Result<std::vector<SavedSegment>> ListAll() = 0;
  // Replaces name, description and expression; kNotFound, or kConflict when the name is taken.
  virtual Result<SavedSegment> Update(const SavedSegment& segment) = 0;
  virtual Status Delete(WorkspaceId ws, SegmentId id) = 0;
};

}  // namespace rapport
