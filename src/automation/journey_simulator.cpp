#include "automation/journey_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <span>

#include "core/json_write.h"

namespace rapport::automation {

namespace {

constexpr int kMaxTurns = 10000;

// A message the simulation would have queued.
struct SimSent {
  Timestamp at{};
  std::string step;
  std::string template_name;
  std::string subject;
};

// The step of a journey send's source, "journey:<id>:<step>" (SendAsk::source); "" otherwise.
std::string SourceStep(std::string_view source) {
  constexpr std::string_view kPrefix = "journey:";
  if (!source.starts_with(kPrefix)) return "";
  source.remove_prefix(kPrefix.size());
  size_t colon = source.find(':');
  return colon == std::string_view::npos ? "" : std::string(source.substr(colon + 1));
}

// Reads through to the real world, writes nothing: sends render their subject only and are
// recorded; what became of a recorded message is read from the replayed events.
class SimEnv final : public JourneyEnv {
 public:
  SimEnv(JourneyEnv& real, Mailer& mailer) : real_(real), mailer_(mailer) {}

  // The contact being replayed: its events, sorted by time (read by MessageEngagement).
  void SetHistory(std::span<const SimEvent> history) { history_ = history; }
  // The virtual clock: the moment of the Advance that follows.
  void SetNow(Timestamp now) { now_ = now; }
  // Every message queued so far; message id -(i + 1) is sent()[i].
  const std::vector<SimSent>& sent() const { return sent_; }

