// The one send service: everything between "send this template to this person" and a durable
// message in the outbox. The API (POST /api/v1/messages), journeys and campaigns all send
// through it, so they share one set of rules:
//   1. idempotency: a retried request with the same key returns the first message (replayed),
//      or kConflict when the key was used for another template, contact or class;
//   2. extra headers are checked (no CR/LF, no header rapport sets itself);
//   3. marketing mail needs an https public URL (its one-click unsubscribe link, RFC 8058);
//   3b. the sender: the named sender identity, else the workspace's default, else the configured
//       one; marketing mail from an identity needs its postal address and a DKIM key of its
//       domain (core/sender.h), else kInvalid naming "from" says what to publish;
//   4. the template is resolved and compiled once per saved version (TemplateCache);
//   5. the contact is resolved (created when named by an unknown email);
//   6. the MailRule decides whether this contact may get this mail now (kSuppressed otherwise);
//   6b. marketing mail asks the frequency governor (campaign/governor.h, docs/governor.md) with
//      the workspace's policy and the contact's recent marketing messages: allowed, deferred
//      (queued with next_attempt_at = the allowed moment) or skipped (recorded kSuppressed);
//      either way with the decision's reason as last_reply and a "message.governed" event.
//      A lower-priority queued message that yields its place is moved or skipped first
//      (GovernorStore::Yield). Governed decisions and their enqueues are serialized within the
//      process, so two sends to one contact cannot both take its last slot;
//   7. the signed unsubscribe link, the composition (Liquid -> MIME) and the enqueue.
//      A message with an HTML part gets a random tracking key, a web-view link
//      (`view_in_browser_url`) and, unless tracking is off for its template, its topic or its
//      contact (attribute `tracking: false`), an open pixel and tracked links
//      (tracking/link_rewriter.h); its links and HTML are stored with it (MessageTracking).
// After a message is queued, `on_queued` is told (it wakes the delivery worker).
//
// SendBulk queues one template to many contacts in one store transaction (campaigns): every
// recipient is checked by the same rule, and one refused or failing recipient does not stop
// the others.
//
// Thread-safe. Store, Clock, LinkSigner and MailRule must outlive the service. Errors: kInvalid
// (naming the field), kNotFound (template or contact), kConflict (idempotency key),
// kSuppressed (the rule refused: nothing queued), store errors as they come.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "campaign/governor.h"
#include "compose/composer.h"
#include "core/clock.h"
#include "core/mail_rule.h"
#include "core/store.h"
#include "send/send_request.h"
#include "send/template_cache.h"
#include "tracking/link_signer.h"

namespace rapport::send {

struct SendOptions {
  compose::Sender sender;
  std::string public_url;  // base of signed links ("https://mail.example.com")
  std::function<void(MessageClass)> on_queued;
  // The domains of the configured DKIM keys ([[dkim]]): marketing mail from a sender identity
  // whose domain (or a parent) is not among them is refused (core/sender.h, MarketingRefusal).
  // The configured `sender` above is not checked (docs/senders.md says why).
  std::vector<std::string> dkim_domains;
};

// Who a message is from, as resolved for one send: the sender for the MIME writer and the
// `sender` template variables (name, email, reply_to, postal_address).
struct ResolvedSender {
  compose::Sender sender;
  std::string postal_address;
  boost::json::object variables;
};

struct SendOutcome {
  OutboxMessage message;  // as queued (mime included)
  bool replayed = false;  // an earlier send with the same idempotency key
};

// One recipient of a bulk send.
struct BulkRecipient {
  ContactId contact_id = 0;
  boost::json::object data;                    // merged over the bulk's shared data
  std::optional<std::string> idempotency_key;  // e.g. "campaign-7:contact-42"
};

struct BulkSend {
  std::optional<TemplateId> template_id;
  std::string template_name;
  MessageClass message_class = MessageClass::kMarketing;
  std::optional<std::string> topic;
  boost::json::object data;  // shared by every recipient
  std::vector<BulkRecipient> recipients;
  std::optional<int64_t> sender_id;  // as SendRequest::sender_id
  Governance governance;             // marketing mail only
  // Liquid sources that replace the template's subject / preheader for this send (a campaign's
  // A/B variant); compiled once per template version and variant (TemplateCache::CompiledVariant).
  std::optional<std::string> subject_override;
  std::optional<std::string> preheader_override;
  // The From display name for this send (a campaign's "from name" variant), over the sender's.
  std::optional<std::string> from_name_override;
};

// The sender a message of class `c` goes from (rule 3b): `id`'s identity (kInvalid "from" when the
// workspace has none of that id), else the workspace's default identity, else nullopt (the
// configured [sender]); an identity MarketingRefusal refuses for `c` is kInvalid with its reason.
// SendService uses it for every message; `rapport campaigns send` checks a campaign's sender with it.
Result<std::optional<SenderIdentity>> ChosenSender(SenderStore& senders,
                                                   std::span<const std::string> dkim_domains, WorkspaceId ws,
                                                   const std::optional<int64_t>& id, MessageClass c);

class SendService {
 public:
  SendService(Store& store, const Clock& clock, const tracking::LinkSigner& links, SendOptions options,
              const MailRule& rule = DefaultMailRule());
  SendService(const SendService&) = delete;
  SendService& operator=(const SendService&) = delete;

