#include "app/delivery_setup.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <spdlog/spdlog.h>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/provider_groups.h"
#include "delivery/smtp/smtp_config.h"
#include "delivery/smtp/smtp_transport.h"
#include "delivery/transport_registry.h"
#include "mail/header.h"

namespace rapport::app {

std::string TransportUrl(const Config& config) {
  if (config.delivery.transport != "smtp") return "maildir:" + config.OutboxDir();
  std::string url = config.delivery.smtp_url;
  if (url.rfind("smtp://", 0) == 0 && url.find("tls=") == std::string::npos)
    url += (url.find('?') == std::string::npos ? "?tls=" : "&tls=") + config.delivery.tls;
  return url;
}

Result<std::unique_ptr<mail::DkimKeyring>> LoadDkimKeyring(const Config& config) {
  auto ring = std::make_unique<mail::DkimKeyring>();
  for (size_t i = 0; i < config.dkim.size(); ++i) {
    const DkimConfig& d = config.dkim[i];
    auto algorithm = mail::ParseDkimAlgorithm(d.algorithm);
    if (!algorithm) return Error::Invalid(fmt::format("dkim[{}].algorithm", i), "unknown DKIM algorithm");
    if (auto st = ring->Load({d.domain, d.selector, d.key_file, *algorithm}); !st.ok()) {
      return Error::Invalid(
          fmt::format("dkim[{}].{}", i, st.error().field.empty() ? "key_file" : st.error().field),
          fmt::format("dkim[{}] ({}): {}", i, d.key_file, st.error().message));
    }
  }
  return ring;
}

Result<Transports> BuildTransports(const Config& config) {
  std::string url = TransportUrl(config);
  if (config.delivery.transport != "smtp") {
    std::error_code ec;
    std::filesystem::create_directories(config.OutboxDir(), ec);
    if (ec)
      return Error::Invalid("delivery.outbox_dir",
                            "cannot create " + config.OutboxDir() + ": " + ec.message());
  }
  // The transports this binary offers, registered here, explicitly (no self-registration).
  delivery::TransportRegistry transports;
  delivery::RegisterMaildirTransport(transports);
  delivery::RegisterSmtpTransport(transports);
  auto field_error = [&](Error e) {
    // The factories never quote the URL (it may hold the SMTP password).
    e.field = config.delivery.transport == "smtp" ? "delivery.smtp_url" : "delivery.outbox_dir";
    e.message = e.field + ": " + e.message;
    return e;
  };
  // One transport per lane: a marketing batch never holds a connection a receipt needs.
  Transports out;
  auto transactional = transports.Create(url);
  if (!transactional.ok()) return field_error(std::move(transactional).error());
  out.transactional = std::move(transactional).value();
  auto marketing = transports.Create(url);
  if (!marketing.ok()) return field_error(std::move(marketing).error());
  out.marketing = std::move(marketing).value();
  return out;
}

Result<std::unique_ptr<DeliveryStack>> BuildDeliveryStack(const Config& config, Store& store,
                                                          const Clock& clock) {
  auto stack = std::make_unique<DeliveryStack>();
  std::string url = TransportUrl(config);
  RAPPORT_ASSIGN_OR_RETURN(Transports lanes, BuildTransports(config));
  stack->transactional = std::move(lanes.transactional);
  stack->marketing = std::move(lanes.marketing);
  stack->copies = std::make_unique<delivery::TransportCopies>(
      std::vector<delivery::Transport*>{stack->transactional.get(), stack->marketing.get()});
  if (config.delivery.transport == "smtp") {
    auto smtp = delivery::ParseSmtpUrl(url);
    if (smtp.ok() && !smtp->user.empty() && smtp->allow_plaintext_auth &&
        smtp->tls != delivery::TlsMode::kImplicit && smtp->tls != delivery::TlsMode::kRequired) {
      spdlog::warn(
          "delivery.smtp_url has allow_plaintext_auth=true: the SMTP password is sent without TLS when {} "
          "offers no STARTTLS",
          smtp->Describe());
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(stack->keyring, LoadDkimKeyring(config));
  delivery::MessageSigner signer;
  if (!stack->keyring->empty()) signer = delivery::DkimMessageSigner(*stack->keyring);

  delivery::RateLimiterOptions limits;
  limits.global_rate = config.delivery.rate;
  limits.default_limits.concurrency = config.delivery.domain_concurrency;
  limits.default_limits.rate = config.delivery.domain_rate;
  limits.backoff_cooldown = config.delivery.backoff_cooldown;
  limits.recovery_interval = config.delivery.recovery_interval;
  limits.recovery_step = config.delivery.recovery_step;
  limits.burst_threshold = config.delivery.burst_threshold;
  for (const ProviderConfig& p : config.providers) {
    delivery::ProviderLimits& l = limits.providers[delivery::ProviderGroup(p.domain)];
    l.concurrency = p.concurrency.value_or(config.delivery.domain_concurrency);
    l.rate = p.rate.value_or(config.delivery.domain_rate);
  }
  stack->limiter = std::make_unique<delivery::RateLimiter>(clock, limits);

  RAPPORT_ASSIGN_OR_RETURN(stack->node_id, LoadOrCreateNodeId(config));
  uint32_t nonce = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&nonce), sizeof(nonce)) != 1)
    return Error::Internal("no randomness for the lease owner");
  stack->lease_owner = LeaseOwner(stack->node_id, fmt::format("{}-{:08x}", getpid(), nonce));
  delivery::OutboxWorkerOptions wo;
  wo.owner = stack->lease_owner;
  wo.batch_size = config.delivery.batch_size;
  wo.lease = config.delivery.lease;
  wo.retry.max_age = config.delivery.max_age;
  wo.pipeline = true;
  if (config.inbound.verp) {
    // VERP: each message's envelope sender names it, so an asynchronous bounce finds it.
    RAPPORT_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateLinkSecret(config));
    RAPPORT_ASSIGN_OR_RETURN(tracking::VerpCodec verp, tracking::VerpCodec::Create(secret));
    stack->verp = std::make_unique<tracking::VerpCodec>(std::move(verp));
    wo.envelope_sender = [v = stack->verp.get()](const OutboxMessage& m) {
      return v->Encode(m.mail_from, m.workspace_id, m.id);
    };
  }
  stack->worker =
      std::make_unique<delivery::OutboxWorker>(store.outbox(), clock, *stack->limiter, *stack->transactional,
                                               *stack->marketing, std::move(signer), wo);
  std::string dkim = "unsigned";
  if (!stack->keyring->empty()) {
    dkim = "DKIM";
    for (const std::string& s : stack->keyring->Selectors()) dkim += " " + s;
  }
  stack->description =
      fmt::format("{} ({}), {} msg/s", stack->transactional->Describe(), dkim, config.delivery.rate);
  return stack;
}

