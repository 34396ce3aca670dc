#include "app/serve_command.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "analytics/analytics_service.h"
#include "analytics/send_time_advisor.h"
#include "app/app_context.h"
#include "app/campaign_setup.h"
#include "app/delivery_setup.h"
#include "app/demo_data.h"
#include "app/inbound_setup.h"
#include "app/journey_setup.h"
#include "app/senders_command.h"
#include "app/tracking_setup.h"
#include "automation/journey_service.h"
#include "campaign/campaign_service.h"
#include "core/redact.h"
#include "core/thread_name.h"
#include "http/server.h"
#include "segment/segment_service.h"

namespace rapport::app {

namespace {

analytics::AnalyticsOptions AnalyticsOptionsFrom(const Config& config) {
  analytics::AnalyticsOptions o;
  o.goal_event = config.analytics.goal_event;
  o.revenue_property = config.analytics.revenue_property;
  o.windows.click_us = config.analytics.click_window.count() * 1'000'000;
  o.windows.open_us = config.analytics.open_window.count() * 1'000'000;
  o.engagement.half_life_days = config.analytics.engagement_half_life_days;
  o.engagement.publish_step = config.analytics.engagement_publish_step;
  o.message_horizon_us = int64_t{config.analytics.message_horizon_days} * analytics::kMicrosPerDay;
  o.late_event_grace_us = config.analytics.late_event_grace.count() * 1'000'000;
  o.engagement_events = config.analytics.engagement_events;
  return o;
}

struct ServeOptions {
  CommonOptions common;
  bool demo = false;
};

http::ServerOptions ServerOptionsFrom(const Config& config, const HostPort& listen) {
  http::ServerOptions o;
  o.host = listen.host;
  o.port = listen.port;
  o.threads = config.server.threads;
  o.body_limit = config.server.body_limit;
  o.max_connections = static_cast<size_t>(config.server.max_connections);
  o.fast_lane = config.server.fast_lane;
  o.header_timeout = config.server.header_timeout;
  o.read_timeout = config.server.read_timeout;
  o.api.trust_forwarded_for = config.server.trust_forwarded_for;
  o.api.access_log = config.log.access;
  o.api.auth_failures_per_minute = config.server.auth_failures_per_minute;
  o.api.public_requests_per_second = config.server.public_requests_per_second;
  o.write_timeout = config.server.write_timeout;
  o.api.public_url = config.server.public_url;
  if (o.api.public_url.empty()) {
    std::string host = listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
    o.api.public_url = fmt::format("http://{}:{}", host, listen.port);
  }
  return o;
}

// Takes SIGINT/SIGTERM on its own thread (they are blocked everywhere else) and asks the server
// to shut down. Stop() ends the thread when the server stopped for another reason. `on_signal`
// runs first: it cancels long work that a request may be waiting for (a segment's first scan).
class SignalWatcher {
 public:
  SignalWatcher(const sigset_t& set, http::Server& server, std::function<void()> on_signal = {}) {
    thread_ = std::thread([this, set, &server, on_signal = std::move(on_signal)] {
      NameThisThread("signals");
      int sig = 0;
      if (sigwait(&set, &sig) != 0) return;
      if (stopping_.load()) return;
      spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      if (on_signal) on_signal();
      server.Shutdown();
    });
  }
  ~SignalWatcher() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    pthread_kill(thread_.native_handle(), SIGTERM);  // blocked: stays pending until sigwait takes it
    thread_.join();
  }

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

Status Serve(const ServeOptions& o) {
  // Block the signals before any thread starts, so that every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  SetupLogging(config.log);
  RAPPORT_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(config.server.listen));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(int version, store->SchemaVersion());
  spdlog::info("store {} ({}) at schema version {}", store->Backend(), RedactUrl(config.StoreUrl()), version);

  Clock& clock = SystemClock::Instance();
  std::string demo_key;  // set when this start seeded the demo
  WorkspaceId demo_workspace = 0;
  if (o.demo) {
    RAPPORT_ASSIGN_OR_RETURN(DemoResult demo, SeedDemoWorkspace(*store, clock.Now()));
    if (demo.created) {
      spdlog::info("seeded the demo data in the default workspace: {} contacts, {} events", demo.contacts,
                   demo.events);
      demo_key = demo.admin_key;
      demo_workspace = demo.workspace_id;
    } else {
      spdlog::info(
          "the default workspace holds contacts; not seeding the demo again (rapport keys create "
          "--name me --scope admin makes a new key)");
    }
  }

  // Sender identities: the demo's DKIM key (made on the first --demo start, used whenever it is
  // there), then the configured keys' domains, which marketing mail from a sender needs.
  RAPPORT_TRY(AddDemoDkimKey(config, o.demo));
  std::vector<std::string> dkim_domains = DkimDomains(config);

