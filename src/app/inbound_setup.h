// The inbound side of the composition root: the maildir an MTA delivers bounces and complaints
// into ([inbound] maildir), scanned every [inbound] poll by one thread that feeds each message to
// the feedback intake (tracking/feedback_intake.h). Started after the store is migrated, stopped
// (joined) before the store closes. The inbound SMTP listener ([inbound] listen) feeds the same
// intake. Both count each recorded report in the API's feedback_reports_total (http/metrics.h),
// as POST /api/v1/feedback does, when given the Metrics; it must outlive them.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "app/config.h"
#include "core/clock.h"
#include "core/store.h"
#include "delivery/inbound/maildir_inbox.h"
#include "delivery/inbound/smtp_listener.h"
#include "tracking/feedback_intake.h"
#include "tracking/verp_address.h"

namespace rapport::http {
class Metrics;
}

namespace rapport::app {

// The bounce policy of the configuration.
BouncePolicy BouncePolicyFrom(const Config& config);

class InboundMaildirPoller {
 public:
  // nullptr when [inbound] maildir is not set. kUnavailable when the maildir cannot be created.
  // `metrics` (may be null) counts the reports recorded.
  static Result<std::unique_ptr<InboundMaildirPoller>> Create(const Config& config, Store& store,
                                                              const Clock& clock,
                                                              http::Metrics* metrics = nullptr);
  ~InboundMaildirPoller();
  void Start();
  void Stop();  // idempotent; waits for the scan in progress
  // One scan now (tests, and the thread's loop).
  Result<delivery::InboxScan> ScanOnce();

 private:
  InboundMaildirPoller(const Config& config, Store& store, const Clock& clock, tracking::VerpCodec verp,
                       http::Metrics* metrics);
  delivery::MaildirInbox inbox_;
  std::chrono::seconds poll_;
  tracking::VerpCodec verp_;
  tracking::FeedbackIntake intake_;
  http::Metrics* metrics_;  // null: not counted
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// The inbound SMTP listener ([inbound] listen): each message it receives goes to the feedback
// intake with the RCPT TO it came for.
class InboundSmtp {
 public:
  // nullptr when [inbound] listen is not set; the listener is bound and accepting otherwise.
  // `metrics` (may be null) counts the reports recorded.
  static Result<std::unique_ptr<InboundSmtp>> Start(const Config& config, Store& store, const Clock& clock,
                                                    http::Metrics* metrics = nullptr);
  ~InboundSmtp() { Stop(); }
  void Stop() {
    if (listener_) listener_->Stop();
  }
  int port() const { return listener_->port(); }

 private:
  InboundSmtp(const Config& config, Store& store, const Clock& clock, tracking::VerpCodec verp);
  tracking::VerpCodec verp_;
  tracking::FeedbackIntake intake_;
  std::unique_ptr<delivery::SmtpListener> listener_;
};

}  // namespace rapport::app
