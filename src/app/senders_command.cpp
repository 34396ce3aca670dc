#include "app/senders_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "app/app_context.h"
#include "app/delivery_setup.h"
#include "app/demo_data.h"
#include "app/dns_txt.h"
#include "core/sender.h"
#include "mail/dkim.h"

namespace rapport::app {

namespace {

struct SendersOptions {
  CommonOptions common;
  std::string workspace;
  // add
  SenderIdentity input;
  // check
  std::string resolver;
  std::string dmarc_rua;
};

Status WriteNewPrivateFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Internal(path + ": " + std::strerror(errno));
  size_t done = 0;
  bool ok = true;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  std::string error = ok ? "" : std::strerror(errno);
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return Error::Internal(path + ": " + (error.empty() ? std::strerror(errno) : error));
  }
  return {};
}

std::string Describe(const SenderIdentity& s) {
  std::string line =
      fmt::format("{:>4}  {}  {} <{}>", s.id, s.is_default ? "default" : "       ", s.name, s.email);
  if (!s.reply_to_email.empty())
    line += fmt::format("  reply-to: {} <{}>", s.reply_to_name, s.reply_to_email);
  line += "  postal address: " +
          (s.postal_address.empty() ? std::string("(none: no marketing mail)") : s.postal_address);
  return EscapeForTerminal(line);
}

Status List(const SendersOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SenderIdentity> senders, store->senders().List(ws.id));
  if (senders.empty())
    std::cout << "no senders in workspace " << ws.name << ": mail is from the configured [sender] ("
              << EscapeForTerminal(config.sender.from) << ")\n";
  for (const SenderIdentity& s : senders) std::cout << Describe(s) << "\n";
  return {};
}

Status Add(const SendersOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/true));
  SenderIdentity in = o.input;
  in.workspace_id = ws.id;
  RAPPORT_ASSIGN_OR_RETURN(SenderIdentity created, store->senders().Create(in));
  std::cout << Describe(created) << "\n";
  if (!DkimCovers(DkimDomains(config), created.Domain()))
    std::cout << "note: no [[dkim]] key is configured for " << created.Domain()
              << ": marketing mail from this sender is refused until one is (rapport senders check)\n";
  return {};
}

