#include "send/send_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include <openssl/rand.h>

#include "campaign/experiment.h"
#include "mail/header.h"
#include "mail/mime_writer.h"

namespace rapport::send {

namespace {

// The replayed message must be the one this request would have queued.
Result<SendOutcome> ReplayOrConflict(OutboxMessage m, const SendRequest& req, const MessageTemplate* tpl,
                                     const Contact* contact, bool contact_differs = false) {
  bool same = m.message_class == req.message_class && !contact_differs;
  if (req.contact_id) same = same && m.contact_id == *req.contact_id;
  if (req.contact.email) same = same && m.rcpt_to == *req.contact.email;
  if (contact) same = same && m.contact_id == contact->id;
  if (!req.template_name.empty()) same = same && m.template_name == req.template_name;
  if (tpl) same = same && m.template_name == tpl->name;
  if (!same)
    return Error::Conflict(
        "this Idempotency-Key was used for another message (id " + std::to_string(m.id) + ")",
        "Idempotency-Key");
  return SendOutcome{std::move(m), true};
}

Result<std::vector<mail::HeaderField>> CheckHeaders(
    const std::vector<std::pair<std::string, std::string>>& in) {
  if (in.size() > kMaxSendHeaders)
    return Error::Invalid("headers", fmt::format("at most {} extra headers", kMaxSendHeaders));
  std::vector<mail::HeaderField> out;
  out.reserve(in.size());
  for (const auto& [name, value] : in) {
    std::string field = "headers." + name;
    Status st = mail::ValidateHeaderName(name);
    if (st.ok() && mail::IsReservedHeaderName(name))
      st = Error::Invalid(field, "'" + name + "' is set by rapport and cannot be given");
    if (st.ok()) st = mail::ValidateHeaderValue(field, value);
    if (!st.ok()) return Error::Invalid(field, st.error().message);
    out.push_back({name, value});
  }
  return out;
}

// A tracked message's key: 63 random bits, never 0.
Result<int64_t> NewTrackingKey() {
  uint64_t v = 0;
  while (v == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v)) != 1)
      return Error::Internal("no randomness for a tracking key");
    v &= 0x7fffffffffffffffULL;
  }
  return static_cast<int64_t>(v);
}

// `tracking: false` among the contact's attributes turns tracking off for that contact.
bool ContactAllowsTracking(const Contact& c) {
  auto it = c.attributes.find("tracking");
  return it == c.attributes.end() || !it->value().is_bool() || it->value().get_bool();
}

Error Suppressed(std::string_view reason, MessageClass c) {
  return Error{ErrorCode::kSuppressed,
               fmt::format("{}: no {} mail is sent to it", reason, MessageClassName(c)), "contact"};
}

// How far back the governor's facts reach, and what one governed message looks like to it.
constexpr auto kGovernorLookback = campaign::kLookback;

// Who queued a message (OutboxMessage::source): the caller's source, "api" when it named none.
std::string SourceOf(const Governance& g) { return g.source.empty() ? "api" : g.source; }

MessageGovernance Record(const Governance& g) {
  MessageGovernance out;
  out.source = SourceOf(g);
  out.priority = g.priority;
  out.skip_on_cap = g.on_cap == Governance::OnCap::kSkip;
  return out;
}

}  // namespace

Result<campaign::GovernorPolicy> SendService::Policy(WorkspaceId ws) {
  RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> text, store_.governor().Policy(ws));
  return campaign::ParseStoredPolicy(text);
}

Result<campaign::GovernorPolicy> SendService::SetGovernorPolicy(WorkspaceId ws,
                                                                const boost::json::value& patch) {
  std::lock_guard<std::mutex> lock(governor_mu_);
  RAPPORT_ASSIGN_OR_RETURN(campaign::GovernorPolicy current, Policy(ws));
  RAPPORT_ASSIGN_OR_RETURN(campaign::GovernorPolicy next, campaign::ParsePolicy(patch, current));
  RAPPORT_TRY(store_.governor().SetPolicy(ws, boost::json::serialize(campaign::PolicyToJson(next))));
  return next;
}