  // One `rapport serve` per data directory (node): it releases its node's earlier leases below.
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<NodeLock> node_lock, LockNode(config));
  // The send path: messages queued by the API are delivered by the outbox worker.
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<DeliveryStack> delivery,
                           BuildDeliveryStack(config, *store, clock));
  http::ServerOptions server_options = ServerOptionsFrom(config, listen);
  RAPPORT_ASSIGN_OR_RETURN(server_options.api.sender, BuildSender(config));
  server_options.api.dkim_domains = dkim_domains;
  if (!DkimCovers(dkim_domains, server_options.api.sender.from.address.domain))
    spdlog::warn(
        "no [[dkim]] key covers {}, the configured [sender]'s domain: its mail goes out unsigned (sender "
        "identities of that domain may not send marketing mail; rapport senders check)",
        server_options.api.sender.from.address.domain);
  RAPPORT_ASSIGN_OR_RETURN(server_options.api.link_secret, LoadOrCreateLinkSecret(config));
  // Links are signed with the key ring (the link secret is its first key); rotations reload.
  RAPPORT_ASSIGN_OR_RETURN(tracking::KeyRing ring, LoadOrCreateKeyRing(config, clock.Now()));
  server_options.api.link_signer = std::make_shared<tracking::LinkSigner>(std::move(ring), clock);
  KeyRingReloader ring_reloader(config, *server_options.api.link_signer);
  RAPPORT_ASSIGN_OR_RETURN(server_options.api.tracking.ranges, LoadOrCreateMachineRanges(config));
  server_options.api.tracking.ipv4_prefix = config.tracking.ipv4_prefix;
  server_options.api.tracking.ipv6_prefix = config.tracking.ipv6_prefix;
  server_options.api.signup.confirm_ttl = std::chrono::seconds(config.consent.confirm_ttl_seconds);
  server_options.api.signup.confirmation_template = config.consent.confirmation_template;
  server_options.api.subscribes_per_minute = config.consent.subscribes_per_minute;
  delivery::OutboxWorker& worker = *delivery->worker;
  server_options.api.on_queued = [&worker](MessageClass lane) { worker.Wake(lane); };
  server_options.api.copies = delivery->copies.get();

  // The segment engine: the profile index rebuilt from the log, then kept current from the feed.
  segment::SegmentService segments(*store, clock);
  auto index_start = std::chrono::steady_clock::now();
  RAPPORT_TRY(segments.Start());
  segment::IndexStats index_stats = segments.Stats();
  spdlog::info(
      "segment index: {} contacts, {} events in {} ms ({} MB)", index_stats.contacts, index_stats.events,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - index_start)
          .count(),
      index_stats.bytes / (1024 * 1024));
  server_options.api.segments = &segments;

  // Analytics: reports, attribution, engagement, lifecycle and CLV, folded from the feed.
  analytics::AnalyticsService reports(*store, clock, AnalyticsOptionsFrom(config));
  auto reports_start = std::chrono::steady_clock::now();
  RAPPORT_TRY(reports.Start());
  spdlog::info(
      "analytics: caught up to position {} in {} ms", reports.position(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - reports_start)
          .count());
  server_options.api.analytics = &reports;

  server_options.api.bounce_policy = BouncePolicyFrom(config);

  // Journeys: a feed consumer and the journey timers; they send through a send service of their
  // own with the API's sender, links and wake-up.
  std::unique_ptr<automation::StepRegistry> step_registry = BuildStepRegistry();
  send::SendService journey_sender(*store, clock, *server_options.api.link_signer,
                                   send::SendOptions{server_options.api.sender, server_options.api.public_url,
                                                     server_options.api.on_queued, dkim_domains});
  // Send-time optimization from the analytics consumer, for campaigns and wait_best_time steps.
  analytics::SendTimeOptimizer send_time(*store, reports);
  SendServiceMailer journey_mailer(*store, journey_sender, clock);
  SegmentServiceMembership journey_segments(segments);
  HttpWebhookClient journey_webhooks;
  automation::JourneyServiceOptions journey_options;
  journey_options.owner = delivery->node_id + "/journeys";  // stable: a restart takes its leases back
  journey_options.on_error = [](const Error& e) { spdlog::warn("journeys: {} (retried)", e.message); };
  automation::JourneyService journeys(
      *store, clock, *step_registry,
      automation::JourneyPorts{&journey_mailer, &journey_segments, &journey_webhooks, &send_time},
      journey_options);
  RAPPORT_TRY(journeys.Start());
  server_options.api.journeys = &journeys;

  // Campaigns: their leased ticks freeze each occurrence's audience and send its batches through
  // the journeys' send service (bulk path); send-time optimization from the analytics consumer.
  SendServiceCampaignMailer campaign_mailer(*store, journey_sender);
  SegmentAudience campaign_audience(segments);
  SegmentOutcomes campaign_outcomes(segments);
  campaign::CampaignServiceOptions campaign_options;
  campaign_options.owner = delivery->node_id + "/campaigns";  // stable: a restart takes its leases back
  campaign_options.goal_event = config.analytics.goal_event;
  campaign_options.revenue_property = config.analytics.revenue_property;
  campaign_options.on_error = [](const Error& e) { spdlog::warn("campaigns: {} (retried)", e.message); };
  campaign::CampaignService campaigns(
      *store, clock,
      campaign::CampaignPorts{&campaign_mailer, &campaign_audience, &send_time, &campaign_outcomes},
      campaign_options);
  RAPPORT_TRY(campaigns.Start());
  server_options.api.campaigns = &campaigns;
  if (demo_workspace != 0) {
    // The demo's first newsletter mail, queued through the send service, so that the outbox
    // holds a marketing message to try in a browser (tracked links, pixel, unsubscribe,
    // preferences). Not fatal: the demo data is already there.
    Result<int> queued = QueueDemoWelcome(*store, journey_sender, demo_workspace);
    if (queued.ok())
      spdlog::info("queued {} demo welcome messages (marketing, topic newsletter)", *queued);
    else
      spdlog::warn("demo welcome messages not queued: {}", queued.error().message);
  }

  // Opens and clicks go to the hit log first (docs/tracking.md); its loader is stopped (and loads
  // the rest) after the server, which is destroyed first.
  RAPPORT_ASSIGN_OR_RETURN(HitLogParts hit_log, OpenHitLog(config, *store, clock, delivery->node_id));
  server_options.api.hit_log = hit_log.log.get();
  server_options.api.hit_loader = hit_log.loader.get();
  http::Server server(*store, clock, server_options);
  // Bounces and complaints an MTA delivers into [inbound] maildir or by SMTP ([inbound] listen),
  // counted in the server's metrics (declared after the server: stopped and destroyed before it).
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<InboundMaildirPoller> inbound,
                           InboundMaildirPoller::Create(config, *store, clock, &server.metrics()));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<InboundSmtp> inbound_smtp,
                           InboundSmtp::Start(config, *store, clock, &server.metrics()));
  RAPPORT_TRY(server.Start());
  spdlog::info("rapport {} listening on http://{}:{}", RAPPORT_VERSION, listen.host, server.port());
  // An earlier process of this node that was killed left its claimed messages leased; hand them
  // back so they go now rather than when the leases expire.
  RAPPORT_ASSIGN_OR_RETURN(int64_t released, ReleaseEarlierLeases(*store, *delivery, clock));
  if (released > 0)
    spdlog::info("released {} messages leased by an earlier process of node {}", released, delivery->node_id);
  if (o.demo)
    std::cout << DemoNextSteps(fmt::format("http://{}:{}", listen.host, server.port()), config.data_dir,
                               demo_key)
              << std::flush;
  worker.Start();
  spdlog::info("delivering through {} as {}", delivery->description, delivery->lease_owner);
  if (inbound) inbound->Start();
  SignalWatcher watcher(set, server, [&segments] { segments.Stop(); });
  server.Run();
  watcher.Stop();
  if (inbound) inbound->Stop();
  if (inbound_smtp) inbound_smtp->Stop();
  // The API has drained: nothing new is queued. The in-flight batches finish and are recorded;
  // what was not sent stays in the outbox for the next start.
  campaigns.Stop();
  journeys.Stop();
  worker.Stop();
  segments.Stop();
  reports.Stop();
  spdlog::info("stopped");
  return {};
}

}  // namespace

