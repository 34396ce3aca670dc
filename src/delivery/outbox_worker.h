// The outbox worker: moves due messages from the OutboxStore through DKIM signing, rate control
// and a Transport, and records every outcome back in the store.
//
// Each lane (transactional, marketing) is served by its own loop and its own Transport, so a
// transactional message never waits behind a marketing batch. One round of a lane (RunOnce):
// admit the messages already claimed through the RateLimiter (per recipient domain; the ones it
// holds back stay claimed, their leases renewed, and go in a later round), claim with a lease
// only what the batch still lacks, sign each with the injected signer, send the batch, then
// record every attempt (one CompleteBatch transaction): kSent only after the server accepted it;
// otherwise the RetryPolicy decides deferred (next_attempt_at), bounced (the recipient's address
// does not exist) or failed, and the attempt carries the reply's DeliveryFailure class, which
// the worker also counts per mailbox provider (Failures()). While a batch
// is being sent, its leases are renewed every lease/3, and (pipeline) the previous batch's
// outcomes are recorded and the next batch claimed and signed (only when rate control holds
// nothing back). At most one batch beyond the one on the wire is claimed and unsent at any time
// (held back by rate control or claimed ahead): that is all a crash can strand, and a node that
// starts again releases it at once (OutboxStore::ReleaseNode). Stop() lets the in-flight batch
// finish and be recorded, then releases held messages (their lease is set to expire now, so any
// worker may claim them at once).
//
// Thread-safety: RunOnce() may be called for different lanes from different threads (what
// Start() does); not twice at once for the same lane. Store failures are returned by RunOnce
// (and logged-and-retried by the Start() loops); the worker never throws.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/outbox.h"
#include "delivery/rate_limiter.h"
#include "delivery/retry_policy.h"
#include "delivery/transport.h"

namespace rapport::mail {
class DkimKeyring;
}

namespace rapport::delivery {

// Returns the message bytes to send (the MIME with its DKIM-Signature headers prepended).
using MessageSigner = std::function<Result<std::string>(const OutboxMessage& message, Timestamp now)>;

// A MessageSigner that signs each message with the keys of its envelope sender's domain (or the
// nearest parent domain with keys; unsigned when none) from `keyring`, which must outlive it.
MessageSigner DkimMessageSigner(const mail::DkimKeyring& keyring);

struct OutboxWorkerOptions {
  std::string owner = "worker";  // the lease owner: unique per process (LeaseOwner in core/outbox.h)
  int batch_size = 100;
  Micros lease = std::chrono::minutes(5);
  std::chrono::milliseconds idle_poll{500};  // Start() loops: sleep when a round did nothing
  // Threads that DKIM-sign a batch (each message is one RSA/Ed25519 signature); 1 = the lane's own.
  unsigned sign_threads = std::max(1u, std::thread::hardware_concurrency());
  // Pipeline the rounds: while a batch is being sent, record the previous batch's outcomes and
  // claim (and sign) the next batch. RunOnce then leaves its own outcomes pending until the next round (or
  // an idle round, or Stop()); a crash in between re-sends them (at least once, as always).
  bool pipeline = false;
  RetryPolicyOptions retry;
  // The envelope sender (MAIL FROM) of a message; unset: its stored mail_from. The composition
  // root sets the VERP form (tracking/verp_address.h), so an asynchronous bounce finds its message.
  std::function<std::string(const OutboxMessage&)> envelope_sender;
};

// Attempts that did not deliver, by mailbox provider (ProviderGroup of the recipient's domain)
// and DeliveryFailure: how many blocks, policy rejections, full mailboxes ... each provider gave.
using FailureCounts = std::map<std::pair<std::string, DeliveryFailure>, int64_t>;

struct RoundStats {
  int claimed = 0;
  int sent = 0;
  int deferred = 0;
  int bounced = 0;         // the recipient's address does not exist: the contact is marked bounced
  int failed = 0;          // failed for good otherwise (block, policy, content, size ...): contact untouched
  int held = 0;            // claimed but held back by rate control
  FailureCounts failures;  // this round's deferred, bounced and failed attempts
  int Completed() const { return sent + deferred + bounced + failed; }
};

class OutboxWorker {
 public:
  // All references must outlive the worker. `signer` may be empty (messages sent unsigned).
  OutboxWorker(OutboxStore& store, const Clock& clock, RateLimiter& limiter, Transport& transactional,
               Transport& marketing, MessageSigner signer, OutboxWorkerOptions options);
  ~OutboxWorker();  // Stop()

  Result<RoundStats> RunOnce(MessageClass lane);

  void Start();  // one thread per lane
  void Stop();   // see the header comment; idempotent
  // Ends the idle wait of the lane's Start() loop now (a message was queued). Cheap; any thread.
  void Wake(MessageClass lane);
  // Records the lane's outcomes that a pipelined round left pending (Stop() and idle rounds do).
  Status Flush(MessageClass lane);
  // Releases the messages held back by rate control (called by Stop()).
  Status ReleaseHeld();
  // Every attempt that did not deliver since the worker started, by provider and failure class
  // (a snapshot; any thread).
  FailureCounts Failures() const;

 private:
  // A claimed message on its way through the rounds.
  struct Claimed {
    OutboxMessage message;
    bool is_signed = false;  // message.mime carries its DKIM-Signature headers, or sign_error is set
    std::string sign_error;  // not empty: the message is not sent, it is deferred with this
  };
  struct Lane {
    MessageClass lane;
    Transport* transport;
    std::vector<Claimed> held;  // claimed, not yet sent (held back by rate control, or claimed ahead)
    std::thread thread;
    std::vector<OutboxCompletion> pending;  // outcomes decided, not yet recorded (pipeline)
    bool wake_pending = false;              // GUARDED_BY(wake_mu_)
  };
  Lane& LaneOf(MessageClass c) { return c == MessageClass::kTransactional ? lanes_[0] : lanes_[1]; }
  void Loop(Lane& lane);
  // Signs the messages not signed yet, spread over sign_threads (each signature is an RSA or
  // Ed25519 operation); without a signer there is nothing to sign. `meanwhile`, if given, runs on
  // this thread once the helper threads are signing, before this thread signs too.
  void SignPending(std::vector<Claimed>& messages, const std::function<void()>& meanwhile = {});
  Status Flush(Lane& lane);

  OutboxStore& store_;
  const Clock& clock_;
  RateLimiter& limiter_;
  MessageSigner signer_;
  OutboxWorkerOptions options_;
  RetryPolicy policy_;
  Lane lanes_[2];
  std::atomic<bool> stopping_{false};
  mutable std::mutex failures_mu_;
  FailureCounts failures_;  // GUARDED_BY(failures_mu_)
  std::mutex wake_mu_;
  std::condition_variable wake_;
};

}  // namespace rapport::delivery
