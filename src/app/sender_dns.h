// The DNS records a sender domain needs for mail to be delivered by the large mailbox providers,
// and how a record found in DNS compares with the one to publish. Pure; thread-safe. Used by
// `rapport senders check` (senders_command.h; docs/senders.md).
//
// For each domain: its DKIM keys' TXT records (<selector>._domainkey.<key's domain>, from the
// configured [[dkim]] keys that sign for it: the domain or a parent, as the keyring signs), an
// SPF record (v=spf1 with a placeholder for the sending host: rapport does not know which
// address its mail leaves from once it passes a relay) and a DMARC record (_dmarc.<domain>,
// p=none to start, with aggregate reports to rua).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::app {

// A configured DKIM key as DNS sees it: where its record goes and what it says.
struct DkimKeyInfo {
  std::string domain;     // the key's d= domain
  std::string selector;   // s=
  std::string txt_value;  // "v=DKIM1; k=...; p=..."
};

enum class RecordKind { kDkim, kSpf, kDmarc };
std::string_view RecordKindName(RecordKind kind);  // "DKIM", "SPF", "DMARC"

struct DnsRecord {
  RecordKind kind = RecordKind::kDkim;
  std::string name;   // the owner name, no trailing dot ("rapport._domainkey.shop.example")
  std::string value;  // the TXT text to publish
  std::string note;   // what it is for, and what to fill in
  // The value holds a part only the operator knows (<...>): a lookup can find such a record but
  // not compare it.
  bool placeholder = false;
};

struct DomainPlan {
  std::string domain;
  bool dkim_configured = false;  // a [[dkim]] key signs for this domain
  std::vector<DnsRecord> records;
};

// The records `domain` needs. `dmarc_rua` is where aggregate reports go ("mailto:..."); empty:
// dmarc-reports@<domain>.
DomainPlan PlanDomain(std::string_view domain, std::span<const DkimKeyInfo> keys,
                      std::string_view dmarc_rua = {});

// The zone-file line of a record: `name. IN TXT "..." "..."` (strings of at most 255 bytes).
std::string ZoneLine(const DnsRecord& record);

enum class TxtOutcome {
  kMissing,  // no record of its kind at the name
  kPresent,  // one is there (a placeholder record: its value cannot be compared)
  kMatches,  // it says what it should
  kDiffers,  // it is there but wrong (a different key, two SPF records, "+all"...)
};
std::string_view TxtOutcomeName(TxtOutcome outcome);  // "missing", "present", "matches", "differs"

struct TxtCheck {
  TxtOutcome outcome = TxtOutcome::kMissing;
  std::string found;   // the record of its kind found, when one was
  std::string detail;  // why it differs, or what to check by hand
};

// Compares the TXT records found at record.name (each one's strings already joined) with the
// record to publish. DKIM: the same public key (p=) and key type (k=, default rsa). SPF: exactly
// one "v=spf1" record, not ending in "+all". DMARC: exactly one "v=DMARC1" record with a p= tag.
TxtCheck CheckTxt(const DnsRecord& record, const std::vector<std::string>& found);

// The Gmail and Yahoo bulk-sender requirements (February 2024) as checklist lines, "[x] ..."
// when rapport's configuration meets the item and "[ ] ..." when the operator must see to it.
std::vector<std::string> BulkSenderChecklist(const DomainPlan& plan, bool one_click_unsubscribe);

}  // namespace rapport::app