  Result<Contact> GetContact(WorkspaceId ws, ContactId c) override { return real_.GetContact(ws, c); }
  Result<bool> InSegment(WorkspaceId ws, ContactId c, std::string_view s) override {
    return real_.InSegment(ws, c, s);
  }
  Result<bool> Matches(WorkspaceId ws, ContactId c, const std::string& expression) override {
    return real_.Matches(ws, c, expression);
  }
  Result<SendReply> Send(const SendAsk& ask) override {
    SendReply r;
    auto subject = mailer_.PreviewSubject(ask);
    if (!subject.ok()) {
      r.skipped_reason = subject.error().message;
      return r;
    }
    r.queued = true;
    r.message_id = -static_cast<MessageId>(sent_.size()) - 1;  // not a real message
    r.subject = *subject;
    sent_.push_back(SimSent{now_, SourceStep(ask.source), ask.template_name, *subject});
    return r;
  }
  // As the store's env answers (store_env.cpp), from the replayed events instead of the log: a
  // human (not "machine") email_opened / email_clicked after the message was sent and by now.
  // A replayed event names a real message, never a simulated one, so it is matched by its
  // "template" (an event without one matches any message).
  Result<Engagement> MessageEngagement(WorkspaceId, ContactId contact, MessageId message) override {
    Engagement out;
    if (message >= 0 || static_cast<size_t>(-(message + 1)) >= sent_.size()) return out;  // not ours
    const SimSent& m = sent_[static_cast<size_t>(-(message + 1))];
    for (const SimEvent& e : history_) {
      if (e.contact_id != contact || e.at <= m.at || e.at > now_) continue;
      if (e.name != "email_opened" && e.name != "email_clicked") continue;
      const json::value* machine = e.properties.if_contains("machine");
      if (machine && machine->is_bool() && machine->get_bool()) continue;
      const json::value* tpl = e.properties.if_contains("template");
      if (tpl && tpl->is_string() && tpl->get_string() != m.template_name) continue;
      (e.name == "email_opened" ? out.opened : out.clicked) = true;
    }
    return out;
  }
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
  std::span<const SimEvent> history_;
  Timestamp now_{};
  std::vector<SimSent> sent_;
};

// One run of the contact and when it wakes (nullopt: waiting for an event, or ended).
struct SimRun {
  JourneyRun run;
  std::optional<Timestamp> timer;
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
    size_t end = i;
    while (end < events.size() && events[end].contact_id == contact) ++end;
    sim.SetHistory(std::span<const SimEvent>(events.data() + i, end - i));
    SimPath path;
    path.contact_id = contact;
    // The contact's runs in the order they entered, ended ones kept: as in the engine, at most
    // one live run per key (entry.key; one per contact when the journey has none).
    std::vector<SimRun> runs;
    int turns = 0;
    // Wakes the runs due by `t`, the earliest first (the first entered on a tie).
    auto advance_until = [&](Timestamp t) -> Status {
      while (true) {
        SimRun* due = nullptr;
        for (SimRun& live : runs)
          if (live.timer && *live.timer <= t && (!due || *live.timer < *due->timer)) due = &live;
        if (!due || ++turns >= kMaxTurns) return {};
        Timestamp at = *due->timer;
        sim.SetNow(at);
        size_t sent_before = sim.sent().size();
        RAPPORT_ASSIGN_OR_RETURN(AdvanceResult r, Advance(def, due->run, at, sim));
        for (const std::string& s : r.path) path.steps.push_back(SimStep{at, s});
        for (size_t k = sent_before; k < sim.sent().size(); ++k) {
          const SimSent& m = sim.sent()[k];
          path.messages.push_back(SimMessage{m.at, m.step, m.template_name, m.subject});
        }
        for (auto& [name, props] : r.events)
          if (name == "journey.message_skipped") {
            const json::value* reason = props.if_contains("reason");
            path.skipped.push_back(
                fmt::format("{}: {}", FormatTimestamp(at),
                            reason && reason->is_string() ? std::string(reason->get_string()) : ""));
          }
        due->timer = r.timer;
        if (RunEnded(due->run.state)) due->timer.reset();
      }
    };
    Timestamp last{};
    for (; i < end; ++i) {
      const SimEvent& se = events[i];
      last = se.at;
      RAPPORT_TRY(advance_until(se.at));
      Event e;
      e.workspace_id = journey.workspace_id;
      e.contact_id = contact;
      e.name = se.name;
      e.properties = se.properties;
      e.occurred_at = e.received_at = se.at;
      for (SimRun& live : runs) {
        if (RunEnded(live.run.state)) continue;
        if (auto revenue = GoalReached(def, live.run, e)) {
          live.run.state = RunState::kConverted;
          live.run.revenue_cents = *revenue;
          live.run.reason = "goal " + e.name;
          live.timer.reset();
        } else if (WaitMatched(live.run, e)) {
          json::object ctx = ParseContext(live.run.context);
          ctx["matched"] = json::object{{"event", e.name}, {"properties", e.properties}};
          live.run.context.clear();
          AppendJson(live.run.context, ctx);
          live.timer = se.at;
        }
      }
      bool api =
          se.name == "api" && std::any_of(def.triggers.begin(), def.triggers.end(),
                                          [](const Trigger& t) { return t.type == TriggerType::kApi; });
      if (EventTrigger(def, e) || api) {
        std::optional<std::string> key = RunKey(def, e.properties);
        std::string refused;
        bool already_in = false;  // a live run of this key: no entry, and no skip (as the engine)
        if (!key) {
          refused = fmt::format("the entry event has no '{}'", def.entry.key);
        } else {
          // The latest run of this key (of the contact when the journey has no key), as
          // JourneyService::TryEnter reads it.
          const JourneyRun* latest = nullptr;
          for (const SimRun& r : runs)
            if (def.entry.key.empty() || r.run.run_key == *key) latest = &r.run;
          already_in = latest && !RunEnded(latest->state);
          if (latest && !already_in)
            if (auto why = ReentryRefusal(def, *latest, se.at)) refused = std::string(*why);
          if (!already_in && refused.empty()) {
            RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> filtered,
                                     EntryFilterRefusal(def, journey.workspace_id, contact, env, false));
            if (filtered) refused = std::move(*filtered);
          }
        }
        if (!refused.empty()) {
          path.skipped.push_back(fmt::format("{}: {}", FormatTimestamp(se.at), refused));
        } else if (!already_in) {
          runs.push_back(SimRun{NewRun(def, journey, contact, *key, e.name, e.properties, se.at), se.at});
          ++path.runs;
        }
      }
      RAPPORT_TRY(advance_until(se.at));
    }
    RAPPORT_TRY(advance_until(last + options.horizon));
    if (!runs.empty()) {
      path.state = std::string(RunStateName(runs.back().run.state));
      path.reason = runs.back().run.reason;
    }
    for (const SimRun& r : runs) path.revenue += static_cast<double>(r.run.revenue_cents) / 100.0;
    out.push_back(std::move(path));
  }
  return out;
}

}  // namespace rapport::automation
