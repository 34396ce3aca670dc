// The feedback facet (core/feedback.h): a report about a delivered message, its timeline event,
// the message's end and the contact's status in one transaction; deliverability counts.
#include <boost/json.hpp>

#include <map>

#include "store/sql/codec.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;

std::string LowerDomain(std::string_view address) {
  size_t at = address.rfind('@');
  std::string d(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
  for (char& c : d)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return d;
}

// The reason a message's record ends with, kept short (outbox last_reply).
std::string Reason(const FeedbackInput& in) {
  std::string r = std::string(FeedbackKindName(in.kind)) + " (" + in.source + ")";
  if (!in.status.empty()) r += " " + in.status;
  if (!in.diagnostic.empty()) r += ": " + in.diagnostic;
  if (r.size() > 1000) r.resize(1000);
  return r;
}

}  // namespace

Result<FeedbackOutcome> SqlFeedbackStore::Record(const FeedbackInput& in, const BouncePolicy& policy) {
  RAPPORT_TRY(ValidateBouncePolicy(policy));
  if (in.source.empty() || in.source.size() > 32)
    return Error::Invalid("source", "a source is 1 to 32 bytes");
  FeedbackOutcome out;
  Timestamp now = clock_.Now();
  Timestamp at = in.at == Timestamp{} ? now : in.at;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out = FeedbackOutcome{};
    std::optional<std::pair<ContactId, std::string>> msg;
    std::string state;
    RAPPORT_TRY(
        s.Exec("SELECT contact_id, rcpt_to, state FROM outbox_messages WHERE id = $1 AND workspace_id = $2",
               {in.message_id, in.workspace_id}, [&](const Row& r) {
                 msg.emplace(r.Int(0), std::string(r.Text(1)));
                 state = std::string(r.Text(2));
               }));
    if (!msg) return Error::NotFound("no message " + std::to_string(in.message_id));
    if (state != "sent" && state != "bounced" && state != "failed" && state != "deferred")
      return Error::Conflict(
          "message " + std::to_string(in.message_id) + " was never handed over (" + state + ")",
          "message_id");
    out.contact_id = msg->first;
    std::string domain = LowerDomain(msg->second);
    std::string failure =
        in.kind == FeedbackKind::kComplaint ? "" : std::string(DeliveryFailureName(in.failure));
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t inserted,
        s.Exec("INSERT INTO message_feedback (workspace_id, message_id, contact_id, kind, failure, status, "
               "diagnostic, source, reporter, provider, domain, day, at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
               "$8, "
               "$9, $10, $11, $12, $13) ON CONFLICT (message_id, kind) DO NOTHING",
               {in.workspace_id, in.message_id, out.contact_id, FeedbackKindName(in.kind),
                std::string_view(failure), std::string_view(in.status).substr(0, 32),
                std::string_view(in.diagnostic).substr(0, 1000), std::string_view(in.source),
                std::string_view(in.reporter).substr(0, 255), std::string_view(in.provider).substr(0, 255),
                std::string_view(domain), ToMicros(at) / kMicrosPerDay, ToMicros(at)}));
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, in.workspace_id, out.contact_id));
    out.status_before = out.status_after = c.status;
    if (inserted == 0) {
      out.duplicate = true;
      return {};
    }
    // Soft bounces among the contact's last `soft_window` handed-over messages.
    RAPPORT_TRY(s.Exec(
        "SELECT COUNT(*) FROM message_feedback WHERE kind = 'soft_bounce' AND workspace_id = $1 AND "
        "message_id IN "
        "(SELECT id FROM outbox_messages WHERE contact_id = $2 AND workspace_id = $1 AND state IN ('sent', "
        "'bounced', 'failed') ORDER BY id DESC LIMIT $3)",
        {in.workspace_id, out.contact_id, int64_t{policy.soft_window}},
        [&](const Row& r) { out.soft_in_window = static_cast<int>(r.Int(0)); }));

    // The message's record ends with the reason: a delivered message that bounced or was blocked
    // afterwards is bounced or failed; a complaint leaves it delivered (no state says complained),
    // with the complaint as its last reply.
    std::string reason = Reason(in);
    if (in.kind != FeedbackKind::kComplaint) {
      std::string_view end = in.kind == FeedbackKind::kHardBounce ? "bounced" : "failed";
      RAPPORT_TRY(
          s.Exec("UPDATE outbox_messages SET state = $1, last_reply = $2, updated_at = $3 WHERE id = $4 AND "
                 "workspace_id = $5 AND state IN ('sent', 'deferred')",
                 {end, std::string_view(reason), ToMicros(now), in.message_id, in.workspace_id}));
    } else {
      // updated_at stays the sending time: the hits' machine classifier measures from it.
      RAPPORT_TRY(s.Exec(
          "UPDATE outbox_messages SET last_reply = $1 WHERE id = $2 AND workspace_id = $3 AND state = 'sent'",
          {std::string_view(reason), in.message_id, in.workspace_id}));
    }

    json::object props{{"message_id", in.message_id},
                       {"kind", FeedbackKindName(in.kind)},
                       {"source", in.source},
                       {"reason", reason},
                       {"status", in.status},
                       {"diagnostic", in.diagnostic.substr(0, 1000)},
                       {"reporter", in.reporter.substr(0, 255)},
                       {"provider", in.provider.substr(0, 255)}};
    if (!failure.empty()) props["failure"] = failure;
    if (in.kind == FeedbackKind::kSoftBounce) props["soft_bounces_in_window"] = out.soft_in_window;
    std::string props_text = json::serialize(props);
    RAPPORT_ASSIGN_OR_RETURN(out.event_id, InsertEventIn(s, in.workspace_id, out.contact_id,
                                                         FeedbackEventName(in.kind), props_text, at, now));

    std::optional<ContactStatus> next = FeedbackContactStatus(c.status, in.kind, out.soft_in_window, policy);
    if (next) {
      ContactInput patch;
      patch.status = *next;
      json::object origin{
          {"via", "feedback"}, {"kind", FeedbackKindName(in.kind)}, {"message_id", in.message_id}};
      std::vector<ChangeEvent> changes;
      RAPPORT_TRY(UpdateContactIn(s, c, patch, now, changes, {}, &origin));
      RAPPORT_TRY(InsertChangeEvents(s, changes, now));
      out.status_after = c.status;
    }
    return {};
  }));
  return out;
}