Status SendService::Govern(WorkspaceId ws, const campaign::GovernorPolicy& policy,
                           const Governance& governance, const Contact& contact, MailFrequency frequency,
                           std::vector<GovernedMessage>& recent, OutboxMessage& m) {
  campaign::GovernorCandidate candidate;
  candidate.topic = m.topic;
  candidate.priority = governance.priority;
  candidate.skip_on_cap = governance.on_cap == Governance::OnCap::kSkip;
  candidate.in_global_holdout = campaign::InGlobalHoldout(ws, contact.id, policy.global_holdout);
  campaign::GovernorFacts facts;
  facts.frequency = frequency;
  facts.timezone = contact.timezone;
  facts.now = m.next_attempt_at;
  campaign::GovernorDecision d;
  // A message that was to yield may have been claimed meanwhile: decide again without it.
  for (int round = 0;; ++round) {
    facts.recent = recent;
    d = campaign::Decide(policy, candidate, facts);
    bool conflict = false;
    for (const campaign::Yielded& y : d.yielded) {
      MessageGovernance yg;
      for (const GovernedMessage& r : recent)
        if (r.id == y.id) yg = MessageGovernance{r.source, r.priority, r.skip_on_cap, y.verdict, y.reason};
      yg.verdict = y.verdict;
      yg.reason = y.reason;
      Status st = store_.governor().Yield(ws, y.id, yg, y.until);
      if (!st.ok() && st.error().code != ErrorCode::kConflict && st.error().code != ErrorCode::kNotFound)
        return st;
      for (GovernedMessage& r : recent) {
        if (r.id != y.id) continue;
        if (!st.ok()) {
          r.state = MessageState::kSending;  // no longer queued: it keeps its place
          conflict = true;
        } else if (y.verdict == GovernorVerdict::kSkip) {
          r.state = MessageState::kSuppressed;
        } else {
          r.at = y.until;
        }
      }
    }
    if (!conflict || round >= 3) break;
  }
  MessageGovernance g = Record(governance);
  g.verdict = d.verdict;
  g.reason = d.reason;
  if (d.verdict == GovernorVerdict::kSkip) {
    m.state = MessageState::kSuppressed;
  } else {
    m.next_attempt_at = d.at;
    GovernedMessage placed;  // not stored yet: it counts, and cannot yield (not kQueued to the engine)
    placed.id = -static_cast<MessageId>(recent.size()) - 1;
    placed.state = MessageState::kSending;
    placed.contact_id = contact.id;
    placed.at = d.at;
    placed.topic = m.topic;
    placed.priority = g.priority;
    placed.skip_on_cap = g.skip_on_cap;
    placed.source = g.source;
    recent.push_back(std::move(placed));  // a later recipient of the same bulk sees it
  }
  m.governance = std::move(g);
  return {};
}

SendService::SendService(Store& store, const Clock& clock, const tracking::LinkSigner& links,
                         SendOptions options, const MailRule& rule)
    : store_(store), clock_(clock), links_(links), options_(std::move(options)), rule_(rule) {}

Status SendService::CheckClass(MessageClass c) const {
  if (c == MessageClass::kMarketing && !mail::OneClickUrlAllowed(options_.public_url))
    return Error::Invalid(
        "class",
        "marketing mail carries a one-click unsubscribe link, which must be https:// (RFC 8058) "
        "unless the server is on a loopback address; set server.public_url to this server's "
        "https:// address (it is \"" +
            options_.public_url + "\")");
  return {};
}