namespace {

// A file's text without trailing line ends.
std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Creates `path` (mode 0600, O_EXCL) holding `line`, fsynced.
Status CreateSecretFile(const std::string& path, const std::string& line, const std::string& field) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Error::Invalid(field, fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error::Invalid(field, "cannot write " + path);
  return {};
}

}  // namespace

Result<std::string> LoadOrCreateNodeId(const Config& config) {
  if (!config.delivery.node_id.empty()) return config.delivery.node_id;
  const std::string path = config.NodeIdFile();
  if (auto text = ReadSmallFile(path)) {
    if (auto problem = NodeIdProblem(*text))
      return Error::Invalid("delivery.node_id", fmt::format("{}: {}", path, *problem));
    return *text;
  }
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string node_id;
  for (const char* p = host; *p != '\0' && node_id.size() < 40; ++p)
    node_id += NodeIdProblem(std::string_view(p, 1)) ? '-' : *p;
  if (node_id.empty()) node_id = "node";
  uint32_t suffix = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&suffix), sizeof(suffix)) != 1)
    return Error::Internal("no randomness for the node id");
  node_id += fmt::format("-{:08x}", suffix);
  RAPPORT_TRY(CreateSecretFile(path, node_id + "\n", "delivery.node_id"));
  return node_id;
}

NodeLock::~NodeLock() { ::close(fd_); }

Result<std::unique_ptr<NodeLock>> LockNode(const Config& config) {
  const std::string path = config.data_dir + "/node.lock";
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error::Invalid("data_dir", fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Error::Conflict(fmt::format("another rapport serve uses the data directory {} (it holds {})",
                                         config.data_dir, path),
                             "data_dir");
    return Error::Invalid("data_dir", fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
  return std::make_unique<NodeLock>(fd);
}

Result<int64_t> ReleaseEarlierLeases(Store& store, const DeliveryStack& stack, const Clock& clock) {
  return store.outbox().ReleaseNode(stack.node_id, stack.lease_owner, clock.Now());
}

Result<compose::Sender> BuildSender(const Config& config) {
  compose::Sender s;
  RAPPORT_ASSIGN_OR_RETURN(s.from, mail::ParseMailbox("sender.from", config.sender.from));
  if (!config.sender.reply_to.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(s.reply_to, mail::ParseMailbox("sender.reply_to", config.sender.reply_to));
  }
  s.bounce_address = config.sender.bounce_address;
  s.list_id = config.sender.list_id;
  s.unsubscribe_mailto = config.sender.unsubscribe_mailto;
  return s;
}

Result<std::string> LoadOrCreateSecretFile(const std::string& path, const std::string& field,
                                           std::string_view what) {
  if (auto text = ReadSmallFile(path)) {
    std::string secret = std::move(*text);
    if (secret.size() < 32)
      return Error::Invalid(field, fmt::format("{}: the {} must be at least 32 bytes", path, what));
    return secret;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1)
    return Error::Internal(fmt::format("no randomness for the {}", what));
  std::string secret;
  for (unsigned char b : raw) secret += fmt::format("{:02x}", b);
  RAPPORT_TRY(CreateSecretFile(path, secret + "\n", field));
  return secret;
}

Result<std::string> LoadOrCreateLinkSecret(const Config& config) {
  return LoadOrCreateSecretFile(config.LinkSecretFile(), "server.link_secret_file", "link secret");
}

}  // namespace rapport::app
