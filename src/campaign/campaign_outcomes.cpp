#include "campaign/campaign_outcomes.h"

namespace rapport::campaign {

namespace {

std::optional<int64_t> IntProp(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

double NumProp(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_string()) {
    try {
      return std::stod(std::string(v->get_string()));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

bool BoolProp(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

}  // namespace

Result<RecipientResult> ReadRecipientResult(EventStore& events, WorkspaceId ws, const CampaignRecipient& r,
                                            const OutcomeOptions& options) {
  RecipientResult out;
  const bool has_message = r.message_id != 0;
  // Only the events read below, from the occurrence's start: the store filters them, so a busy
  // timeline (page views, pixel fetches) costs nothing here and hides nothing.
  EventQuery q;
  q.limit = 1000;
  q.since = options.from;
  q.names = {"contact.status_changed", "topic.unsubscribed"};
  // An event name is 1..128 bytes: a goal outside that names no event (and the store refuses it).
  if (!options.goal_event.empty() && options.goal_event.size() <= kMaxEventNameLength)
    q.names.push_back(options.goal_event);
  if (has_message) {
    for (const char* name : {"message.sent", "email_opened", "email_clicked", "message.complained"})
      q.names.emplace_back(name);
  }
  size_t seen = 0;
  while (seen < options.max_events) {
    RAPPORT_ASSIGN_OR_RETURN(Page<Event> page, events.ListForContact(ws, r.contact_id, q));
    for (const Event& e : page.items) {
      if (e.occurred_at < options.from || e.occurred_at >= options.to) continue;
      if (e.name == options.goal_event) {
        ++out.conversions;
        out.revenue += NumProp(e.properties, options.revenue_property);
        continue;
      }
      if (e.name == "contact.status_changed") {
        const json::value* to = e.properties.if_contains("new");
        if (to && to->is_string() && to->get_string() == "unsubscribed") out.unsubscribed = true;
        continue;
      }
      if (e.name == "topic.unsubscribed") {
        const json::value* t = e.properties.if_contains("topic");
        if (!options.topic || (t && t->is_string() && t->get_string() == *options.topic))
          out.unsubscribed = true;
        continue;
      }
      if (!has_message || IntProp(e.properties, "message_id") != r.message_id) continue;
      bool machine = BoolProp(e.properties, "machine");
      if (e.name == "message.sent") {
        out.delivered = true;
      } else if (e.name == "email_opened") {
        (machine ? out.opened_machine : out.opened_human) = true;
      } else if (e.name == "email_clicked") {
        (machine ? out.clicked_machine : out.clicked_human) = true;
        if (!machine) out.opened_human = true;  // a human click is a human open
      } else if (e.name == "message.complained") {
        out.complained = true;
      }
    }
    seen += page.items.size();
    if (page.next_cursor.empty() || page.items.empty()) break;
    q.cursor = page.next_cursor;
  }
  return out;
}

void GroupTotals::Add(const CampaignRecipient& r, const RecipientResult& x) {
  ++recipients;
  sent += r.status == RecipientStatus::kQueued;
  skipped += r.status == RecipientStatus::kSkipped;
  delivered += x.delivered;
  opened_human += x.opened_human;
  opened_machine += x.opened_machine;
  clicked_human += x.clicked_human;
  clicked_machine += x.clicked_machine;
  complained += x.complained;
  unsubscribed += x.unsubscribed;
  converters += x.conversions > 0;
  conversions += x.conversions;
  revenue += x.revenue;
  revenue_sq += x.revenue * x.revenue;
}

ArmOutcome GroupTotals::Outcome(WinnerMetric metric, bool holdout) const {
  ArmOutcome o;
  o.recipients = holdout ? recipients : sent;
  switch (metric) {
    case WinnerMetric::kHumanOpens: o.successes = opened_human; break;
    case WinnerMetric::kClicks: o.successes = clicked_human; break;
    case WinnerMetric::kConversions:
    case WinnerMetric::kRevenuePerRecipient: o.successes = converters; break;
  }
  o.revenue = revenue;
  o.revenue_sq = revenue_sq;
  return o;
}

}  // namespace rapport::campaign
