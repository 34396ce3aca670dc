#include "app/sender_dns.h"

#include <fmt/format.h>

#include <map>

#include "core/sender.h"

namespace rapport::app {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Tag-value list (RFC 6376 3.2; DMARC uses the same form): tag names lower-cased, values with
// their folding whitespace removed.
std::map<std::string, std::string> Tags(std::string_view text) {
  std::map<std::string, std::string> tags;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    std::string_view part =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      std::string value;
      for (char c : part.substr(eq + 1))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') value.push_back(c);
      tags[Lower(Trim(part.substr(0, eq)))] = value;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return tags;
}

bool StartsWithWord(std::string_view text, std::string_view word) {
  std::string t = Lower(Trim(text));
  std::string w = Lower(word);
  return t.size() >= w.size() && t.compare(0, w.size(), w) == 0 &&
         (t.size() == w.size() || t[w.size()] == ' ' || t[w.size()] == ';');
}

}  // namespace

std::string_view RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kDkim: return "DKIM";
    case RecordKind::kSpf: return "SPF";
    case RecordKind::kDmarc: return "DMARC";
  }
  return "?";
}

std::string_view TxtOutcomeName(TxtOutcome outcome) {
  switch (outcome) {
    case TxtOutcome::kMissing: return "missing";
    case TxtOutcome::kPresent: return "present";
    case TxtOutcome::kMatches: return "matches";
    case TxtOutcome::kDiffers: return "differs";
  }
  return "?";
}

DomainPlan PlanDomain(std::string_view domain, std::span<const DkimKeyInfo> keys,
                      std::string_view dmarc_rua) {
  DomainPlan plan;
  plan.domain = Lower(domain);
  for (const DkimKeyInfo& k : keys) {
    std::vector<std::string> one = {k.domain};
    if (!DkimCovers(one, plan.domain)) continue;
    plan.dkim_configured = true;
    DnsRecord r;
    r.kind = RecordKind::kDkim;
    r.name = DkimRecordName(k.selector, Lower(k.domain));
    r.value = k.txt_value;
    r.note =
        fmt::format("the public half of the [[dkim]] key (domain {}, selector {}) that signs mail from {}",
                    k.domain, k.selector, plan.domain);
    plan.records.push_back(std::move(r));
  }
  if (!plan.dkim_configured) {
    DnsRecord r;
    r.kind = RecordKind::kDkim;
    r.name = DkimRecordName(kSuggestedDkimSelector, plan.domain);
    r.value = "v=DKIM1; k=rsa; p=<PUBLIC-KEY>";
    r.placeholder = true;
    r.note = fmt::format(
        "NO KEY IS CONFIGURED for {0}: marketing mail from it is refused. Run `rapport dkim keygen --domain "
        "{0} "
        "--selector {1} --out {0}.pem`, add the [[dkim]] entry it prints to the config, and publish the "
        "record "
        "it prints (then run this check again)",
        plan.domain, kSuggestedDkimSelector);
    plan.records.push_back(std::move(r));
  }
  DnsRecord spf;
  spf.kind = RecordKind::kSpf;
  spf.name = plan.domain;
  spf.value = "v=spf1 ip4:<SENDING-IP> ~all";
  spf.placeholder = true;
  spf.note =
      "replace <SENDING-IP> with the public address your mail leaves from (ip4:/ip6: for rapport's own host "
      "or your MTA, or include:<relay's SPF domain> for a relay); one SPF record per name: merge it into an "
      "existing one; when [sender] bounce_address is on another domain, publish it there too (SPF checks the "
      "envelope sender)";
  plan.records.push_back(std::move(spf));
  DnsRecord dmarc;
  dmarc.kind = RecordKind::kDmarc;
  dmarc.name = "_dmarc." + plan.domain;
  std::string rua = dmarc_rua.empty() ? "mailto:dmarc-reports@" + plan.domain : std::string(dmarc_rua);
  dmarc.value = "v=DMARC1; p=none; rua=" + rua + "; adkim=r; aspf=r";
  dmarc.note =
      "p=none only monitors: read the aggregate reports sent to rua, then move to p=quarantine and p=reject "
      "once every legitimate source passes";
  plan.records.push_back(std::move(dmarc));
  return plan;
}

std::string ZoneLine(const DnsRecord& record) {
  std::string out = record.name + ". IN TXT";
  for (size_t i = 0; i < record.value.size() || i == 0; i += 255) {
    out += " \"";
    for (char c : record.value.substr(i, 255)) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out += "\"";
    if (record.value.empty()) break;
  }
  return out;
}

