#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace rapport::app {
namespace {

TEST(ConfigTest, DefaultsNeedNoFile) {
  auto config = LoadConfig("", {}, {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->data_dir, "var");
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->StoreUrl(), "var/rapport.db");
  EXPECT_EQ(config->OutboxDir(), "var/outbox");
  EXPECT_EQ(config->delivery.transport, "maildir");
  EXPECT_EQ(config->server.threads, 2);
  EXPECT_TRUE(config->dkim.empty());
}

TEST(ConfigTest, FileSetsEveryKind) {
  Config c;
  auto st = ApplyConfigToml(c, R"(
data_dir = "/srv/rapport"
[server]
listen = "[::1]:9000"
threads = 8
body_limit = "4MiB"
read_timeout = "2m"
write_timeout = 45
max_connections = 50
header_timeout = "5s"
trust_forwarded_for = true
auth_failures_per_minute = 7
public_requests_per_second = 3
public_url = "https://mail.example.com/"
[store]
url = "postgresql://localhost/rapport"
[log]
level = "debug"
format = "json"
[delivery]
transport = "smtp"
smtp_url = "smtp://relay.example.com:587"
tls = "required"
rate = 12.5
max_age = "2d"
[[dkim]]
domain = "example.com"
selector = "s1"
key_file = "/etc/rapport/s1.pem"
[[dkim]]
domain = "example.org"
selector = "s2"
key_file = "s2.pem"
algorithm = "ed25519-sha256"
)",
                            "test.toml");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(c.data_dir, "/srv/rapport");
  EXPECT_EQ(c.server.listen, "[::1]:9000");
  EXPECT_EQ(c.server.threads, 8);
  EXPECT_EQ(c.server.body_limit, 4u * 1024 * 1024);
  EXPECT_EQ(c.server.read_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.server.write_timeout, std::chrono::seconds(45));
  EXPECT_EQ(c.server.max_connections, 50);
  EXPECT_EQ(c.server.header_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(c.server.trust_forwarded_for);
  EXPECT_EQ(c.server.auth_failures_per_minute, 7);
  EXPECT_EQ(c.server.public_requests_per_second, 3);
  EXPECT_EQ(c.server.public_url, "https://mail.example.com");
  EXPECT_EQ(c.StoreUrl(), "postgresql://localhost/rapport");
  EXPECT_EQ(c.OutboxDir(), "/srv/rapport/outbox");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.delivery.tls, "required");
  EXPECT_DOUBLE_EQ(c.delivery.rate, 12.5);
  EXPECT_EQ(c.delivery.max_age, std::chrono::seconds(2 * 86400));
  ASSERT_EQ(c.dkim.size(), 2u);
  EXPECT_EQ(c.dkim[0].algorithm, "rsa-sha256");
  EXPECT_EQ(c.dkim[1].algorithm, "ed25519-sha256");
  EXPECT_EQ(c.dkim[1].key_file, "s2.pem");
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigTest, PrecedenceFlagOverEnvOverFileOverDefault) {
  auto path = std::filesystem::temp_directory_path() /
              ("rapport_config_test_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(path);
    out << "data_dir = \"from-file\"\n[server]\nlisten = \"0.0.0.0:1111\"\nthreads = 3\n"
           "[store]\nurl = \"file.db\"\n[log]\nlevel = \"warn\"\n";
  }
  Environment env = {{"RAPPORT_SERVER_LISTEN", "0.0.0.0:2222"},
                     {"RAPPORT_STORE_URL", "env.db"},
                     {"RAPPORT_SERVER_THREADS", "5"},
                     {"UNRELATED", "x"}};
  ConfigFlags flags;
  flags.listen = "127.0.0.1:3333";
  auto c = LoadConfig(path.string(), env, flags);
  std::filesystem::remove(path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server.listen, "127.0.0.1:3333");  // flag
  EXPECT_EQ(c->StoreUrl(), "env.db");             // env over file
  EXPECT_EQ(c->server.threads, 5);                // env over file
  EXPECT_EQ(c->log.level, "warn");                // file over default
  EXPECT_EQ(c->data_dir, "from-file");
  EXPECT_EQ(c->server.body_limit, 32u * 1024 * 1024);  // default

  ConfigFlags data_flag;
  data_flag.data_dir = "flagdir";
  auto d = LoadConfig("", {{"RAPPORT_DATA_DIR", "envdir"}}, data_flag);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->data_dir, "flagdir");
  EXPECT_EQ(d->StoreUrl(), "flagdir/rapport.db");
  auto e = LoadConfig("", {{"RAPPORT_DATA_DIR", "envdir"}}, {});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->OutboxDir(), "envdir/outbox");
}