Result<std::optional<SenderIdentity>> ChosenSender(SenderStore& senders,
                                                   std::span<const std::string> dkim_domains, WorkspaceId ws,
                                                   const std::optional<int64_t>& id, MessageClass c) {
  std::optional<SenderIdentity> identity;
  if (id) {
    auto found = senders.Get(ws, *id);
    if (!found.ok()) {
      if (found.error().code == ErrorCode::kNotFound)
        return Error::Invalid("from", "no sender " + std::to_string(*id) + " in this workspace");
      return found.error();
    }
    identity = std::move(found).value();
  } else {
    RAPPORT_ASSIGN_OR_RETURN(identity, senders.GetDefault(ws));
  }
  if (identity) RAPPORT_TRY(MarketingRefusal(*identity, c, dkim_domains));
  return identity;
}

Result<ResolvedSender> SendService::ResolveSender(WorkspaceId ws, const std::optional<int64_t>& id,
                                                  MessageClass c) {
  ResolvedSender out;
  out.sender = options_.sender;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<SenderIdentity> identity,
                           ChosenSender(store_.senders(), options_.dkim_domains, ws, id, c));
  if (!identity) {  // the configured sender
    const mail::Mailbox& from = out.sender.from;
    out.variables = {{"id", nullptr},
                     {"name", from.display_name},
                     {"email", from.address.ToString()},
                     {"reply_to", out.sender.reply_to ? out.sender.reply_to->address.ToString() : ""},
                     {"postal_address", ""}};
    return out;
  }
  RAPPORT_ASSIGN_OR_RETURN(EmailAddress email, ParseEmailAddress(identity->email, "from"));
  out.sender.from = mail::Mailbox{identity->name, std::move(email)};
  out.sender.reply_to.reset();
  if (!identity->reply_to_email.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(EmailAddress reply_to, ParseEmailAddress(identity->reply_to_email, "reply_to"));
    out.sender.reply_to = mail::Mailbox{identity->reply_to_name, std::move(reply_to)};
  }
  out.postal_address = identity->postal_address;
  out.variables = {{"id", identity->id},
                   {"name", identity->name},
                   {"email", identity->email},
                   {"reply_to", identity->reply_to_email},
                   {"postal_address", identity->postal_address}};
  return out;
}

Status SendService::CheckSender(WorkspaceId ws, const std::optional<int64_t>& sender_id, MessageClass c) {
  RAPPORT_TRY(ResolveSender(ws, sender_id, c));
  return {};
}

Result<MessageTemplate> SendService::ResolveTemplate(WorkspaceId ws, const std::optional<TemplateId>& id,
                                                     const std::string& name) {
  Result<MessageTemplate> tpl = id ? store_.templates().Get(ws, *id) : store_.templates().GetByName(ws, name);
  if (!tpl.ok()) {
    Error e = tpl.error();
    if (e.code == ErrorCode::kNotFound) e.field = id ? "template_id" : "template";
    return e;
  }
  return tpl;
}

Result<Topic> SendService::CheckTopic(WorkspaceId ws, const std::string& key) {
  auto topic = store_.topics().GetByKey(ws, key);
  if (topic.ok()) return topic;
  Error e = topic.error();
  if (e.code == ErrorCode::kNotFound) e.field = "topic";
  return e;
}

Result<Contact> SendService::ResolveContact(WorkspaceId ws, const SendRequest& req) {
  if (req.contact_id) return store_.contacts().Get(ws, *req.contact_id);
  if (req.contact.email) {
    auto found = store_.contacts().GetByEmail(ws, *req.contact.email);
    if (found.ok() || found.error().code != ErrorCode::kNotFound) return found;
    RAPPORT_ASSIGN_OR_RETURN(UpsertResult up, store_.contacts().Upsert(ws, req.contact));
    return std::move(up.contact);
  }
  if (!req.contact.external_id)
    return Error::Invalid("contact", "name the contact by contact_id, email or external_id");
  auto found = store_.contacts().GetByExternalId(ws, *req.contact.external_id);
  if (!found.ok() && found.error().code == ErrorCode::kNotFound)
    return Error{ErrorCode::kNotFound, "no contact with external_id '" + *req.contact.external_id + "'",
                 "contact.external_id"};
  return found;
}

