// `rapport senders list|add|check`: a workspace's sender identities (core/sender.h,
// docs/senders.md) from the command line, and the DNS records their domains need.
//
//   rapport senders list [--workspace W]
//   rapport senders add --email news@shop.example --name "Shop" --postal-address "..." [--reply-to A]
//                       [--reply-to-name N] [--default] [--workspace W]
//   rapport senders check [--workspace W] [--resolver IP[:port]] [--dmarc-rua mailto:...]
//
// `check` prints, for each domain the workspace's senders send from (and the configured
// [sender]'s when the workspace has none), the DKIM, SPF and DMARC records to publish as
// zone-file lines (app/sender_dns.h) and the Gmail/Yahoo bulk-sender checklist. With
// --resolver it asks that DNS server for each record and prints whether it is there and
// matches; the exit code is then 1 when a record is missing or differs, 0 otherwise.
//
// Also the DKIM facts the composition root needs: the configured keys' domains (the send
// service refuses marketing mail from other domains) and the demo's key.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "app/config.h"
#include "app/sender_dns.h"
#include "core/error.h"

namespace rapport::app {

void RegisterSendersCommand(CLI::App& root, int& exit_code);

// The domains of the [[dkim]] entries (send::SendOptions::dkim_domains).
std::vector<std::string> DkimDomains(const Config& config);

// The configured keys as DNS records see them (loads each key file; kInvalid naming the entry).
Result<std::vector<DkimKeyInfo>> DkimKeyInfos(const Config& config);

// The demo's DKIM key: `serve --demo` signs the demo senders' mail (domain kDemoSenderDomain,
// selector "demo") with an Ed25519 key kept in <data_dir>/demo-dkim-<domain>.pem (mode 0600),
// made on first use when `create`. Adds its [[dkim]] entry to `config` when the file exists and
// no configured key covers the demo domain already; changes nothing otherwise.
Status AddDemoDkimKey(Config& config, bool create);

}  // namespace rapport::app
