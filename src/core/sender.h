// Sender identities: who a workspace's mail is from. A workspace has any number of senders (a
// newsletter's "Northwind Outfitters <news@northwind.example>", the receipts' "Northwind
// <orders@northwind.example>"); at most one is its default. A send names one by id (the API's
// "from", a journey step's "sender", a campaign's sender) or gets the default; with no sender
// at all, the server's configured [sender] is used (docs/senders.md).
//
// The marketing rules a sender must meet (MarketingRefusal): a physical postal address (CAN-SPAM
// requires one in every commercial message; compose/ puts it in the footer when the template
// does not) and a DKIM key for its domain (Gmail and Yahoo refuse bulk mail that is not
// DKIM-signed in alignment with its From domain). Transactional mail needs neither.
//
// Pure values and rules; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "core/outbox.h"

namespace rapport {

using SenderId = int64_t;

inline constexpr size_t kMaxSenderNameBytes = 200;
inline constexpr size_t kMaxPostalAddressBytes = 500;

struct SenderIdentity {
  SenderId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;            // the From display name ("Northwind Outfitters"); may be empty
  std::string email;           // the From address, normalized (core/email_address.h)
  std::string reply_to_email;  // empty: no Reply-To
  std::string reply_to_name;
  std::string postal_address;  // one line ("Northwind Outfitters, 12 Harbour St, Portland, ME 04101, USA")
  bool is_default = false;     // at most one per workspace
  Timestamp created_at{};
  Timestamp updated_at{};

  // The domain of the From address ("northwind.example").
  std::string Domain() const;
};

// Checks and normalizes in place: the From address (required) and the Reply-To address (when
// given) go through ParseEmailAddress (IDN domains to ASCII); a Reply-To name needs a Reply-To
// address; names and the postal address are valid UTF-8 without control characters (no CR or
// LF anywhere: every field may end up in a header or a one-line footer) and within their
// sizes. kInvalid naming the field ("email", "name", "reply_to.email", "reply_to.name",
// "postal_address").
Status ValidateSender(SenderIdentity& sender);

// True when `domain` or one of its parents is among `dkim_domains` (the keyring's rule:
// mail/dkim_keyring.h signs bounces.example.com with example.com's keys). Case-insensitive.
bool DkimCovers(std::span<const std::string> dkim_domains, std::string_view domain);

// The DNS name of a DKIM key's TXT record: "<selector>._domainkey.<domain>".
std::string DkimRecordName(std::string_view selector, std::string_view domain);

// The selector suggested for a domain that has no key yet ("rapport").
inline constexpr std::string_view kSuggestedDkimSelector = "rapport";

// Why `sender` may not send mail of class `c`, as kInvalid naming "from" with a message that
// says what to do; OK when it may. Marketing mail needs a postal address and a DKIM key of the
// sender's domain (DkimCovers); transactional mail is never refused here.
Status MarketingRefusal(const SenderIdentity& sender, MessageClass c,
                        std::span<const std::string> dkim_domains);

// The senders facet of the store (table `senders`, migration v15). Thread-safe like every facet.
// The From address is unique per workspace (case-insensitively, as contacts' are: its identity
// key); the first sender of a workspace becomes its default; making one the default (Create or
// Update with is_default) takes the flag from the previous one in the same transaction; deleting
// the default leaves the workspace without one (sends then use the configured [sender]).
// Errors: kInvalid from ValidateSender, kConflict (field "email") for a taken address,
// kNotFound for unknown ids or another workspace's sender.
class SenderStore {
 public:
  virtual ~SenderStore() = default;
  virtual Result<SenderIdentity> Create(const SenderIdentity& sender) = 0;
  virtual Result<SenderIdentity> Get(WorkspaceId ws, SenderId id) = 0;
  // By From address (any letter case of it).
  virtual Result<SenderIdentity> GetByEmail(WorkspaceId ws, std::string_view email) = 0;
  // The workspace's default sender, if it has one.
  virtual Result<std::optional<SenderIdentity>> GetDefault(WorkspaceId ws) = 0;
  virtual Result<std::vector<SenderIdentity>> List(WorkspaceId ws) = 0;  // by id
  // Replaces every field but the id, workspace and created_at. Clearing is_default of the
  // default leaves the workspace without one.
  virtual Result<SenderIdentity> Update(const SenderIdentity& sender) = 0;
  virtual Status Delete(WorkspaceId ws, SenderId id) = 0;
};

}  // namespace rapport