Result<std::vector<DeliverabilityCounts>> SqlFeedbackStore::Deliverability(WorkspaceId ws, int64_t from_day,
                                                                           int64_t to_day) {
  if (to_day < from_day || to_day - from_day > 366)
    return Error::Invalid("to", "a deliverability report covers 1 to 367 days");
  std::map<std::pair<int64_t, std::string>, DeliverabilityCounts> rows;
  auto row = [&](int64_t day, std::string domain) -> DeliverabilityCounts& {
    auto& r = rows[{day, domain}];
    r.day = day;
    r.domain = std::move(domain);
    return r;
  };
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    rows.clear();
    // The domain of rcpt_to, lower-cased, in each dialect (ASCII lower-casing in both).
    std::string domain_sql = s.pg() ? "lower(split_part(m.rcpt_to, '@', 2))"
                                    : "lower(substr(m.rcpt_to, instr(m.rcpt_to, '@') + 1))";
    RAPPORT_TRY(
        s.Exec("SELECT a.at / " + std::to_string(kMicrosPerDay) + " AS day, " + domain_sql +
                   " AS domain, a.outcome, COUNT(*) FROM delivery_attempts a JOIN outbox_messages m ON "
                   "m.id = a.message_id WHERE a.workspace_id = $1 AND a.at >= $2 AND a.at < $3 AND "
                   "a.outcome <> 'deferred' GROUP BY 1, 2, 3",
               {ws, from_day * kMicrosPerDay, (to_day + 1) * kMicrosPerDay}, [&](const Row& r) {
                 auto& c = row(r.Int(0), std::string(r.Text(1)));
                 if (r.Text(2) == "sent")
                   c.delivered += r.Int(3);
                 else
                   c.rejected += r.Int(3);
               }));
    RAPPORT_TRY(
        s.Exec("SELECT day, domain, kind, COUNT(*) FROM message_feedback WHERE workspace_id = $1 AND day >= "
               "$2 AND day <= $3 GROUP BY day, domain, kind",
               {ws, from_day, to_day}, [&](const Row& r) {
                 auto& c = row(r.Int(0), std::string(r.Text(1)));
                 auto kind = ParseFeedbackKind(r.Text(2));
                 if (!kind) return;
                 int64_t n = r.Int(3);
                 switch (*kind) {
                   case FeedbackKind::kHardBounce: c.hard_bounces += n; break;
                   case FeedbackKind::kSoftBounce: c.soft_bounces += n; break;
                   case FeedbackKind::kBlock: c.blocks += n; break;
                   case FeedbackKind::kComplaint: c.complaints += n; break;
                 }
               }));
    return {};
  }));
  std::vector<DeliverabilityCounts> out;
  out.reserve(rows.size());
  for (auto& [key, value] : rows) out.push_back(std::move(value));
  return out;
}

Result<std::vector<FeedbackRecord>> SqlFeedbackStore::ListForContact(WorkspaceId ws, ContactId contact) {
  std::vector<FeedbackRecord> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec(
        "SELECT message_id, contact_id, kind, failure, status, diagnostic, source, reporter, provider, at "
        "FROM message_feedback WHERE workspace_id = $1 AND contact_id = $2 ORDER BY id",
        {ws, contact}, [&](const Row& r) {
          FeedbackRecord f;
          f.message_id = r.Int(0);
          f.contact_id = r.Int(1);
          f.kind = ParseFeedbackKind(r.Text(2)).value_or(FeedbackKind::kHardBounce);
          f.failure = std::string(r.Text(3));
          f.status = std::string(r.Text(4));
          f.diagnostic = std::string(r.Text(5));
          f.source = std::string(r.Text(6));
          f.reporter = std::string(r.Text(7));
          f.provider = std::string(r.Text(8));
          f.at = FromMicros(r.Int(9));
          out.push_back(std::move(f));
        }));
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
