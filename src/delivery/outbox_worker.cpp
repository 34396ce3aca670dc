#include "delivery/outbox_worker.h"

#include <algorithm>
#include <future>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/thread_name.h"
#include "delivery/provider_groups.h"
#include "mail/dkim_keyring.h"

namespace rapport::delivery {

MessageSigner DkimMessageSigner(const mail::DkimKeyring& keyring) {
  return [&keyring](const OutboxMessage& m, Timestamp now) {
    return keyring.Sign(RecipientDomain(m.mail_from), m.mime, now);
  };
}

OutboxWorker::OutboxWorker(OutboxStore& store, const Clock& clock, RateLimiter& limiter,
                           Transport& transactional, Transport& marketing, MessageSigner signer,
                           OutboxWorkerOptions options)
    : store_(store),
      clock_(clock),
      limiter_(limiter),
      signer_(std::move(signer)),
      options_(std::move(options)),
      policy_(options_.retry),
      lanes_{{MessageClass::kTransactional, &transactional, {}, {}, {}, false},
             {MessageClass::kMarketing, &marketing, {}, {}, {}, false}} {}

OutboxWorker::~OutboxWorker() { Stop(); }

void OutboxWorker::SignPending(std::vector<Claimed>& messages, const std::function<void()>& meanwhile) {
  std::vector<Claimed*> todo;
  if (signer_) {
    for (Claimed& c : messages)
      if (!c.is_signed) todo.push_back(&c);
  }
  if (todo.empty()) {
    if (meanwhile) meanwhile();
    return;
  }
  // Threads take the next unsigned message as they go (not fixed halves): the transport and the
  // SMTP server share the cores, so equal shares would finish at different times and leave a
  // core idle at the end of every batch.
  std::atomic<size_t> next{0};
  auto sign_some = [&] {
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < todo.size();
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      Claimed& c = *todo[i];
      auto signed_mime = signer_(c.message, clock_.Now());
      if (signed_mime.ok())
        c.message.mime = std::move(signed_mime).value();
      else
        c.sign_error = "DKIM signing failed: " + signed_mime.error().message;
      c.is_signed = true;
    }
  };
  const size_t threads = std::clamp<size_t>(options_.sign_threads, 1, todo.size());
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(sign_some);
  if (meanwhile) meanwhile();
  sign_some();
  for (auto& h : helpers) h.join();
}

