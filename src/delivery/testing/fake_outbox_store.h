// An in-memory OutboxStore for engine tests of the outbox worker (header-only, tests only).
// Follows the contract of core/outbox.h for Claim/Complete/Renew/ReleaseNode; thread-safe with one mutex.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include "core/outbox.h"

namespace rapport::delivery::testing {

class FakeOutboxStore final : public OutboxStore {
 public:
  // The fake hands out every due message: suppression is the real stores' job (contract-tested).
  void UseMailRule(const MailRule&) override {}
  Result<EnqueueResult> Enqueue(const OutboxMessage& message) override {
    std::lock_guard lock(mu_);
    OutboxMessage m = message;
    m.id = next_id_++;
    messages_[m.id] = m;
    return EnqueueResult{m, true};
  }
  Result<std::vector<Result<EnqueueResult>>> EnqueueBatch(std::span<const OutboxMessage> batch) override {
    std::vector<Result<EnqueueResult>> out;
    for (const OutboxMessage& m : batch) out.emplace_back(Enqueue(m));
    return out;
  }
  Result<std::vector<OutboxMessage>> Claim(MessageClass lane, int max, std::string_view owner, Timestamp now,
                                           Micros lease) override {
    std::lock_guard lock(mu_);
    ++claims_;
    std::vector<OutboxMessage> out;
    for (auto& [id, m] : messages_) {
      if (static_cast<int>(out.size()) >= max) break;
      if (m.message_class != lane) continue;
      bool due = ((m.state == MessageState::kQueued || m.state == MessageState::kDeferred) &&
                  m.next_attempt_at <= now) ||
                 (m.state == MessageState::kSending && m.lease_until <= now);
      if (!due) continue;
      m.state = MessageState::kSending;
      m.lease_owner = std::string(owner);
      m.lease_until = now + lease;
      out.push_back(m);
    }
    return out;
  }
  Status Complete(MessageId id, std::string_view owner, const DeliveryAttempt& attempt,
                  Timestamp next_attempt_at) override {
    std::lock_guard lock(mu_);
    auto it = messages_.find(id);
    if (it == messages_.end()) return Error::NotFound("message");
    OutboxMessage& m = it->second;
    if (m.state != MessageState::kSending || m.lease_owner != owner) return Error::Conflict("lease lost");
    if (attempt.outcome == MessageState::kBounced && attempt.failure != DeliveryFailure::kRecipientAddress)
      return Error::Invalid("failure", "only a failure about the recipient's address bounces");
    m.state = attempt.outcome;
    m.attempts = attempt.attempt;
    m.next_attempt_at = next_attempt_at;
    m.last_reply = attempt.reply;
    m.lease_owner.clear();
    attempts_[id].push_back(attempt);
    return {};
  }
  Result<std::vector<Status>> CompleteBatch(std::span<const OutboxCompletion> batch,
                                            std::string_view owner) override {
    if (on_complete_batch) on_complete_batch();
    std::vector<Status> out;
    for (const OutboxCompletion& c : batch)
      out.push_back(Complete(c.id, owner, c.attempt, c.next_attempt_at));
    return out;
  }
  Status Renew(const std::vector<MessageId>& ids, std::string_view owner, Timestamp lease_until) override {
    std::lock_guard lock(mu_);
    ++renews_;
    for (auto id : ids) {
      auto it = messages_.find(id);
      if (it != messages_.end() && it->second.state == MessageState::kSending &&
          it->second.lease_owner == owner) {
        it->second.lease_until = lease_until;
      }
    }
    return {};
  }
  Result<int64_t> ReleaseNode(std::string_view node_id, std::string_view current_owner, Timestamp) override {
    std::lock_guard lock(mu_);
    int64_t n = 0;
    for (auto& [id, m] : messages_) {
      if (m.state != MessageState::kSending || m.lease_owner == current_owner ||
          !LeaseOwnerOfNode(m.lease_owner, node_id))
        continue;
      m.state = ReleasedState(m.attempts);
      m.lease_owner.clear();
      m.lease_until = Timestamp{};
      ++n;
    }
    return n;
  }
  Status Cancel(WorkspaceId, MessageId id) override {
    std::lock_guard lock(mu_);
    messages_[id].state = MessageState::kCancelled;
    return {};
  }
  Result<OutboxMessage> Get(WorkspaceId, MessageId id) override {
    std::lock_guard lock(mu_);
    auto it = messages_.find(id);
    if (it == messages_.end()) return Error::NotFound("message");
    return it->second;
  }
  Result<std::optional<OutboxMessage>> FindByIdempotencyKey(WorkspaceId ws, std::string_view key) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : messages_)
      if (m.workspace_id == ws && m.idempotency_key && *m.idempotency_key == key)
        return std::optional<OutboxMessage>(m);
    return std::optional<OutboxMessage>();
  }
  Result<std::vector<DeliveryAttempt>> Attempts(WorkspaceId, MessageId id) override {
    std::lock_guard lock(mu_);
    return attempts_[id];
  }
  Result<Page<OutboxMessage>> ListForContact(WorkspaceId, ContactId, const OutboxQuery&) override {
    return Error::Internal("not used by the worker");
  }
  Result<int64_t> CountByState(MessageState state) override {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(std::count_if(messages_.begin(), messages_.end(),
                                              [&](const auto& kv) { return kv.second.state == state; }));
  }
  std::function<void()> on_complete_batch;  // called (unlocked) as CompleteBatch begins

  int claims() {
    std::lock_guard lock(mu_);
    return claims_;
  }
  int renews() {
    std::lock_guard lock(mu_);
    return renews_;
  }

 private:
  std::mutex mu_;
  MessageId next_id_ = 1;
  std::map<MessageId, OutboxMessage> messages_;
  std::map<MessageId, std::vector<DeliveryAttempt>> attempts_;
  int claims_ = 0;
  int renews_ = 0;
};

}  // namespace rapport::delivery::testing