// Issue 14: the memory SQLite may hold is set by configuration (docs/configuration.md).
TEST(ConfigTest, Issue14SqliteMemoryIsConfigured) {
  auto d = LoadConfig("", {}, {});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->store.sqlite_cache_mb, 64);
  EXPECT_EQ(d->store.sqlite_mmap_mb, 0);  // no map: pread (bench/RESULTS.md "tracking")
  auto c =
      LoadConfig("", {{"RAPPORT_STORE_SQLITE_CACHE_MB", "8"}, {"RAPPORT_STORE_SQLITE_MMAP_MB", "32"}}, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->store.sqlite_cache_mb, 8);
  EXPECT_EQ(c->store.sqlite_mmap_mb, 32);
  auto bad = LoadConfig("", {{"RAPPORT_STORE_SQLITE_CACHE_MB", "0"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "store.sqlite_cache_mb");
}

TEST(ConfigTest, UnknownKeysAreNamed) {
  Config c;
  auto st = ApplyConfigToml(c, "[server]\nlisten = \"127.0.0.1:1\"\nthread = 4\n", "x.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "server.thread");
  EXPECT_NE(st.error().message.find("unknown key server.thread"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("x.toml line 3"), std::string::npos) << st.error().message;

  st = ApplyConfigToml(c, "[sever]\nlisten = \"a:1\"\n", "x.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unknown section [sever]"), std::string::npos);

  st = ApplyConfigToml(c, "colour = 1\n", "x.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "colour");

  st = ApplyConfigToml(c, "[[dkim]]\ndomain = \"a\"\nsecret = \"b\"\n", "x.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "dkim[0].secret");
}

TEST(ConfigTest, BadValuesSayWhichKeyAndWhy) {
  struct Case {
    const char* toml;
    const char* field;
    const char* why;
  };
  for (const Case& k : std::initializer_list<Case>{
           {"[server]\nlisten = \"localhost\"\n", "server.listen", "HOST:PORT"},
           {"[server]\nlisten = \"h:70000\"\n", "server.listen", "HOST:PORT"},
           {"[server]\nthreads = 0\n", "server.threads", "between 1 and 256"},
           {"[server]\nthreads = \"many\"\n", "server.threads", "expected an integer"},
           {"[server]\nbody_limit = \"12XB\"\n", "server.body_limit", "size"},
           {"[server]\ntrust_forwarded_for = \"maybe\"\n", "server.trust_forwarded_for", "true or false"},
           {"[server]\nread_timeout = \"5y\"\n", "server.read_timeout", "duration"},
           {"[server]\npublic_url = \"mail.example.com\"\n", "server.public_url", "http://"},
           {"[log]\nlevel = \"verbose\"\n", "log.level", "one of trace"},
           {"[delivery]\ntransport = \"carrier-pigeon\"\n", "delivery.transport", "maildir, smtp"},
           {"[delivery]\nrate = -1\n", "delivery.rate", "greater than 0"},
           {"[delivery]\nsmtp_url = \"relay:25\"\n", "delivery.smtp_url", "smtp://"},
           {"[store]\nurl = 5\n", "store.url", "expected a string"},
           {"[[dkim]]\ndomain = \"a\"\nalgorithm = \"md5\"\n", "dkim[0].algorithm", "rsa-sha256"},
       }) {
    Config c;
    auto st = ApplyConfigToml(c, k.toml, "f.toml");
    ASSERT_FALSE(st.ok()) << k.toml;
    EXPECT_EQ(st.error().field, k.field) << k.toml;
    EXPECT_NE(st.error().message.find(k.field), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find(k.why), std::string::npos) << st.error().message;
  }
}

TEST(ConfigTest, SyntaxErrorsGiveTheLine) {
  Config c;
  auto st = ApplyConfigToml(c, "[server]\nlisten = \n", "broken.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("broken.toml line 2"), std::string::npos) << st.error().message;
}

TEST(ConfigTest, EnvironmentErrorsNameTheVariable) {
  auto c = LoadConfig("", {{"RAPPORT_SERVER_THREADS", "lots"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "server.threads");
  EXPECT_NE(c.error().message.find("RAPPORT_SERVER_THREADS"), std::string::npos) << c.error().message;

  ConfigFlags flags;
  flags.listen = "nope";
  c = LoadConfig("", {}, flags);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("--listen"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, DkimFromEnvironment) {
  Environment env = {{"RAPPORT_DKIM_0_DOMAIN", "example.com"},
                     {"RAPPORT_DKIM_0_SELECTOR", "s1"},
                     {"RAPPORT_DKIM_0_KEY_FILE", "k.pem"}};
  auto c = LoadConfig("", env, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->dkim.size(), 1u);
  EXPECT_EQ(c->dkim[0].domain, "example.com");
  EXPECT_EQ(c->dkim[0].key_file, "k.pem");

  auto gap = LoadConfig("", {{"RAPPORT_DKIM_2_DOMAIN", "x"}}, {});
  ASSERT_FALSE(gap.ok());
  auto incomplete = LoadConfig("", {{"RAPPORT_DKIM_0_DOMAIN", "x"}}, {});
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.error().field, "dkim[0].selector");
}

TEST(ConfigTest, SmtpTransportNeedsUrl) {
  auto c = LoadConfig("", {{"RAPPORT_DELIVERY_TRANSPORT", "smtp"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "delivery.smtp_url");
}

TEST(ConfigTest, MissingFileIsAnError) {
  auto c = LoadConfig("/nonexistent/rapport.toml", {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("/nonexistent/rapport.toml"), std::string::npos);
}

TEST(ConfigTest, ParseHostPort) {
  auto a = ParseHostPort("0.0.0.0:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 0);
  auto b = ParseHostPort("[::]:443");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::");
  EXPECT_EQ(b->port, 443);
  EXPECT_FALSE(ParseHostPort("::1:80").ok());
  EXPECT_FALSE(ParseHostPort(":80").ok());
  EXPECT_FALSE(ParseHostPort("host:").ok());
}

namespace rapport::app {
namespace {

TEST(ConfigTest, ProviderLimitsFromFileAndEnvironment) {
  Config c;
  ASSERT_TRUE(ApplyConfigToml(c,
                              "[delivery]\ndomain_concurrency = 8\n"
                              "[[provider]]\ndomain = \"gmail.com\"\nconcurrency = 4\nrate = 2.5\n"
                              "[[provider]]\ndomain = \"outlook.com\"\n",
                              "r.toml")
                  .ok());
  ASSERT_EQ(c.providers.size(), 2u);
  EXPECT_EQ(c.providers[0].concurrency, 4);
  EXPECT_EQ(c.providers[0].rate, 2.5);
  EXPECT_FALSE(c.providers[1].concurrency.has_value());
  ASSERT_TRUE(ApplyConfigEnvironment(
                  c, {{"RAPPORT_PROVIDER_1_RATE", "1"}, {"RAPPORT_PROVIDER_2_DOMAIN", "yahoo.com"}})
                  .ok());
  EXPECT_EQ(c.providers[1].rate, 1.0);
  ASSERT_EQ(c.providers.size(), 3u);
  EXPECT_EQ(c.providers[2].domain, "yahoo.com");
  EXPECT_TRUE(ValidateConfig(c).ok());

  Config bad;
  Status st = ApplyConfigToml(bad, "[[provider]]\ndomain = \"gmail.com\"\nconcurrency = 0\n", "r.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "provider[0].concurrency");
  st = ApplyConfigToml(bad, "[[provider]]\ndomian = \"gmail.com\"\n", "r.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "provider[0].domian");
  Config nodomain;
  ASSERT_TRUE(ApplyConfigToml(nodomain, "[[provider]]\nrate = 3\n", "r.toml").ok());
  EXPECT_EQ(ValidateConfig(nodomain).error().field, "provider[0].domain");
}

TEST(ConfigTest, SenderMailboxesAreCheckedAtLoad) {
  Config c;
  ASSERT_TRUE(ApplyConfigToml(c, "[sender]\nfrom = \"Tea Shop <hello@shop.example>\"\n", "s.toml").ok());
  EXPECT_EQ(c.sender.from, "Tea Shop <hello@shop.example>");
  Status st = ApplyConfigEnvironment(c, {{"RAPPORT_SENDER_FROM", "Shop\r\nBcc: x@y.example <a@b.example>"}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "sender.from");
  st = ApplyConfigEnvironment(c, {{"RAPPORT_SENDER_UNSUBSCRIBE_MAILTO", "https://x.example"}});
  EXPECT_EQ(st.error().field, "sender.unsubscribe_mailto");
}

// Issue 16 item 6: the inbound side (maildir, SMTP listener, VERP, the soft bounce rule).
TEST(ConfigTest, InboundKeys) {
  auto d = LoadConfig("", {}, {});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->inbound.verp);
  EXPECT_EQ(d->inbound.soft_bounce_threshold, 3);
  EXPECT_EQ(d->inbound.soft_bounce_window, 5);
  EXPECT_TRUE(d->inbound.maildir.empty() && d->inbound.listen.empty());
  auto c = LoadConfig("",
                      {{"RAPPORT_INBOUND_MAILDIR", "/var/mail/b"},
                       {"RAPPORT_INBOUND_LISTEN", "0.0.0.0:2525"},
                       {"RAPPORT_INBOUND_POLL", "10s"},
                       {"RAPPORT_INBOUND_SOFT_BOUNCE_THRESHOLD", "2"}},
                      {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->inbound.maildir, "/var/mail/b");
  EXPECT_EQ(c->inbound.listen, "0.0.0.0:2525");
  EXPECT_EQ(c->inbound.poll.count(), 10);
  EXPECT_EQ(c->inbound.soft_bounce_threshold, 2);
  auto bad_listen = LoadConfig("", {{"RAPPORT_INBOUND_LISTEN", "nope"}}, {});
  ASSERT_FALSE(bad_listen.ok());
  EXPECT_EQ(bad_listen.error().field, "inbound.listen");
  auto over = LoadConfig("", {{"RAPPORT_INBOUND_SOFT_BOUNCE_THRESHOLD", "6"}}, {});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "inbound.soft_bounce_threshold");
  auto half_tls = LoadConfig("", {{"RAPPORT_INBOUND_TLS_CERT_FILE", "c.pem"}}, {});
  ASSERT_FALSE(half_tls.ok());
  EXPECT_EQ(half_tls.error().field, "inbound.tls_key_file");
}

}  // namespace
}  // namespace rapport::app

// Issue 17: the conversion goal and windows are configuration (docs/analytics.md).
TEST(ConfigTest, Issue17AnalyticsIsConfigured) {
  auto d = LoadConfig("", {}, {});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->analytics.goal_event, "order_placed");
  EXPECT_EQ(d->analytics.revenue_property, "total");
  EXPECT_EQ(d->analytics.click_window, std::chrono::seconds(5 * 86400));
  EXPECT_EQ(d->analytics.open_window, std::chrono::seconds(86400));
  EXPECT_EQ(d->analytics.late_event_grace, std::chrono::seconds(600));
  Config c;
  auto st = ApplyConfigToml(c,
                            "[analytics]\ngoal_event = \"purchase\"\nrevenue_property = \"amount\"\n"
                            "click_window = \"2d\"\nopen_window = \"6h\"\nengagement_half_life_days = 14\n"
                            "late_event_grace = \"1h\"\n",
                            "x.toml");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(c.analytics.goal_event, "purchase");
  EXPECT_EQ(c.analytics.revenue_property, "amount");
  EXPECT_EQ(c.analytics.click_window, std::chrono::seconds(2 * 86400));
  EXPECT_EQ(c.analytics.open_window, std::chrono::seconds(6 * 3600));
  EXPECT_EQ(c.analytics.late_event_grace, std::chrono::seconds(3600));
  EXPECT_EQ(c.analytics.engagement_half_life_days, 14);
  auto bad = LoadConfig("", {{"RAPPORT_ANALYTICS_ENGAGEMENT_HALF_LIFE_DAYS", "0"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "analytics.engagement_half_life_days");
  // The chosen events of the engagement score, with their weights.
  EXPECT_TRUE(c.analytics.engagement_events.empty());
  auto chosen =
      LoadConfig("", {{"RAPPORT_ANALYTICS_ENGAGEMENT_EVENTS", " page_viewed=0.5, review_posted = 2 ,"}}, {});
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(chosen->analytics.engagement_events,
            (std::map<std::string, double>{{"page_viewed", 0.5}, {"review_posted", 2.0}}));
  for (const char* wrong : {"page_viewed", "page_viewed=0", "page_viewed=x", "=1", "a=1,a=2", "a=-1"}) {
    auto refused = LoadConfig("", {{"RAPPORT_ANALYTICS_ENGAGEMENT_EVENTS", wrong}}, {});
    ASSERT_FALSE(refused.ok()) << wrong;
    EXPECT_EQ(refused.error().field, "analytics.engagement_events") << wrong;
  }
}

}  // namespace
}  // namespace rapport::app
