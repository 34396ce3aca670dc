// The senders facet (core/sender.h) over SQL: table `senders` (migration v15).
#pragma once

#include "core/clock.h"
#include "core/sender.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlSenderStore final : public SenderStore {
 public:
  SqlSenderStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<SenderIdentity> Create(const SenderIdentity& sender) override;
  Result<SenderIdentity> Get(WorkspaceId ws, SenderId id) override;
  Result<SenderIdentity> GetByEmail(WorkspaceId ws, std::string_view email) override;
  Result<std::optional<SenderIdentity>> GetDefault(WorkspaceId ws) override;
  Result<std::vector<SenderIdentity>> List(WorkspaceId ws) override;
  Result<SenderIdentity> Update(const SenderIdentity& sender) override;
  Status Delete(WorkspaceId ws, SenderId id) override;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
