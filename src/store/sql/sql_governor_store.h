// The frequency governor's facet (core/governance.h) over SQL: the policy documents
// (governor_policies) and the governed columns of outbox_messages (governed_at, gov_source,
// gov_priority, gov_skip; migration v16, indexed on (contact_id, governed_at)).
#pragma once

#include <optional>

#include "core/clock.h"
#include "core/governance.h"
#include "store/sql/database.h"

namespace rapport::sql {

// Appends "message.governed" for message `m` (its id, contact, template, class and topic set)
// inside the caller's transaction: decision, reason, source, priority and, when deferred, until.
Status RecordGovernedIn(Session& s, const OutboxMessage& m, const MessageGovernance& g,
                        std::optional<Timestamp> until, Timestamp at);

class SqlGovernorStore final : public GovernorStore {
 public:
  SqlGovernorStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<std::optional<std::string>> Policy(WorkspaceId ws) override;
  Status SetPolicy(WorkspaceId ws, std::string_view policy_json) override;
  Result<std::vector<GovernedMessage>> Recent(WorkspaceId ws, std::span<const ContactId> contacts,
                                              Timestamp since) override;
  Status Yield(WorkspaceId ws, MessageId id, const MessageGovernance& governance, Timestamp until) override;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