  Result<SendOutcome> Send(WorkspaceId ws, SendRequest request);
  // Send() for each request (POST /api/v1/messages/batch): one result per request, in order,
  // each checked by the same rules; the governor decides the batch in order and every message
  // is queued in one store transaction. One refused or failing request does not stop the others;
  // the call fails only when the store does.
  Result<std::vector<Result<SendOutcome>>> SendMany(WorkspaceId ws, std::vector<SendRequest> requests);
  // One result per recipient, in order; the call fails only when the template or the store does.
  Result<std::vector<Result<SendOutcome>>> SendBulk(WorkspaceId ws, const BulkSend& bulk);
  // Rule 3b alone, sending nothing: whether mail of class `c` from sender `sender_id` (nullopt: the
  // workspace's default, else the configured sender) would be accepted. kInvalid naming "from"
  // for a sender not in the workspace or one MarketingRefusal refuses (its message says what to
  // publish or set); store errors as they come. Campaigns check their sender when scheduled.
  Status CheckSender(WorkspaceId ws, const std::optional<int64_t>& sender_id, MessageClass c);

  // The workspace's frequency governor policy (campaign::DefaultPolicy() until it sets one), and
  // its change: the members of `patch` (campaign::ParsePolicy's JSON form) over the current
  // policy; kInvalid naming the member. Later sends use the new policy; queued ones keep their
  // places.
  Result<campaign::GovernorPolicy> GovernorPolicy(WorkspaceId ws) { return Policy(ws); }
  Result<campaign::GovernorPolicy> SetGovernorPolicy(WorkspaceId ws, const boost::json::value& patch);

  TemplateCache& templates() { return templates_; }
  const SendOptions& options() const { return options_; }

 private:
  struct Prepared;
  // Checks and builds one request (everything but the governor and the enqueue) into `out`
  // (nullopt), or answers it at once: its error, or the replay of its idempotency key.
  std::optional<Result<SendOutcome>> Prepare(WorkspaceId ws, SendRequest& req, Prepared& out);
  Result<MessageTemplate> ResolveTemplate(WorkspaceId ws, const std::optional<TemplateId>& id,
                                          const std::string& name);
  Result<Contact> ResolveContact(WorkspaceId ws, const SendRequest& req);
  Status CheckClass(MessageClass c) const;
  // The sender of a send (SendRequest::sender_id's rule) checked for its class (MarketingRefusal).
  Result<ResolvedSender> ResolveSender(WorkspaceId ws, const std::optional<int64_t>& id, MessageClass c);
  Result<Topic> CheckTopic(WorkspaceId ws, const std::string& key);
  std::optional<std::string> Refusal(WorkspaceId ws, const Contact& contact, MessageClass c,
                                     const std::optional<std::string>& topic, Status& error,
                                     MailFrequency* frequency = nullptr);
  // The workspace's governor policy (campaign::DefaultPolicy() when it never set one).
  Result<campaign::GovernorPolicy> Policy(WorkspaceId ws);
  // Decides message `m` (built, not queued) for `contact` with `recent` (the contact's marketing
  // messages, updated with `m` as placed) and applies what yields; sets m.governance, its state
  // and next_attempt_at.
  Status Govern(WorkspaceId ws, const campaign::GovernorPolicy& policy, const Governance& governance,
                const Contact& contact, MailFrequency frequency, std::vector<GovernedMessage>& recent,
                OutboxMessage& m);
  Result<OutboxMessage> Build(WorkspaceId ws, const MessageTemplate& tpl,
                              const compose::CompiledTemplate& compiled, const Contact& contact,
                              MessageClass c, const std::optional<std::string>& topic,
                              boost::json::object data, std::vector<mail::HeaderField> headers,
                              std::optional<mail::Mailbox> reply_to, std::optional<std::string> key,
                              bool tracking, const ResolvedSender& from);

  Store& store_;
  const Clock& clock_;
  const tracking::LinkSigner& links_;
  SendOptions options_;
  const MailRule& rule_;
  TemplateCache templates_;
  std::mutex governor_mu_;  // one governed decision and its enqueue at a time
};

}  // namespace rapport::send
