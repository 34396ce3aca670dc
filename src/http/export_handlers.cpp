// Route: GET /api/v1/contacts/{id}/export (GDPR right of access, admin scope): everything rapport
// holds about one contact as one JSON document: the profile, every event of the timeline, every
// message (its envelope, state and attempts; not the MIME body), the topic subscriptions with
// the consent each was given under, the consents alone, and the bounces and complaints recorded
// about the messages. The export is audited (an audit entry) and recorded on the contact's
// timeline ("contact.exported", naming the key), after the document was read.
#include "http/error_response.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

json::object EncodeExportedMessage(const OutboxMessage& m, const std::vector<DeliveryAttempt>& attempts) {
  json::array tries;
  for (const DeliveryAttempt& a : attempts)
    tries.push_back(json::object{{"attempt", a.attempt},
                                 {"at", FormatTimestamp(a.at)},
                                 {"outcome", MessageStateName(a.outcome)},
                                 {"smtp_code", a.smtp_code},
                                 {"enhanced_code", a.enhanced_code},
                                 {"reply", a.reply},
                                 {"remote", a.remote}});
  json::object o{{"id", m.id},
                 {"state", MessageStateName(m.state)},
                 {"class", MessageClassName(m.message_class)},
                 {"template", m.template_name},
                 {"from", m.mail_from},
                 {"to", m.rcpt_to},
                 {"subject", m.subject},
                 {"last_reply", m.last_reply},
                 {"created_at", FormatTimestamp(m.created_at)},
                 {"updated_at", FormatTimestamp(m.updated_at)},
                 {"attempts", std::move(tries)}};
  o["topic"] = m.topic ? json::value(*m.topic) : json::value(nullptr);
  return o;
}

json::object EncodeConsent(const Subscription& s) {
  return json::object{{"topic", s.topic_key},
                      {"status", SubscriptionStatusName(s.status)},
                      {"source", s.consent.source},
                      {"at", FormatTimestamp(s.consent.at)},
                      {"ip", s.consent.ip},
                      {"user_agent", s.consent.user_agent},
                      {"text_version", s.consent.text_version}};
}

json::object EncodeFeedback(const FeedbackRecord& f) {
  return json::object{
      {"message_id", f.message_id}, {"kind", FeedbackKindName(f.kind)}, {"failure", f.failure},
      {"status", f.status},         {"diagnostic", f.diagnostic},       {"source", f.source},
      {"reporter", f.reporter},     {"provider", f.provider},           {"at", FormatTimestamp(f.at)}};
}

}  // namespace

void AddExportRoutes(Router& router, Services& s) {
  router.Add(
      "GET", "/api/v1/contacts/{id}/export", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
        WorkspaceId ws = call.key.workspace_id;
        RAPPORT_ASSIGN_OR_RETURN(Contact c, s.store.contacts().Get(ws, id));

        json::array events;
        EventQuery eq;
        eq.limit = 1000;
        while (true) {
          RAPPORT_ASSIGN_OR_RETURN(Page<Event> page, s.store.events().ListForContact(ws, id, eq));
          for (const Event& e : page.items) events.push_back(EncodeEvent(e));
          if (page.next_cursor.empty()) break;
          eq.cursor = page.next_cursor;
        }

        json::array messages;
        OutboxQuery oq;
        oq.limit = 1000;
        while (true) {
          RAPPORT_ASSIGN_OR_RETURN(Page<OutboxMessage> page, s.store.outbox().ListForContact(ws, id, oq));
          for (const OutboxMessage& m : page.items) {
            RAPPORT_ASSIGN_OR_RETURN(auto attempts, s.store.outbox().Attempts(ws, m.id));
            messages.push_back(EncodeExportedMessage(m, attempts));
          }
          if (page.next_cursor.empty()) break;
          oq.cursor = page.next_cursor;
        }

        json::array subscriptions, consents;
        RAPPORT_ASSIGN_OR_RETURN(auto subs, s.store.topics().ListSubscriptions(ws, id));
        for (const Subscription& sub : subs) {
          subscriptions.push_back(EncodeSubscription(sub));
          consents.push_back(EncodeConsent(sub));
        }
        json::array ledger;
        RAPPORT_ASSIGN_OR_RETURN(auto records, s.store.consents().List(ws, id));
        for (const ConsentRecord& r : records) ledger.push_back(EncodeConsentRecord(r));
        RAPPORT_ASSIGN_OR_RETURN(ContactPreferences prefs, s.store.consents().Preferences(ws, id));
        json::array feedback;
        RAPPORT_ASSIGN_OR_RETURN(auto reports, s.store.feedback().ListForContact(ws, id));
        for (const FeedbackRecord& f : reports) feedback.push_back(EncodeFeedback(f));

        json::object doc{{"exported_at", FormatTimestamp(s.clock.Now())},
                         {"contact", EncodeContact(c)},
                         {"events", std::move(events)},
                         {"messages", std::move(messages)},
                         {"subscriptions", std::move(subscriptions)},
                         {"consents", std::move(consents)},
                         {"consent_ledger", std::move(ledger)},
                         {"preferences", EncodePreferences(prefs)},
                         {"feedback", std::move(feedback)}};

        // The export itself is part of the record: an audit entry and a timeline event.
        std::string actor = "key:" + std::to_string(call.key.id);
        Audit(s, call, "contact.export", "contact", std::to_string(id));
        NewEvent exported;
        exported.contact.id = id;
        exported.contact.create_contact = false;
        exported.name = "contact.exported";
        exported.properties = json::object{{"by", actor}};
        RAPPORT_ASSIGN_OR_RETURN(auto appended, s.store.events().Append(ws, {exported}, s.clock.Now()));
        if (!appended.empty() && appended[0].outcome == AppendOutcome::kFailed) return appended[0].error;

        Response r = JsonResponse(200, doc);
        r.headers.emplace_back("Cache-Control", "no-store");
        r.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"contact-" + std::to_string(id) + "-export.json\"");
        return r;
      });
}

}  // namespace rapport::http
