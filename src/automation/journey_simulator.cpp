#include "automation/journey_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/json_write.h"

namespace rapport::automation {

namespace {

constexpr int kMaxTurns = 10000;

// Reads through to the real world, writes nothing: sends render their subject only.
class SimEnv final : public JourneyEnv {
 public:
  SimEnv(JourneyEnv& real, Mailer& mailer) : real_(real), mailer_(mailer) {}
  Result<Contact> GetContact(WorkspaceId ws, ContactId c) override { return real_.GetContact(ws, c); }
  Result<bool> InSegment(WorkspaceId ws, ContactId c, std::string_view s) override {
    return real_.InSegment(ws, c, s);
  }
  Result<SendReply> Send(const SendAsk& ask) override {
    SendReply r;
    auto subject = mailer_.PreviewSubject(ask);
    if (!subject.ok()) {
      r.skipped_reason = subject.error().message;
      return r;
    }
    r.queued = true;
    r.message_id = --next_id_;  // not a real message
    r.subject = *subject;
    return r;
  }
  Result<Engagement> MessageEngagement(WorkspaceId, ContactId, MessageId) override { return Engagement{}; }
  Status UpdateContact(WorkspaceId, ContactId, const json::object&,
                       const std::map<std::string, bool>&) override {
    return {};
  }
  WebhookReply PostWebhook(const WebhookAsk&) override { return WebhookReply{200, ""}; }
  Result<Timestamp> BestSendTime(WorkspaceId ws, ContactId c, Timestamp from, Timestamp to) override {
    return real_.BestSendTime(ws, c, from, to);
  }

 private:
  JourneyEnv& real_;
  Mailer& mailer_;
  MessageId next_id_ = 0;
};

}  // namespace

Result<std::vector<SimPath>> Simulate(const Journey& journey, const JourneyDef& def,
                                      std::vector<SimEvent> events, JourneyEnv& env, Mailer& mailer,
                                      const SimOptions& options) {
  std::stable_sort(events.begin(), events.end(), [](const SimEvent& a, const SimEvent& b) {
    return a.contact_id != b.contact_id ? a.contact_id < b.contact_id : a.at < b.at;
  });
  SimEnv sim(env, mailer);
  std::vector<SimPath> out;
  size_t i = 0;
  while (i < events.size()) {
    ContactId contact = events[i].contact_id;
    SimPath path;
    path.contact_id = contact;
    std::optional<JourneyRun> run;
    std::optional<Timestamp> timer;
    std::vector<JourneyRun> ended;
    int turns = 0;
    auto advance_until = [&](Timestamp t) -> Status {
      while (run && timer && *timer <= t && ++turns < kMaxTurns) {
        Timestamp at = *timer;
        RAPPORT_ASSIGN_OR_RETURN(AdvanceResult r, Advance(def, *run, at, sim));
        for (const std::string& s : r.path) path.steps.push_back(SimStep{at, s});
        for (auto& [tpl, subject] : r.messages) path.messages.push_back(SimMessage{at, "", tpl, subject});
        for (auto& [name, props] : r.events)
          if (name == "journey.message_skipped") {
            const json::value* reason = props.if_contains("reason");
            path.skipped.push_back(
                fmt::format("{}: {}", FormatTimestamp(at),
                            reason && reason->is_string() ? std::string(reason->get_string()) : ""));
          }
        timer = r.timer;
        if (RunEnded(run->state)) {
          ended.push_back(*run);
          run.reset();
          timer.reset();
        }
      }
      return {};
    };
    Timestamp last{};
    for (; i < events.size() && events[i].contact_id == contact; ++i) {
      const SimEvent& se = events[i];
      last = se.at;
      RAPPORT_TRY(advance_until(se.at));
      Event e;
      e.workspace_id = journey.workspace_id;
      e.contact_id = contact;
      e.name = se.name;
      e.properties = se.properties;
      e.occurred_at = e.received_at = se.at;
      if (run) {
        if (auto revenue = GoalReached(def, *run, e)) {
          run->state = RunState::kConverted;
          run->revenue_cents = *revenue;
          run->reason = "goal " + e.name;
          ended.push_back(*run);
          run.reset();
          timer.reset();
        } else if (WaitMatched(*run, e)) {
          json::object ctx = ParseContext(run->context);
          ctx["matched"] = json::object{{"event", e.name}, {"properties", e.properties}};
          run->context.clear();
          AppendJson(run->context, ctx);
          timer = se.at;
        }
      }
      bool api =
          se.name == "api" && std::any_of(def.triggers.begin(), def.triggers.end(),
                                          [](const Trigger& t) { return t.type == TriggerType::kApi; });
      if (!run && (EventTrigger(def, e) || api)) {
        std::optional<std::string> key = RunKey(def, e.properties);
        std::string refused;
        if (!key) {
          refused = fmt::format("the entry event has no '{}'", def.entry.key);
        } else {
          const JourneyRun* latest = nullptr;
          for (const JourneyRun& r : ended)
            if (def.entry.key.empty() || r.run_key == *key) latest = &r;
          if (latest && def.entry.reentry == Reentry::kNever) refused = "re-entry is never";
          if (latest && def.entry.reentry == Reentry::kCooldown &&
              latest->entered_at + def.entry.cooldown > se.at)
            refused = "within the re-entry cool-down";
          if (refused.empty() && !def.entry.segment.empty()) {
            RAPPORT_ASSIGN_OR_RETURN(bool in,
                                     env.InSegment(journey.workspace_id, contact, def.entry.segment));
            if (!in) refused = "not in the entry segment " + def.entry.segment;
          }
        }
        if (refused.empty()) {
          run = NewRun(def, journey, contact, *key, e.name, e.properties, se.at);
          timer = se.at;
          ++path.runs;
        } else {
          path.skipped.push_back(fmt::format("{}: {}", FormatTimestamp(se.at), refused));
        }
      }
      RAPPORT_TRY(advance_until(se.at));
    }
    RAPPORT_TRY(advance_until(last + options.horizon));
    const JourneyRun* final_run = run ? &*run : (ended.empty() ? nullptr : &ended.back());
    if (final_run) {
      path.state = std::string(RunStateName(final_run->state));
      path.reason = final_run->reason;
    }
    for (const JourneyRun& r : ended) path.revenue += static_cast<double>(r.revenue_cents) / 100.0;
    out.push_back(std::move(path));
  }
  return out;
}

}  // namespace rapport::automation