std::string DemoNextSteps(const std::string& base_url, const std::string& data_dir,
                          const std::string& admin_key) {
  std::string key_line =
      admin_key.empty()
          ? fmt::format(
                "  (the admin key was printed on the first start; a new one: rapport keys create --data {} "
                "--name me --scope admin)\n  export KEY=rk_...\n",
                data_dir)
          : fmt::format("  admin API key: {}\n  (shown only this once; stored hashed)\n  export KEY={}\n",
                        admin_key, admin_key);
  return fmt::format(
      "\n"
      "rapport is serving the demo workspace at {0}\n"
      "\n"
      "{1}"
      "\n"
      "  first call:  curl -s -H \"Authorization: Bearer $KEY\" '{0}/api/v1/contacts?limit=5'\n"
      "  API docs:    docs/api.md, or {0}/api/v1/openapi.json; more examples in README.md\n"
      "  CLI:         rapport contacts import FILE.csv --data {2}   (the same workspace as the demo)\n"
      "\n",
      base_url, key_line, data_dir);
}

void RegisterServeCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = root.add_subcommand("serve", "Serve the HTTP API (until SIGINT or SIGTERM)");
  AddCommonOptions(*serve, options->common);
  AddDatabaseOption(*serve, options->common);
  serve->add_option_function<std::string>(
      "--listen", [options](const std::string& v) { options->common.flags.listen = v; },
      "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_flag("--demo", options->demo,
                  "on first start, create the demo workspace, data and an admin key");
  serve->callback([options, &exit_code] {
    Status st = Serve(*options);
    exit_code = st.ok() ? 0 : PrintError(st.error());
  });
}

}  // namespace rapport::app