// The rule's answer for this contact, reading the facts it needs (the topic subscription).
// A store failure is returned through `error` (and the answer is then meaningless).
std::optional<std::string> SendService::Refusal(WorkspaceId ws, const Contact& contact, MessageClass c,
                                                const std::optional<std::string>& topic, Status& error,
                                                MailFrequency* frequency) {
  MailCandidate candidate;
  candidate.status = contact.status;
  candidate.message_class = c;
  candidate.now = clock_.Now();
  if (c == MessageClass::kMarketing) {
    auto prefs = store_.consents().Preferences(ws, contact.id);
    if (!prefs.ok()) {
      error = prefs.error();
      return std::nullopt;
    }
    candidate.paused_until = prefs->paused_until;
    if (frequency) *frequency = prefs->frequency;
  }
  if (topic) {
    candidate.topic = *topic;
    auto subs = store_.topics().ListSubscriptions(ws, contact.id);
    if (!subs.ok()) {
      error = subs.error();
      return std::nullopt;
    }
    for (const Subscription& sub : *subs)
      if (sub.topic_key == *topic) candidate.subscription = sub.status;
  }
  return rule_.Refusal(candidate);
}

Result<OutboxMessage> SendService::Build(WorkspaceId ws, const MessageTemplate& tpl,
                                         const compose::CompiledTemplate& compiled, const Contact& contact,
                                         MessageClass c, const std::optional<std::string>& topic,
                                         boost::json::object data, std::vector<mail::HeaderField> headers,
                                         std::optional<mail::Mailbox> reply_to,
                                         std::optional<std::string> key, bool tracking,
                                         const ResolvedSender& from) {
  compose::ComposeRequest cr;
  cr.sender = from.variables;
  cr.postal_address = from.postal_address;
  cr.contact = &contact;
  cr.message_class = c;
  cr.data = std::move(data);
  cr.now = clock_.Now();
  // An HTML message gets a tracking key (its web view, and its opens and clicks when tracked):
  // the unsubscribe link names it too, so an unsubscribe is credited to the message, and to its
  // template, topic, campaign or journey in the reports (analytics/report_book.cpp).
  int64_t tracking_key = 0;
  if (compiled.html() != nullptr) {
    RAPPORT_ASSIGN_OR_RETURN(tracking_key, NewTrackingKey());
  }
  cr.unsubscribe_url =
      tracking::LinkUrl(options_.public_url, tracking::LinkKind::kUnsubscribe,
                        links_.Sign({tracking::LinkKind::kUnsubscribe, ws, contact.id, 0, tracking_key}));
  // The preference link names the message too, so its page names the message's sender.
  cr.preferences_url =
      tracking::LinkUrl(options_.public_url, tracking::LinkKind::kPreferences,
                        links_.Sign({tracking::LinkKind::kPreferences, ws, contact.id, 0, tracking_key}));
  if (c == MessageClass::kMarketing)
    cr.feedback_id = fmt::format("{}:{}:{}:rapport", tpl.name, MessageClassName(c), ws);
  cr.reply_to = std::move(reply_to);
  cr.headers = std::move(headers);
  const std::string& base = options_.public_url;
  if (compiled.html() != nullptr) {
    cr.view_in_browser_url =
        tracking::LinkUrl(base, tracking::LinkKind::kView,
                          links_.Sign({tracking::LinkKind::kView, ws, contact.id, 0, tracking_key}));
    if (tracking && ContactAllowsTracking(contact)) {
      compose::LinkTracking t;
      t.click_url = [&, tracking_key](size_t index) {
        return tracking::LinkUrl(base, tracking::LinkKind::kClick,
                                 links_.Sign({tracking::LinkKind::kClick, ws, contact.id, 0, tracking_key,
                                              static_cast<int32_t>(index)}));
      };
      t.pixel_url =
          tracking::LinkUrl(base, tracking::LinkKind::kOpen,
                            links_.Sign({tracking::LinkKind::kOpen, ws, contact.id, 0, tracking_key}));
      for (tracking::LinkKind own :
           {tracking::LinkKind::kUnsubscribe, tracking::LinkKind::kPreferences, tracking::LinkKind::kView})
        t.keep_prefixes.push_back(tracking::LinkUrl(base, own, ""));
      cr.tracking = std::move(t);
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(compose::ComposedMessage composed, compose::Compose(compiled, from.sender, cr));

  OutboxMessage m;
  m.workspace_id = ws;
  m.contact_id = contact.id;
  m.message_class = c;
  m.state = MessageState::kQueued;
  m.template_name = tpl.name;
  m.mail_from = std::move(composed.mail_from);
  m.rcpt_to = std::move(composed.rcpt_to);
  m.subject = std::move(composed.subject);
  m.mime = std::move(composed.mime);
  m.idempotency_key = std::move(key);
  m.next_attempt_at = cr.now;
  m.topic = topic;  // the claim asks the mail rule again, with the subscription as it is then
  if (tracking_key != 0)
    m.tracking = MessageTracking{tracking_key, std::move(composed.links), std::move(composed.view_html)};
  return m;
}

Result<SendOutcome> SendService::Send(WorkspaceId ws, SendRequest req) {
  std::vector<SendRequest> one;
  one.push_back(std::move(req));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Result<SendOutcome>> out, SendMany(ws, std::move(one)));
  return std::move(out.front());
}

// One request checked and built by Prepare, waiting for the governor and the enqueue.
struct SendService::Prepared {
  size_t index = 0;  // in SendMany's requests
  MessageTemplate tpl;
  Contact contact;
  MailFrequency frequency = MailFrequency::kEverything;
  OutboxMessage message;
};

std::optional<Result<SendOutcome>> SendService::Prepare(WorkspaceId ws, SendRequest& req, Prepared& out) {
  const std::optional<std::string>& key = req.idempotency_key;
  if (key && (key->empty() || key->size() > kMaxIdempotencyKeyBytes))
    return Error::Invalid("Idempotency-Key", "Idempotency-Key is 1 to 255 characters");
  if (key) {
    RAPPORT_ASSIGN_OR_RETURN(std::optional<OutboxMessage> first,
                             store_.outbox().FindByIdempotencyKey(ws, *key));
    if (first) {
      std::optional<Contact> named;  // the contact the request names, when by external_id
      if (!req.contact_id && !req.contact.email && req.contact.external_id) {
        auto c = store_.contacts().GetByExternalId(ws, *req.contact.external_id);
        if (c.ok())
          named = std::move(c).value();
        else if (c.error().code != ErrorCode::kNotFound)
          return c.error();
        else
          return ReplayOrConflict(std::move(*first), req, nullptr, nullptr, /*contact_differs=*/true);
      }
      return ReplayOrConflict(std::move(*first), req, nullptr, named ? &*named : nullptr);
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(std::vector<mail::HeaderField> headers, CheckHeaders(req.headers));
  RAPPORT_TRY(CheckClass(req.message_class));
  RAPPORT_ASSIGN_OR_RETURN(ResolvedSender from, ResolveSender(ws, req.sender_id, req.message_class));
  RAPPORT_ASSIGN_OR_RETURN(out.tpl, ResolveTemplate(ws, req.template_id, req.template_name));
  RAPPORT_ASSIGN_OR_RETURN(auto compiled, templates_.Compiled(out.tpl));
  bool tracking = out.tpl.tracking;
  if (req.topic) {
    RAPPORT_ASSIGN_OR_RETURN(Topic topic, CheckTopic(ws, *req.topic));
    tracking = tracking && topic.tracking;
  }
  RAPPORT_ASSIGN_OR_RETURN(out.contact, ResolveContact(ws, req));
  Status lookup;
  if (auto reason = Refusal(ws, out.contact, req.message_class, req.topic, lookup, &out.frequency))
    return Suppressed(*reason, req.message_class);
  RAPPORT_TRY(lookup);

  std::optional<mail::Mailbox> reply_to;
  if (req.reply_to) reply_to = mail::Mailbox{req.reply_to_name, *req.reply_to};
  RAPPORT_ASSIGN_OR_RETURN(
      out.message, Build(ws, out.tpl, *compiled, out.contact, req.message_class, req.topic,
                         std::move(req.data), std::move(headers), std::move(reply_to), key, tracking, from));
  out.message.source = SourceOf(req.governance);
  return std::nullopt;
}

Result<std::vector<Result<SendOutcome>>> SendService::SendMany(WorkspaceId ws,
                                                               std::vector<SendRequest> requests) {
  std::vector<Result<SendOutcome>> out(requests.size(), Error::Internal("not sent"));
  std::vector<Prepared> ready;
  ready.reserve(requests.size());
  bool any_marketing = false;
  for (size_t i = 0; i < requests.size(); ++i) {
    Prepared p;
    p.index = i;
    if (std::optional<Result<SendOutcome>> answer = Prepare(ws, requests[i], p)) {
      out[i] = std::move(*answer);
    } else {
      any_marketing = any_marketing || requests[i].message_class == MessageClass::kMarketing;
      ready.push_back(std::move(p));
    }
  }
  if (ready.empty()) return out;

  // Marketing mail: the governor's decisions and the enqueue, one batch at a time in this
  // process; each decision sees the ones before it in the batch (the contact's `recent`).
  std::unique_lock<std::mutex> governed;
  if (any_marketing) {
    governed = std::unique_lock<std::mutex>(governor_mu_);
    RAPPORT_ASSIGN_OR_RETURN(campaign::GovernorPolicy policy, Policy(ws));
    std::vector<ContactId> ids;
    Timestamp since = Timestamp::max();
    for (const Prepared& p : ready)
      if (p.message.message_class == MessageClass::kMarketing) {
        ids.push_back(p.contact.id);
        since = std::min(since, p.message.next_attempt_at - kGovernorLookback);
      }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    RAPPORT_ASSIGN_OR_RETURN(std::vector<GovernedMessage> facts, store_.governor().Recent(ws, ids, since));
    std::unordered_map<ContactId, std::vector<GovernedMessage>> recent;
    for (GovernedMessage& f : facts) recent[f.contact_id].push_back(std::move(f));
    for (Prepared& p : ready)
      if (p.message.message_class == MessageClass::kMarketing)
        RAPPORT_TRY(Govern(ws, policy, requests[p.index].governance, p.contact, p.frequency,
                           recent[p.contact.id], p.message));
  }

  // One transaction; an unknown or erased contact fails only its own message (EnqueueBatch).
  std::vector<Result<EnqueueResult>> queued;
  std::vector<OutboxMessage> batch;
  batch.reserve(ready.size());
  for (Prepared& p : ready) batch.push_back(std::move(p.message));
  auto all = store_.outbox().EnqueueBatch(batch);
  if (all.ok()) {
    queued = std::move(all).value();
  } else if (all.error().code == ErrorCode::kConflict) {
    // A concurrent writer took one of the keys meanwhile: one by one, each answers as its replay.
    for (const OutboxMessage& m : batch) queued.push_back(store_.outbox().Enqueue(m));
  } else {
    return all.error();
  }
  if (governed.owns_lock()) governed.unlock();

  bool queued_class[2] = {false, false};
  for (size_t j = 0; j < ready.size(); ++j) {
    Prepared& p = ready[j];
    const SendRequest& req = requests[p.index];
    if (!queued[j].ok()) {
      out[p.index] = queued[j].error();
    } else if (!queued[j]->created) {
      // Another request with the same key won the race (or came first in this batch): its replay.
      out[p.index] = ReplayOrConflict(std::move(queued[j]->message), req, &p.tpl, &p.contact);
    } else {
      queued_class[req.message_class == MessageClass::kMarketing ? 1 : 0] = true;
      out[p.index] = SendOutcome{std::move(queued[j]->message), false};
    }
  }
  if (options_.on_queued) {
    if (queued_class[0]) options_.on_queued(MessageClass::kTransactional);
    if (queued_class[1]) options_.on_queued(MessageClass::kMarketing);
  }
  return out;
}

Result<std::vector<Result<SendOutcome>>> SendService::SendBulk(WorkspaceId ws, const BulkSend& bulk) {
  RAPPORT_TRY(CheckClass(bulk.message_class));
  RAPPORT_ASSIGN_OR_RETURN(ResolvedSender from, ResolveSender(ws, bulk.sender_id, bulk.message_class));
  if (bulk.from_name_override) {
    if (bulk.from_name_override->find_first_of("\r\n") != std::string::npos)
      return Error::Invalid("from_name", "a From name has no line breaks");
    from.sender.from.display_name = *bulk.from_name_override;
    from.variables["name"] = *bulk.from_name_override;
  }
  RAPPORT_ASSIGN_OR_RETURN(MessageTemplate tpl, ResolveTemplate(ws, bulk.template_id, bulk.template_name));
  std::shared_ptr<const compose::CompiledTemplate> compiled;
  if (bulk.subject_override || bulk.preheader_override) {
    if (bulk.subject_override) tpl.subject = *bulk.subject_override;
    if (bulk.preheader_override) tpl.preheader = *bulk.preheader_override;
    RAPPORT_ASSIGN_OR_RETURN(compiled, templates_.CompiledVariant(tpl));
  } else {
    RAPPORT_ASSIGN_OR_RETURN(compiled, templates_.Compiled(tpl));
  }
  bool tracking = tpl.tracking;
  if (bulk.topic) {
    RAPPORT_ASSIGN_OR_RETURN(Topic topic, CheckTopic(ws, *bulk.topic));
    tracking = tracking && topic.tracking;
  }

  std::vector<Result<SendOutcome>> out(bulk.recipients.size(), Error::Internal("not sent"));
  std::vector<OutboxMessage> batch;
  std::vector<size_t> slot;  // batch index -> recipient index
  batch.reserve(bulk.recipients.size());
  // Marketing mail is governed: the policy once, the facts of each chunk of recipients in one
  // lookup (GovernorStore::Recent), the decisions and the enqueue one bulk at a time.
  const bool governed = bulk.message_class == MessageClass::kMarketing;
  std::unique_lock<std::mutex> governor_lock;
  campaign::GovernorPolicy policy;
  if (governed) {
    governor_lock = std::unique_lock<std::mutex>(governor_mu_);
    RAPPORT_ASSIGN_OR_RETURN(policy, Policy(ws));
  }
  constexpr size_t kGovernChunk = 512;
  struct Pending {
    size_t index;
    Contact contact;
    MailFrequency frequency;
  };
  std::vector<Pending> pending;
  std::unordered_map<ContactId, std::vector<GovernedMessage>> recent;
  for (size_t begin = 0; begin < bulk.recipients.size(); begin += kGovernChunk) {
    const size_t end = std::min(bulk.recipients.size(), begin + kGovernChunk);
    pending.clear();
    // The chunk's facts in one read each (not two or three reads per recipient): the contacts,
    // their preferences (marketing) and their subscriptions to the topic (when there is one).
    std::vector<ContactId> chunk_ids;
    chunk_ids.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) chunk_ids.push_back(bulk.recipients[i].contact_id);
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Contact> found, store_.contacts().GetMany(ws, chunk_ids));
    std::unordered_map<ContactId, Contact*> contacts;
    contacts.reserve(found.size());
    for (Contact& c : found) contacts.emplace(c.id, &c);
    std::unordered_map<ContactId, int> uses;  // a contact named twice is copied, not moved, the first time
    for (ContactId id : chunk_ids) ++uses[id];
    std::unordered_map<ContactId, ContactPreferences> prefs;
    if (bulk.message_class == MessageClass::kMarketing) {
      RAPPORT_ASSIGN_OR_RETURN(std::vector<ContactPreferences> chosen,
                               store_.consents().PreferencesOf(ws, chunk_ids));
      for (ContactPreferences& p : chosen) prefs.emplace(p.contact_id, p);
    }
    std::unordered_map<ContactId, SubscriptionStatus> subscriptions;
    if (bulk.topic) {
      RAPPORT_ASSIGN_OR_RETURN(auto statuses,
                               store_.topics().SubscriptionStatuses(ws, *bulk.topic, chunk_ids));
      for (const auto& [id, status] : statuses) subscriptions.emplace(id, status);
    }
    const Timestamp checked_at = clock_.Now();
    for (size_t i = begin; i < end; ++i) {
      const BulkRecipient& r = bulk.recipients[i];
      auto it = contacts.find(r.contact_id);
      if (it == contacts.end()) {
        out[i] = Error::NotFound("no contact " + std::to_string(r.contact_id));
        continue;
      }
      Contact& contact = *it->second;
      MailCandidate candidate;
      candidate.status = contact.status;
      candidate.message_class = bulk.message_class;
      candidate.now = checked_at;
      MailFrequency frequency = MailFrequency::kEverything;
      if (auto p = prefs.find(contact.id); p != prefs.end()) {
        candidate.paused_until = p->second.paused_until;
        frequency = p->second.frequency;
      }
      if (bulk.topic) {
        candidate.topic = *bulk.topic;
        if (auto sub = subscriptions.find(contact.id); sub != subscriptions.end())
          candidate.subscription = sub->second;
      }
      if (auto reason = rule_.Refusal(candidate)) {
        out[i] = Suppressed(*reason, bulk.message_class);
        continue;
      }
      if (--uses[contact.id] > 0)
        pending.push_back({i, contact, frequency});
      else
        pending.push_back({i, std::move(contact), frequency});
    }
    Timestamp now = clock_.Now();
    if (governed && !pending.empty()) {
      std::vector<ContactId> ids;
      ids.reserve(pending.size());
      for (const Pending& p : pending)
        if (!recent.contains(p.contact.id)) ids.push_back(p.contact.id);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      RAPPORT_ASSIGN_OR_RETURN(std::vector<GovernedMessage> facts,
                               store_.governor().Recent(ws, ids, now - kGovernorLookback));
      for (ContactId id : ids) recent[id];  // known, even with no message
      for (GovernedMessage& f : facts) recent[f.contact_id].push_back(std::move(f));
    }
    for (Pending& p : pending) {
      const BulkRecipient& r = bulk.recipients[p.index];
      boost::json::object data = bulk.data;
      for (const auto& [k, v] : r.data) data[k] = v;
      auto m = Build(ws, tpl, *compiled, p.contact, bulk.message_class, bulk.topic, std::move(data), {},
                     std::nullopt, r.idempotency_key, tracking, from);
      if (!m.ok()) {
        out[p.index] = m.error();
        continue;
      }
      m->source = SourceOf(bulk.governance);
      if (governed)
        RAPPORT_TRY(Govern(ws, policy, bulk.governance, p.contact, p.frequency, recent[p.contact.id], *m));
      batch.push_back(std::move(m).value());
      slot.push_back(p.index);
    }
  }
  if (batch.empty()) return out;
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Result<EnqueueResult>> queued, store_.outbox().EnqueueBatch(batch));
  bool any = false;
  for (size_t j = 0; j < queued.size(); ++j) {
    if (!queued[j].ok()) {
      out[slot[j]] = queued[j].error();
      continue;
    }
    any = any || queued[j]->created;
    out[slot[j]] = SendOutcome{std::move(queued[j]->message), !queued[j]->created};
  }
  if (any && options_.on_queued) options_.on_queued(bulk.message_class);
  return out;
}

}  // namespace rapport::send
