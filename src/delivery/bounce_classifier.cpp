#include "delivery/bounce_classifier.h"

#include <array>
#include <optional>

namespace rapport::delivery {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `needle` is lower-case.
bool Contains(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (size_t i = 0; i + needle.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && Lower(text[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

template <size_t N>
bool ContainsAny(std::string_view text, const std::array<std::string_view, N>& needles) {
  for (std::string_view n : needles)
    if (Contains(text, n)) return true;
  return false;
}

// Block lists, spam and reputation: about the sending host or its mail, never the address.
// "tss0" is Yahoo's [TSS0x] deferral family; S3140/S3150 are Outlook's block list codes.
constexpr std::array<std::string_view, 21> kPolicyTexts = {
    "spam",     "blocked", "blacklist", "blocklist",  "block list",          "denylist",     "dnsbl",
    "spamhaus", "spamcop", "barracuda", "reputation", "unsolicited",         "policy",       "prohibited",
    "tss0",     "s3140",   "s3150",     "banned",     "rejected by network", "poor sending", "bulk mail"};
// The sender's identity: SPF, DKIM, DMARC, its address or domain, relaying and AUTH.
constexpr std::array<std::string_view, 14> kSenderTexts = {"spf",
                                                           "dkim",
                                                           "dmarc",
                                                           "unauthenticated",
                                                           "sender address",
                                                           "sender verify",
                                                           "sender domain",
                                                           "domain of sender",
                                                           "sender rejected",
                                                           "authentication required",
                                                           "not authenticated",
                                                           "relay access denied",
                                                           "relaying denied",
                                                           "relay not permitted"};
constexpr std::array<std::string_view, 7> kFullTexts = {
    "mailbox full",   "mailbox is full",    "quota",       "insufficient storage",
    "out of storage", "storage allocation", "mailbox size"};
constexpr std::array<std::string_view, 9> kSizeTexts = {"too large",
                                                        "too big",
                                                        "size limit",
                                                        "message size",
                                                        "size exceeds",
                                                        "exceeds the maximum size",
                                                        "maximum allowed size",
                                                        "message length",
                                                        "exceeds the size"};
constexpr std::array<std::string_view, 6> kContentTexts = {"virus",   "malware",    "infected",
                                                           "content", "attachment", "phishing"};
constexpr std::array<std::string_view, 5> kDisabledTexts = {"disabled", "suspended", "inactive",
                                                            "deactivated", "account is locked"};
// "No such user" and its many spellings (Gmail: "The email account that you tried to reach does
// not exist"; Outlook: "RecipientNotFound", "Requested action not taken: mailbox unavailable";
// Yahoo: "This user doesn't have a yahoo.com account", "mailbox not found").
constexpr std::array<std::string_view, 31> kAddressTexts = {"no such user",
                                                            "user unknown",
                                                            "unknown user",
                                                            "no such recipient",
                                                            "unknown recipient",
                                                            "recipient unknown",
                                                            "recipient not found",
                                                            "recipientnotfound",
                                                            "recipient address rejected",
                                                            "recipient rejected",
                                                            "invalid recipient",
                                                            "bad recipient",
                                                            "user not found",
                                                            "mailbox unavailable",
                                                            "mailbox not found",
                                                            "mailbox does not exist",
                                                            "mailbox doesn't exist",
                                                            "no mailbox",
                                                            "not a valid mailbox",
                                                            "invalid mailbox",
                                                            "does not exist",
                                                            "doesn't exist",
                                                            "doesn't have a",
                                                            "does not have a",
                                                            "user not local",
                                                            "mailbox name not allowed",
                                                            "no such domain",
                                                            "domain not found",
                                                            "domain name not found",
                                                            "unrouteable address",
                                                            "address unknown"};
constexpr std::array<std::string_view, 7> kThrottleTexts = {
    "rate limit",           "too many", "unusual rate", "too quickly", "try again later",
    "temporarily deferred", "slow down"};

// What the text alone says, or nullopt.
std::optional<DeliveryFailure> ByText(std::string_view text) {
  if (ContainsAny(text, kPolicyTexts)) return DeliveryFailure::kPolicyBlock;
  if (ContainsAny(text, kSenderTexts)) return DeliveryFailure::kSenderAuth;
  if (ContainsAny(text, kFullTexts)) return DeliveryFailure::kMailboxFull;
  if (ContainsAny(text, kSizeTexts)) return DeliveryFailure::kMessageSize;
  if (ContainsAny(text, kContentTexts)) return DeliveryFailure::kContent;
  if (ContainsAny(text, kDisabledTexts)) return DeliveryFailure::kMailboxDisabled;
  if (ContainsAny(text, kAddressTexts)) return DeliveryFailure::kRecipientAddress;
  return std::nullopt;
}

// Subject and detail of "c.s.d"; false when absent or malformed.
bool SplitEnhanced(std::string_view e, int& subject, int& detail) {
  if (e.size() < 5 || e[1] != '.') return false;
  size_t i = 2;
  auto number = [&](int& out) {
    size_t start = i;
    out = 0;
    while (i < e.size() && e[i] >= '0' && e[i] <= '9' && i - start < 3) out = out * 10 + (e[i++] - '0');
    return i > start;
  };
  if (!number(subject) || i >= e.size() || e[i] != '.') return false;
  ++i;
  return number(detail) && i == e.size();
}

// A permanent (5xx) reply.
DeliveryFailure Permanent(int code, bool has, int subject, int detail, std::string_view text, SmtpStep step) {
  auto text_or = [&](DeliveryFailure otherwise) { return ByText(text).value_or(otherwise); };
  if (!has) {
    if (auto f = ByText(text)) return *f;
    // RFC 5321: 552 is "exceeded storage allocation": a full mailbox for a recipient, a message
    // too large after the data.
    if (code == 552)
      return step == SmtpStep::kRcptTo ? DeliveryFailure::kMailboxFull : DeliveryFailure::kMessageSize;
    return DeliveryFailure::kOther;
  }
  switch (subject) {
    case 1:
      if (detail == 7 || detail == 8 || ContainsAny(text, kSenderTexts)) return DeliveryFailure::kSenderAuth;
      if (detail == 0) return text_or(DeliveryFailure::kOther);
      return DeliveryFailure::kRecipientAddress;
    case 2:
      if (detail == 1) return DeliveryFailure::kMailboxDisabled;
      if (detail == 2) return DeliveryFailure::kMailboxFull;
      if (detail == 3) return DeliveryFailure::kMessageSize;
      return text_or(DeliveryFailure::kOther);
    case 3:
      if (detail == 4) return DeliveryFailure::kMessageSize;
      return text_or(DeliveryFailure::kOther);
    case 4:  // routing; Outlook says 5.4.1 "Recipient address rejected: Access denied" for no such user
      return text_or(DeliveryFailure::kOther);
    case 5:
      if (detail == 0) return text_or(DeliveryFailure::kProtocol);
      return DeliveryFailure::kProtocol;
    case 6: return DeliveryFailure::kContent;
    case 7:
      if (detail == 8 || (detail >= 20 && detail <= 27 && detail != 25) || ContainsAny(text, kSenderTexts))
        return DeliveryFailure::kSenderAuth;
      if (detail == 0 || detail == 9) {
        // Generic: the text may say more, but never "the address" under a security code.
        DeliveryFailure f = text_or(DeliveryFailure::kPolicyBlock);
        return f == DeliveryFailure::kRecipientAddress ? DeliveryFailure::kPolicyBlock : f;
      }
      return DeliveryFailure::kPolicyBlock;
    default: return text_or(DeliveryFailure::kOther);
  }
}

// A temporary (4xx) reply: deferred whatever it says; the class tells why.
DeliveryFailure Temporary(int code, bool has, int subject, int detail, std::string_view text) {
  if (code == 421) return DeliveryFailure::kThrottled;
  if (has && subject == 2 && detail == 2) return DeliveryFailure::kMailboxFull;
  if (has &&
      ((subject == 7 && detail == 28) || (subject == 3 && detail == 2) || (subject == 4 && detail == 5)))
    return DeliveryFailure::kThrottled;
  if (ContainsAny(text, kThrottleTexts)) return DeliveryFailure::kThrottled;
  if (!has && ContainsAny(text, kFullTexts)) return DeliveryFailure::kMailboxFull;
  return DeliveryFailure::kTransient;
}

}  // namespace

DeliveryFailure ClassifyReply(int code, std::string_view enhanced_code, std::string_view text,
                              SmtpStep step) {
  if (code >= 200 && code < 300) return DeliveryFailure::kNone;
  if (code < 400 || code >= 600) return DeliveryFailure::kConnection;
  int subject = -1, detail = -1;
  // An enhanced code of another class than the reply's (a "550 4.1.1") is ignored.
  const bool has = !enhanced_code.empty() && enhanced_code[0] == static_cast<char>('0' + code / 100) &&
                   SplitEnhanced(enhanced_code, subject, detail);
  if (code < 500) return Temporary(code, has, subject, detail, text);
  DeliveryFailure f = Permanent(code, has, subject, detail, text, step);
  if (f == DeliveryFailure::kRecipientAddress) {
    switch (step) {
      case SmtpStep::kMailFrom: return DeliveryFailure::kSenderAuth;  // the sender's address
      case SmtpStep::kConnect:
      case SmtpStep::kGreeting:
      case SmtpStep::kEhlo:
      case SmtpStep::kStartTls:
      case SmtpStep::kAuth:
      case SmtpStep::kRset: return DeliveryFailure::kOther;
      default: break;
    }
  }
  return f;
}

}  // namespace rapport::delivery