TxtCheck CheckTxt(const DnsRecord& record, const std::vector<std::string>& found) {
  TxtCheck out;
  switch (record.kind) {
    case RecordKind::kDkim: {
      auto want = Tags(record.value);
      std::string want_k = want.count("k") ? Lower(want["k"]) : "rsa";
      for (const std::string& txt : found) {
        auto tags = Tags(txt);
        if (!tags.count("p")) continue;
        if (tags.count("v") && tags["v"] != "DKIM1") continue;
        out.found = txt;
        std::string k = tags.count("k") ? Lower(tags["k"]) : "rsa";
        if (record.placeholder) {
          out.outcome = TxtOutcome::kPresent;
          out.detail =
              "a key is published, but rapport has no [[dkim]] key for this domain: its mail is unsigned";
          return out;
        }
        if (tags["p"] == want["p"] && k == want_k) {
          out.outcome = TxtOutcome::kMatches;
          return out;
        }
        out.outcome = TxtOutcome::kDiffers;
        out.detail = tags["p"].empty() ? "the published key is revoked (empty p=)"
                                       : "the published key is not the configured key's public half";
      }
      return out;
    }
    case RecordKind::kSpf: {
      std::vector<const std::string*> spf;
      for (const std::string& txt : found)
        if (StartsWithWord(txt, "v=spf1")) spf.push_back(&txt);
      if (spf.empty()) return out;
      out.found = *spf.front();
      if (spf.size() > 1) {
        out.outcome = TxtOutcome::kDiffers;
        out.detail = fmt::format(
            "{} SPF records: receivers treat that as a permanent error; merge them into one", spf.size());
        return out;
      }
      std::string lower = Lower(Trim(out.found));
      if (lower.ends_with("+all") || lower.ends_with(" all") || lower == "v=spf1 all") {
        out.outcome = TxtOutcome::kDiffers;
        out.detail = "it ends in +all: anyone may send as this domain";
        return out;
      }
      out.outcome = TxtOutcome::kPresent;
      out.detail = "check that it names the address your mail leaves from";
      return out;
    }
    case RecordKind::kDmarc: {
      std::vector<const std::string*> dmarc;
      for (const std::string& txt : found)
        if (StartsWithWord(txt, "v=DMARC1")) dmarc.push_back(&txt);
      if (dmarc.empty()) return out;
      out.found = *dmarc.front();
      if (dmarc.size() > 1) {
        out.outcome = TxtOutcome::kDiffers;
        out.detail = "more than one DMARC record: receivers ignore them all; keep one";
        return out;
      }
      auto tags = Tags(out.found);
      if (!tags.count("p")) {
        out.outcome = TxtOutcome::kDiffers;
        out.detail = "it has no p= policy tag";
        return out;
      }
      out.outcome = TxtOutcome::kPresent;
      out.detail =
          "policy p=" + tags["p"] + (tags.count("rua") ? ", reports to " + tags["rua"] : ", no rua reports");
      return out;
    }
  }
  return out;
}

std::vector<std::string> BulkSenderChecklist(const DomainPlan& plan, bool one_click_unsubscribe) {
  auto box = [](bool done) { return std::string(done ? "[x] " : "[ ] "); };
  std::vector<std::string> lines;
  lines.push_back(box(plan.dkim_configured) +
                  fmt::format("DKIM: mail from {} is signed by a key of its own domain (aligned with From)",
                              plan.domain));
  if (!plan.dkim_configured) lines.back() += ": no [[dkim]] key covers it";
  lines.push_back(box(false) + "SPF: the sending host is in the SPF record of the envelope sender's domain");
  lines.push_back(box(false) + fmt::format("DMARC: a record at _dmarc.{} (p=none at least)", plan.domain));
  lines.push_back(
      box(false) +
      "Alignment: the From domain matches the DKIM d= domain (rapport signs with the From domain's "
      "key) or the SPF domain");
  lines.push_back(
      box(one_click_unsubscribe) +
      "One-click unsubscribe (RFC 8058): rapport adds List-Unsubscribe and List-Unsubscribe-Post to "
      "every marketing message (needs an https server.public_url)");
  lines.push_back(box(false) +
                  "Spam rate under 0.3% (keep it under 0.1%): watch GET /api/v1/deliverability and Google "
                  "Postmaster Tools");
  lines.push_back(
      box(false) +
      "Forward and reverse DNS: the sending IP has a PTR record whose name resolves back to that IP");
  lines.push_back(box(false) + "TLS: the sending host offers STARTTLS to receivers");
  return lines;
}

}  // namespace rapport::app
