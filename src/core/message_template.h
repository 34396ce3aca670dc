// Stored message templates: a name, and a subject, preheader, HTML part and text part, each
// Liquid source, plus named snippets that {% render %} and {% include %} find.
// The store keeps the source; compose/ compiles it. Thread-safe like every store facet.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model.h"

namespace rapport {

using TemplateId = int64_t;

inline constexpr size_t kMaxTemplatePartBytes = 512 * 1024;
inline constexpr size_t kMaxSnippets = 100;

struct MessageTemplate {
  TemplateId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;  // unique per workspace: [a-z0-9][a-z0-9_-]{0,63}
  std::string subject;
  std::string preheader;                                     // may be empty
  std::string html;                                          // may be empty when text is given
  std::string text;                                          // empty: derived from the HTML at send time
  std::map<std::string, std::string, std::less<>> snippets;  // name -> Liquid source
  Timestamp created_at{};
  Timestamp updated_at{};
  bool tracking = true;  // false: no open pixel and no tracked links in mail from this template
};

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;
  virtual Result<MessageTemplate> Create(const MessageTemplate& tpl) = 0;  // kConflict on name
  virtual Result<MessageTemplate> Get(WorkspaceId ws, TemplateId id) = 0;
  virtual Result<MessageTemplate> GetByName(WorkspaceId ws, std::string_view name) = 0;
  virtual Result<std::vector<MessageTemplate>> List(WorkspaceId ws) = 0;  // by name
  // Replaces every part; kNotFound, or kConflict when the new name is taken.
  virtual Result<MessageTemplate> Update(const MessageTemplate& tpl) = 0;
  virtual Status Delete(WorkspaceId ws, TemplateId id) = 0;
};

}  // namespace rapport
