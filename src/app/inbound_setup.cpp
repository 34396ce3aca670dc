#include "app/inbound_setup.h"

#include <spdlog/spdlog.h>

#include "app/delivery_setup.h"
#include "core/thread_name.h"
#include "http/metrics.h"

namespace rapport::app {

namespace {

// A recorded report (not ignored, not a duplicate) in feedback_reports_total, as the API counts it.
void CountReport(http::Metrics* metrics, const tracking::IngestResult& r) {
  if (metrics && !r.ignored && !r.outcome.duplicate)
    metrics->AddFeedback(FeedbackKindName(r.kind), r.provider);
}

}  // namespace

BouncePolicy BouncePolicyFrom(const Config& config) {
  return BouncePolicy{config.inbound.soft_bounce_threshold, config.inbound.soft_bounce_window};
}

Result<std::unique_ptr<InboundMaildirPoller>> InboundMaildirPoller::Create(const Config& config, Store& store,
                                                                           const Clock& clock,
                                                                           http::Metrics* metrics) {
  if (config.inbound.maildir.empty()) return std::unique_ptr<InboundMaildirPoller>();
  RAPPORT_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateLinkSecret(config));
  RAPPORT_ASSIGN_OR_RETURN(tracking::VerpCodec verp, tracking::VerpCodec::Create(secret));
  std::unique_ptr<InboundMaildirPoller> p(
      new InboundMaildirPoller(config, store, clock, std::move(verp), metrics));
  RAPPORT_TRY(p->inbox_.EnsureDirectories());
  return p;
}

InboundMaildirPoller::InboundMaildirPoller(const Config& config, Store& store, const Clock& clock,
                                           tracking::VerpCodec verp, http::Metrics* metrics)
    : inbox_(config.inbound.maildir),
      poll_(config.inbound.poll),
      verp_(std::move(verp)),
      intake_(store, verp_, BouncePolicyFrom(config), clock),
      metrics_(metrics) {}

InboundMaildirPoller::~InboundMaildirPoller() { Stop(); }

Result<delivery::InboxScan> InboundMaildirPoller::ScanOnce() {
  return inbox_.Scan([this](std::string_view raw) -> Status {
    auto r = intake_.IngestMessage(raw);
    if (!r.ok()) return r.error();
    CountReport(metrics_, *r);
    if (r->ignored)
      spdlog::info("inbound: report ignored: {}", r->ignored_reason);
    else
      spdlog::info("inbound: {} for message {} (contact {} now {}){}", FeedbackKindName(r->kind),
                   r->message_id, r->outcome.contact_id, ContactStatusName(r->outcome.status_after),
                   r->outcome.duplicate ? ", already recorded" : "");
    return {};
  });
}

void InboundMaildirPoller::Start() {
  thread_ = std::thread([this] {
    NameThisThread("inbound-maildir");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto scan = ScanOnce();
      if (!scan.ok()) spdlog::warn("inbound maildir {}: {}", inbox_.dir(), scan.error().message);
      lock.lock();
      cv_.wait_for(lock, poll_, [this] { return stopping_; });
    }
  });
  spdlog::info("reading bounces and complaints from the maildir {} every {} s", inbox_.dir(), poll_.count());
}

void InboundMaildirPoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

InboundSmtp::InboundSmtp(const Config& config, Store& store, const Clock& clock, tracking::VerpCodec verp)
    : verp_(std::move(verp)), intake_(store, verp_, BouncePolicyFrom(config), clock) {}

Result<std::unique_ptr<InboundSmtp>> InboundSmtp::Start(const Config& config, Store& store,
                                                        const Clock& clock, http::Metrics* metrics) {
  if (config.inbound.listen.empty()) return std::unique_ptr<InboundSmtp>();
  RAPPORT_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(config.inbound.listen, "inbound.listen"));
  RAPPORT_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateLinkSecret(config));
  RAPPORT_ASSIGN_OR_RETURN(tracking::VerpCodec verp, tracking::VerpCodec::Create(secret));
  std::unique_ptr<InboundSmtp> in(new InboundSmtp(config, store, clock, std::move(verp)));
  delivery::SmtpListenerOptions o;
  o.host = hp.host;
  o.port = hp.port;
  o.hostname = config.inbound.hostname;
  o.tls_cert_file = config.inbound.tls_cert_file;
  o.tls_key_file = config.inbound.tls_key_file;
  tracking::FeedbackIntake* intake = &in->intake_;
  in->listener_ = std::make_unique<delivery::SmtpListener>(
      o, [intake, metrics](const delivery::InboundMessage& m) -> Status {
        auto r = intake->IngestMessage(
            m.data, m.rcpt_to.empty() ? std::string_view() : std::string_view(m.rcpt_to[0]));
        if (!r.ok()) return r.error();
        CountReport(metrics, *r);
        if (!r->ignored)
          spdlog::info("inbound smtp: {} for message {} (contact {} now {})", FeedbackKindName(r->kind),
                       r->message_id, r->outcome.contact_id, ContactStatusName(r->outcome.status_after));
        return {};
      });
  RAPPORT_TRY(in->listener_->Start());
  spdlog::info("receiving bounces and complaints by SMTP on {}:{}{}", hp.host, in->listener_->port(),
               o.tls_cert_file.empty() ? "" : " (STARTTLS)");
  return in;
}

}  // namespace rapport::app