Result<RoundStats> OutboxWorker::RunOnce(MessageClass lane_class) {
  Lane& lane = LaneOf(lane_class);
  RoundStats stats;
  const Timestamp start = clock_.Now();

  // 1. Admit what the last rounds claimed and rate control held back (or a pipelined round
  //    claimed ahead), then claim only what the batch still lacks: a claim not overlapped with a
  //    send is on the critical path. Never hold more than one batch claimed and unsent (what a
  //    crash strands until the node starts again or the leases expire). Held messages keep
  //    their lease, renewed when half of it is used.
  std::vector<Claimed> batch;
  std::vector<std::string> domains;
  std::vector<MessageId> renew;
  std::vector<Claimed> candidates = std::move(lane.held);
  lane.held.clear();
  auto admit = [&](Claimed&& c) {
    OutboxMessage& m = c.message;
    if (static_cast<int>(batch.size()) < options_.batch_size) {
      std::string domain = RecipientDomain(m.rcpt_to);
      if (limiter_.Acquire(domain).granted) {
        domains.push_back(std::move(domain));
        batch.push_back(std::move(c));
        return;
      }
    }
    if (m.lease_until - start < options_.lease / 2) {
      renew.push_back(m.id);
      m.lease_until = start + options_.lease;
    }
    lane.held.push_back(std::move(c));
  };
  for (Claimed& c : candidates) admit(std::move(c));
  const int missing = options_.batch_size - static_cast<int>(batch.size());
  const int room = options_.batch_size - static_cast<int>(lane.held.size());
  if (missing > 0 && room > 0 && !stopping_) {
    auto claimed = store_.Claim(lane_class, std::min(room, missing), options_.owner, start, options_.lease);
    if (claimed.ok()) {
      stats.claimed = static_cast<int>(claimed->size());
      for (OutboxMessage& m : *claimed) admit(Claimed{std::move(m), false, {}});
    } else if (batch.empty()) {
      return std::move(claimed).error();
    } else {
      spdlog::warn("outbox: claiming failed (sending the {} messages at hand): {}", batch.size(),
                   claimed.error().message);
    }
  }
  stats.held = static_cast<int>(lane.held.size());
  if (!renew.empty()) {
    if (auto st = store_.Renew(renew, options_.owner, start + options_.lease); !st.ok()) {
      spdlog::warn("outbox: renewing held leases failed: {}", st.error().message);
    }
  }
  if (batch.empty()) {
    RAPPORT_TRY(Flush(lane));  // nothing to overlap with: record the previous round's outcomes now
    return stats;
  }

  // 2. Sign what a pipelined round has not signed ahead. A message that cannot be signed is not
  //    sent: it is deferred with the error.
  SignPending(batch);

  // 3. Send, renewing the leases while the transport works.
  std::vector<OutgoingMessage> sending;
  std::vector<MessageId> ids;
  sending.reserve(batch.size());
  for (Claimed& c : batch) {
    if (!c.sign_error.empty()) continue;
    OutgoingMessage& out = sending.emplace_back();
    out.envelope.mail_from =
        options_.envelope_sender ? options_.envelope_sender(c.message) : c.message.mail_from;
    out.envelope.rcpt_to = {c.message.rcpt_to};
    out.data = std::move(c.message.mime);  // not needed after this round
    out.message_id = c.message.id;
    ids.push_back(c.message.id);
  }
  std::vector<SendResult> results;
  if (!sending.empty()) {
    auto future = std::async(std::launch::async, [&] { return lane.transport->Send(sending); });
    if (options_.pipeline) {
      // While the transport works: claim the next batch, then sign it on the helper threads
      // while this one records the previous round's outcomes before it signs too, so the
      // store's and the signer's work overlap the network's and each other's (recording first
      // left a core idle while the transport and the server did not fill it). The previous
      // round's leases are still held: the claim cannot take those messages back. Only when
      // rate control holds nothing back: then the next round sends what is claimed now; if it
      // holds messages back, the next round is bound by the rate and a batch claimed ahead
      // would only wait (and be stranded by a crash).
      if (!stopping_ && lane.held.empty()) {
        auto next =
            store_.Claim(lane_class, options_.batch_size, options_.owner, clock_.Now(), options_.lease);
        if (next.ok()) {
          stats.claimed += static_cast<int>(next->size());
          for (auto& m : *next) lane.held.push_back(Claimed{std::move(m), false, {}});
        } else {
          spdlog::warn("outbox: claiming ahead failed: {}", next.error().message);
        }
      }
      SignPending(lane.held, [&] {
        if (auto st = Flush(lane); !st.ok()) spdlog::warn("outbox: {}", st.error().message);
      });
    }
    auto period = std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease / 3);
    if (period.count() < 1) period = std::chrono::milliseconds(1);
    while (future.wait_for(period) != std::future_status::ready) {
      if (auto st = store_.Renew(ids, options_.owner, clock_.Now() + options_.lease); !st.ok()) {
        spdlog::warn("outbox: renewing leases during a send failed: {}", st.error().message);
      }
    }
    results = future.get();
  }

  // 4. Complete every message of the batch: recorded now, or (pipelined) during the next round's
  //    send; either way before the messages' leases could expire in a live process.
  size_t next_result = 0;
  FailureCounts round_failures;
  for (size_t i = 0; i < batch.size(); ++i) {
    const OutboxMessage& m = batch[i].message;
    OutboxCompletion& completion = lane.pending.emplace_back();
    DeliveryAttempt& attempt = completion.attempt;
    completion.id = m.id;
    attempt.message_id = m.id;
    attempt.attempt = m.attempts + 1;
    attempt.at = clock_.Now();
    SmtpStep step = SmtpStep::kUnknown;
    if (!batch[i].sign_error.empty()) {
      attempt.reply = batch[i].sign_error;
      attempt.remote = "dkim";
    } else {
      const SendResult& r = results[next_result++];
      const RecipientOutcome* o = r.recipients.empty() ? nullptr : &r.recipients.front();
      attempt.smtp_code = o ? o->code : 0;
      attempt.enhanced_code = o ? o->enhanced_code : "";
      attempt.reply = o ? o->text : "transport returned no outcome";
      attempt.remote = r.remote;
      step = o ? o->step : SmtpStep::kUnknown;
      if (step != SmtpStep::kUnknown) attempt.smtp_step = std::string(SmtpStepName(step));
    }
    limiter_.Release(domains[i], attempt.smtp_code);
    RetryDecision d = policy_.Decide({attempt.smtp_code, attempt.enhanced_code, attempt.attempt, m.created_at,
                                      attempt.at, static_cast<uint64_t>(m.id), attempt.reply, step});
    attempt.outcome = d.outcome;
    attempt.failure = d.failure;
    completion.next_attempt_at = d.next_attempt_at;
    switch (d.outcome) {
      case MessageState::kSent: ++stats.sent; break;
      case MessageState::kDeferred: ++stats.deferred; break;
      case MessageState::kBounced: ++stats.bounced; break;
      default: ++stats.failed; break;
    }
    if (d.failure != DeliveryFailure::kNone) ++round_failures[{ProviderGroup(domains[i]), d.failure}];
  }
  if (!round_failures.empty()) {
    std::lock_guard lock(failures_mu_);
    for (const auto& [key, n] : round_failures) failures_[key] += n;
  }
  stats.failures = std::move(round_failures);
  if (!options_.pipeline) RAPPORT_TRY(Flush(lane));
  return stats;
}