// Prints the records of each domain; with a resolver, what DNS holds. Returns whether every
// record looked up was there and matched.
Result<bool> Check(const SendersOptions& o) {
  if (!o.resolver.empty()) RAPPORT_TRY(ValidateResolver(o.resolver));
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_TRY(AddDemoDkimKey(config, /*create=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SenderIdentity> senders, store->senders().List(ws.id));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<DkimKeyInfo> keys, DkimKeyInfos(config));

  std::set<std::string> domains;
  for (const SenderIdentity& s : senders) domains.insert(s.Domain());
  if (domains.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(compose::Sender configured, BuildSender(config));
    domains.insert(configured.from.address.domain);
    std::cout << "workspace " << ws.name << " has no senders: checking the configured [sender] ("
              << EscapeForTerminal(config.sender.from) << ")\n";
  }
  bool one_click = config.server.public_url.starts_with("https://");
  bool all_good = true;
  for (const std::string& domain : domains) {
    DomainPlan plan = PlanDomain(domain, keys, o.dmarc_rua);
    std::cout << "\n== " << EscapeForTerminal(domain) << " ==\n";
    for (const SenderIdentity& s : senders)
      if (s.Domain() == domain)
        std::cout << "   sender " << s.id << ": " << EscapeForTerminal(s.email) << "\n";
    for (const DnsRecord& r : plan.records) {
      std::cout << "\n"
                << RecordKindName(r.kind) << ":\n  " << EscapeForTerminal(ZoneLine(r)) << "\n  # "
                << EscapeForTerminal(r.note) << "\n";
      if (o.resolver.empty()) continue;
      auto found = LookupTxt(o.resolver, r.name);
      if (!found.ok()) {
        all_good = false;
        std::cout << "  DNS: not checked: " << EscapeForTerminal(found.error().message) << "\n";
        continue;
      }
      TxtCheck c = CheckTxt(r, *found);
      all_good = all_good && (c.outcome == TxtOutcome::kMatches || c.outcome == TxtOutcome::kPresent);
      // A placeholder DKIM record means rapport has no key: never good, whatever DNS holds.
      if (r.kind == RecordKind::kDkim && r.placeholder) all_good = false;
      std::cout << "  DNS (" << EscapeForTerminal(o.resolver) << "): " << TxtOutcomeName(c.outcome);
      if (!c.found.empty()) std::cout << ": \"" << EscapeForTerminal(c.found) << "\"";
      if (!c.detail.empty()) std::cout << " (" << EscapeForTerminal(c.detail) << ")";
      std::cout << "\n";
    }
    std::cout << "\nGmail and Yahoo bulk-sender requirements:\n";
    for (const std::string& line : BulkSenderChecklist(plan, one_click)) std::cout << "  " << line << "\n";
  }
  if (!o.resolver.empty())
    std::cout << "\n"
              << (all_good ? "every record is published" : "some records are missing or differ") << "\n";
  return all_good;
}

}  // namespace

std::vector<std::string> DkimDomains(const Config& config) {
  std::vector<std::string> out;
  for (const DkimConfig& d : config.dkim) out.push_back(d.domain);
  return out;
}

Result<std::vector<DkimKeyInfo>> DkimKeyInfos(const Config& config) {
  std::vector<DkimKeyInfo> out;
  for (size_t i = 0; i < config.dkim.size(); ++i) {
    const DkimConfig& d = config.dkim[i];
    std::string field = fmt::format("dkim[{}]", i);
    auto algorithm = mail::ParseDkimAlgorithm(d.algorithm);
    if (!algorithm) return Error::Invalid(field + ".algorithm", "unknown DKIM algorithm");
    auto key = mail::LoadDkimKey(d.domain, d.selector, d.key_file, *algorithm);
    if (!key.ok())
      return Error::Invalid(field + ".key_file", field + " (" + d.key_file + "): " + key.error().message);
    RAPPORT_ASSIGN_OR_RETURN(std::string txt, mail::DkimTxtValue(*key));
    out.push_back({d.domain, d.selector, std::move(txt)});
  }
  return out;
}

Status AddDemoDkimKey(Config& config, bool create) {
  std::string domain(kDemoSenderDomain);
  if (DkimCovers(DkimDomains(config), domain)) return {};
  std::filesystem::path path = std::filesystem::path(config.data_dir) / ("demo-dkim-" + domain + ".pem");
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (!exists) {
    if (!create) return {};
    std::filesystem::create_directories(config.data_dir, ec);
    RAPPORT_ASSIGN_OR_RETURN(std::string pem, mail::GenerateDkimKeyPem(mail::DkimAlgorithm::kEd25519Sha256));
    RAPPORT_TRY(WriteNewPrivateFile(path.string(), pem));
  }
  DkimConfig demo;
  demo.domain = domain;
  demo.selector = "demo";
  demo.key_file = path.string();
  demo.algorithm = "ed25519-sha256";
  config.dkim.push_back(std::move(demo));
  return {};
}

void RegisterSendersCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<SendersOptions>();
  CLI::App* senders = root.add_subcommand("senders", "Sender identities and the DNS records they need");
  senders->require_subcommand(1);

  CLI::App* list = senders->add_subcommand("list", "List the workspace's senders");
  list->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*list, options->common);
  AddDatabaseOption(*list, options->common);
  list->callback([options, &exit_code] {
    Status s = List(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });

  CLI::App* add = senders->add_subcommand("add", "Add a sender identity");
  add->add_option("--email", options->input.email, "the From address")->required();
  add->add_option("--name", options->input.name, "the From display name");
  add->add_option("--reply-to", options->input.reply_to_email, "the Reply-To address");
  add->add_option("--reply-to-name", options->input.reply_to_name, "the Reply-To display name");
  add->add_option("--postal-address", options->input.postal_address,
                  "the physical postal address, one line (required for marketing mail: CAN-SPAM)");
  add->add_flag("--default", options->input.is_default, "make it the workspace's default sender");
  add->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*add, options->common);
  AddDatabaseOption(*add, options->common);
  add->callback([options, &exit_code] {
    Status s = Add(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });

  CLI::App* check = senders->add_subcommand(
      "check",
      "Print the DNS records (DKIM, SPF, DMARC) each sender domain needs; check them with --resolver");
  check->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  check->add_option("--resolver", options->resolver,
                    "a DNS server (IPv4[:port]) to ask whether the records are published");
  check->add_option("--dmarc-rua", options->dmarc_rua,
                    "where DMARC aggregate reports go (default mailto:dmarc-reports@<domain>)");
  AddCommonOptions(*check, options->common);
  AddDatabaseOption(*check, options->common);
  check->callback([options, &exit_code] {
    Result<bool> r = Check(*options);
    exit_code = r.ok() ? (*r ? 0 : 1) : PrintError(r.error());
  });
}

}  // namespace rapport::app
