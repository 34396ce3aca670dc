// The outbox worker: moves due messages from the OutboxStore through DKIM signing, rate control
// and a Transport, and records every outcome back in the store.
//
// Each lane (transactional, marketing) is served by its own loop and its own Transport, so a
// transactional message never waits behind a marketing batch. One round of a lane (RunOnce):
// claim up to batch_size due messages with a lease, sign each with the injected signer, ask the
// RateLimiter per recipient domain (messages it holds back stay claimed, their leases renewed,
// and go in a later round), send the admitted ones as one batch, then Complete() each with the
// attempt (one CompleteBatch transaction): kSent only after the server accepted it; otherwise the RetryPolicy
// decides deferred (next_attempt_at), bounced or failed. While a batch is being sent, its leases are renewed
// every lease/3. Stop() lets the in-flight batch finish and be completed, then releases held
// messages (their lease is set to expire now, so any worker may claim them at once).
//
// Thread-safety: RunOnce() may be called for different lanes from different threads (what
// Start() does); not twice at once for the same lane. Store failures are returned by RunOnce
// (and logged-and-retried by the Start() loops); the worker never throws.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
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
class DkimSigner;
}

namespace rapport::delivery {

// Returns the message bytes to send (the MIME with its DKIM-Signature headers prepended).
using MessageSigner = std::function<Result<std::string>(const OutboxMessage& message, Timestamp now)>;

// A MessageSigner that signs with the mail module's DKIM signer (which must outlive it).
MessageSigner DkimMessageSigner(const mail::DkimSigner& signer);

struct OutboxWorkerOptions {
  std::string owner = "worker";  // the lease owner: unique per process/node
  int batch_size = 100;
  Micros lease = std::chrono::minutes(5);
  std::chrono::milliseconds idle_poll{500};  // Start() loops: sleep when a round did nothing
  // Threads that DKIM-sign a batch (each message is one RSA/Ed25519 signature); 1 = the lane's own.
  unsigned sign_threads = std::max(1u, std::thread::hardware_concurrency());
  // Pipeline the rounds: while a batch is being sent, record the previous batch's outcomes and
  // claim the next batch. RunOnce then leaves its own outcomes pending until the next round (or
  // an idle round, or Stop()); a crash in between re-sends them (at least once, as always).
  bool pipeline = false;
  RetryPolicyOptions retry;
};

struct RoundStats {
  int claimed = 0;
  int sent = 0;
  int deferred = 0;
  int bounced = 0;
  int failed = 0;
  int held = 0;  // claimed but held back by rate control
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

 private:
  struct Lane {
    MessageClass lane;
    Transport* transport;
    std::vector<OutboxMessage> held;
    std::thread thread;
    std::vector<OutboxCompletion> pending;  // outcomes decided, not yet recorded (pipeline)
    bool wake_pending = false;              // GUARDED_BY(wake_mu_)
  };
  Lane& LaneOf(MessageClass c) { return c == MessageClass::kTransactional ? lanes_[0] : lanes_[1]; }
  void Loop(Lane& lane);
  Status Flush(Lane& lane);

  OutboxStore& store_;
  const Clock& clock_;
  RateLimiter& limiter_;
  MessageSigner signer_;
  OutboxWorkerOptions options_;
  RetryPolicy policy_;
  Lane lanes_[2];
  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
};

}  // namespace rapport::delivery