Status OutboxWorker::Flush(Lane& lane) {
  if (lane.pending.empty()) return {};
  std::vector<OutboxCompletion> pending = std::move(lane.pending);
  lane.pending.clear();
  auto completed = store_.CompleteBatch(pending, options_.owner);
  if (!completed.ok()) {
    // Nothing was recorded: the leases expire and the messages are sent again (at least once).
    return Error{
        completed.error().code,
        "recording " + std::to_string(pending.size()) + " outcomes failed: " + completed.error().message,
        completed.error().field};
  }
  std::vector<MessageId> gone;
  for (size_t i = 0; i < completed->size(); ++i) {
    const Status& st = (*completed)[i];
    if (st.ok()) continue;
    if (st.error().code == ErrorCode::kNotFound) {
      gone.push_back(pending[i].id);  // erased while it was being sent: its copy goes too
    } else {
      spdlog::warn("outbox: completing message {}: {}", pending[i].id, st.error().message);
    }
  }
  if (!gone.empty()) {
    if (auto st = lane.transport->EraseCopies(gone); !st.ok())
      spdlog::warn("outbox: erasing the copies of {} erased messages: {}", gone.size(), st.error().message);
  }
  return {};
}

Status OutboxWorker::Flush(MessageClass lane) { return Flush(LaneOf(lane)); }

FailureCounts OutboxWorker::Failures() const {
  std::lock_guard lock(failures_mu_);
  return failures_;
}

void OutboxWorker::Loop(Lane& lane) {
  while (!stopping_) {
    auto r = RunOnce(lane.lane);
    bool idle = !r.ok() || r->Completed() == 0;
    if (!r.ok()) {
      spdlog::warn("outbox: {} lane round failed: {}", MessageClassName(lane.lane), r.error().message);
    }
    if (idle) {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, options_.idle_poll, [&] { return stopping_.load() || lane.wake_pending; });
      lane.wake_pending = false;
    }
  }
}

void OutboxWorker::Wake(MessageClass lane) {
  {
    std::lock_guard lock(wake_mu_);
    LaneOf(lane).wake_pending = true;
  }
  wake_.notify_all();
}

void OutboxWorker::Start() {
  stopping_ = false;
  for (auto& lane : lanes_) {
    if (!lane.thread.joinable())
      lane.thread = std::thread([this, &lane] {
        NameThisThread("outbox");
        Loop(lane);
      });
  }
}

Status OutboxWorker::ReleaseHeld() {
  Status result;
  Timestamp now = clock_.Now();
  for (auto& lane : lanes_) {
    if (lane.held.empty()) continue;
    std::vector<MessageId> ids;
    for (const auto& c : lane.held) ids.push_back(c.message.id);
    Status st = store_.Renew(ids, options_.owner, now - Micros(1));
    if (!st.ok() && result.ok()) result = st;
    lane.held.clear();
  }
  return result;
}

void OutboxWorker::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& lane : lanes_) {
    if (lane.thread.joinable()) lane.thread.join();
    if (auto st = Flush(lane); !st.ok()) spdlog::warn("outbox: {}", st.error().message);
  }
  if (auto st = ReleaseHeld(); !st.ok()) {
    spdlog::warn("outbox: releasing held messages failed: {}", st.error().message);
  }
}

}  // namespace rapport::delivery
