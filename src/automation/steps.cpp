#include "automation/steps.h"

#include "core/hash.h"
#include "core/http_url.h"

#include <fmt/format.h>

#include "automation/journey_engine.h"
#include "automation/journey_model.h"
#include "automation/local_time.h"
#include "automation/step_context.h"
#include "core/json_write.h"

namespace rapport::automation {

namespace {

using json::object;
using json::value;

Status Keys(const object& o, std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : o) {
    bool known = k == "id" || k == "kind" || k == "name";
    for (std::string_view x : keys) known = known || x == k;
    if (!known) return Error::Invalid(std::string(k), fmt::format("unknown field '{}'", std::string_view(k)));
  }
  return {};
}

Status TargetField(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (v && !v->is_null() && (!v->is_string() || v->get_string().empty()))
    return Error::Invalid(std::string(key), fmt::format("{} names a step id", key));
  return {};
}

std::string Str(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void AddTarget(std::vector<StepTarget>& out, const object& o, std::string_view key) {
  std::string s = Str(o, key);
  if (!s.empty()) out.push_back({std::string(key), s});
}

const object& Entry(const StepContext& c) {
  static const object kEmpty;
  const value* e = c.context.if_contains("entry");
  if (!e || !e->is_object()) return kEmpty;
  const value* p = e->get_object().if_contains("properties");
  return p && p->is_object() ? p->get_object() : kEmpty;
}

// ---- send -------------------------------------------------------------------------------

class SendStep final : public StepKind {
 public:
  std::string_view name() const override { return "send"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"template", "class", "topic", "data", "next", "sender", "priority", "on_cap"}));
    if (const value* p = c.if_contains("priority");
        p && (!p->is_int64() || p->get_int64() < -1000 || p->get_int64() > 1000))
      return Error::Invalid("priority",
                            "priority is a whole number from -1000 to 1000 (the frequency governor)");
    if (const value* oc = c.if_contains("on_cap");
        oc && (!oc->is_string() || (oc->get_string() != "defer" && oc->get_string() != "skip")))
      return Error::Invalid("on_cap", "on_cap is \"defer\" or \"skip\"");
    const value* t = c.if_contains("template");
    if (!t || !t->is_string() || t->get_string().empty())
      return Error::Invalid("template", "send needs the name of a template");
    std::string cls = Str(c, "class");
    if (c.contains("class") && !ParseMessageClass(cls))
      return Error::Invalid("class", "class is \"marketing\" or \"transactional\"");
    if (const value* tp = c.if_contains("topic"); tp && !tp->is_string())
      return Error::Invalid("topic", "topic is a topic key");
    if (const value* d = c.if_contains("data"); d && !d->is_object())
      return Error::Invalid("data", "data is an object of template variables");
    if (const value* sd = c.if_contains("sender"); sd && (!sd->is_int64() || sd->get_int64() <= 0))
      return Error::Invalid("sender", "sender is the id of a sender identity (GET /api/v1/senders)");
    return TargetField(c, "next");
  }
  std::vector<std::string> Templates(const object& c) const override { return {Str(c, "template")}; }

  Result<StepOutcome> Run(StepContext& c) const override {
    const object& cfg = c.step.config;
    std::string next = Str(cfg, "next");
    SendAsk ask;
    ask.workspace_id = c.run.workspace_id;
    ask.contact_id = c.run.contact_id;
    ask.template_name = Str(cfg, "template");
    ask.message_class = ParseMessageClass(Str(cfg, "class")).value_or(MessageClass::kMarketing);
    if (std::string topic = Str(cfg, "topic"); !topic.empty()) ask.topic = topic;
    if (const value* d = cfg.if_contains("data"); d && d->is_object()) ask.data = d->get_object();
    ask.data["entry"] = Entry(c);
    ask.data["journey_id"] = c.run.journey_id;
    ask.idempotency_key = c.idempotency_key;
    if (const value* sd = cfg.if_contains("sender"); sd && sd->is_int64()) ask.sender_id = sd->get_int64();
    ask.source = "journey:" + std::to_string(c.run.journey_id) + ":" + c.step.id;
    if (const value* p = cfg.if_contains("priority"); p && p->is_int64())
      ask.priority = static_cast<int>(p->get_int64());
    ask.skip_on_cap = Str(cfg, "on_cap") == "skip";
    c.detail["template"] = ask.template_name;
    // The journey's own entry filter is checked again before each marketing send, as the send
    // service checks suppression and consent: a contact who left the segment, or no longer
    // matches the entry expression, gets nothing more.
    if (ask.message_class == MessageClass::kMarketing) {
      RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> refused,
                               EntryFilterRefusal(c.journey, ask.workspace_id, ask.contact_id, c.env, true));
      if (refused) {
        c.events.push_back(
            {"journey.message_skipped",
             object{{"step", c.step.id}, {"template", ask.template_name}, {"reason", *refused}}});
        c.detail["skipped"] = true;
        return StepOutcome::Next(next);
      }
    }
    RAPPORT_ASSIGN_OR_RETURN(SendReply reply, c.env.Send(ask));
    if (!reply.queued) {
      c.events.push_back(
          {"journey.message_skipped",
           object{{"step", c.step.id}, {"template", ask.template_name}, {"reason", reply.skipped_reason}}});
      c.detail["skipped"] = true;
      return StepOutcome::Next(next);
    }
    c.context["last_message_id"] = reply.message_id;
    c.detail["message_id"] = reply.message_id;
    if (reply.replayed) c.detail["replayed"] = true;
    c.messages.emplace_back(ask.template_name, reply.subject);
    return StepOutcome::Next(next);
  }
};

// ---- waits ------------------------------------------------------------------------------

class WaitStep final : public StepKind {
 public:
  std::string_view name() const override { return "wait"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"duration", "next"}));
    const value* d = c.if_contains("duration");
    if (!d) return Error::Invalid("duration", "wait needs a duration");
    RAPPORT_ASSIGN_OR_RETURN(Micros duration, ParseDuration(*d, "duration"));
    if (duration <= Micros(0))
      return Error::Invalid(
          "duration",
          "a wait of 0 is a mistake: it holds the run for no time; give 1s or more, or remove "
          "the step");
    return TargetField(c, "next");
  }
  Micros MinimumHold(const object& c) const override {
    const value* d = c.if_contains("duration");
    if (!d) return Micros(0);
    auto duration = ParseDuration(*d, "duration");
    return duration.ok() ? *duration : Micros(0);
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    if (c.resumed) return StepOutcome::Next(Str(c.step.config, "next"));
    RAPPORT_ASSIGN_OR_RETURN(Micros d, ParseDuration(c.step.config.at("duration"), "duration"));
    c.detail["until"] = FormatTimestamp(c.now + d);
    return StepOutcome::WaitUntil(c.now + d);
  }
};

Result<std::vector<int>> Weekdays(const object& c) {
  std::vector<int> out;
  const value* w = c.if_contains("weekdays");
  if (!w) return out;
  if (!w->is_array()) return Error::Invalid("weekdays", "weekdays is a list such as [\"mon\", \"fri\"]");
  for (size_t i = 0; i < w->get_array().size(); ++i) {
    const value& x = w->get_array()[i];
    auto d = x.is_string() ? ParseWeekday(x.get_string()) : std::nullopt;
    if (!d)
      return Error::Invalid(fmt::format("weekdays[{}]", i),
                            "a weekday is sun, mon, tue, wed, thu, fri or sat");
    out.push_back(*d);
  }
  return out;
}

class WaitUntilStep final : public StepKind {
 public:
  std::string_view name() const override { return "wait_until"; }
  // The next such local time is strictly after now (local_time.h): a run comes back to this step
  // a day later at the soonest, or 23 hours across the change to summer time.
  Micros MinimumHold(const object&) const override { return std::chrono::hours(23); }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"at", "weekdays", "next"}));
    const value* at = c.if_contains("at");
    if (!at) return Error::Invalid("at", "wait_until needs a local time \"HH:MM\"");
    RAPPORT_TRY(ParseTimeOfDay(*at, "at"));
    RAPPORT_TRY(Weekdays(c));
    return TargetField(c, "next");
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    if (c.resumed) return StepOutcome::Next(Str(c.step.config, "next"));
    RAPPORT_ASSIGN_OR_RETURN(auto hm, ParseTimeOfDay(c.step.config.at("at"), "at"));
    RAPPORT_ASSIGN_OR_RETURN(std::vector<int> days, Weekdays(c.step.config));
    RAPPORT_ASSIGN_OR_RETURN(Contact contact, c.env.GetContact(c.run.workspace_id, c.run.contact_id));
    Timestamp t = NextLocalTime(c.now, contact.timezone, hm.first, hm.second, days);
    c.detail["until"] = FormatTimestamp(t);
    return StepOutcome::WaitUntil(t);
  }
};

// Holds the run until the contact's best hour for mail (send-time optimization: the advisor's
// choice from the contact's own opens and clicks, shrunk towards the workspace's pattern) within
// `within` (default 24h, 1h..7d), so the next step's send lands when the contact reads mail.
// Its MinimumHold is zero: the best hour may be the current one (and is, without an advisor), so
// it cannot be the only wait of a cycle.
class WaitBestTimeStep final : public StepKind {
 public:
  std::string_view name() const override { return "wait_best_time"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"within", "next"}));
    RAPPORT_TRY(Within(c));
    return TargetField(c, "next");
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    if (c.resumed) return StepOutcome::Next(Str(c.step.config, "next"));
    RAPPORT_ASSIGN_OR_RETURN(Micros within, Within(c.step.config));
    RAPPORT_ASSIGN_OR_RETURN(Timestamp t,
                             c.env.BestSendTime(c.run.workspace_id, c.run.contact_id, c.now, c.now + within));
    if (t < c.now) t = c.now;
    c.detail["until"] = FormatTimestamp(t);
    return StepOutcome::WaitUntil(t);
  }

 private:
  static Result<Micros> Within(const object& c) {
    const value* w = c.if_contains("within");
    if (!w) return Micros(std::chrono::hours(24));
    RAPPORT_ASSIGN_OR_RETURN(Micros d, ParseDuration(*w, "within"));
    if (d < std::chrono::hours(1) || d > std::chrono::hours(24 * 7))
      return Error::Invalid("within", "the window is 1h to 7d");
    return d;
  }
};

class WaitForEventStep final : public StepKind {
 public:
  std::string_view name() const override { return "wait_for_event"; }
  Micros MinimumHold(const object& c) const override {
    const value* t = c.if_contains("timeout");
    if (!t) return Micros(0);
    auto timeout = ParseDuration(*t, "timeout");
    return timeout.ok() ? *timeout : Micros(0);
  }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"event", "match", "where", "timeout", "next", "timeout_next"}));
    if (Str(c, "event").empty()) return Error::Invalid("event", "wait_for_event needs an event name");
    if (const value* m = c.if_contains("match"); m && (!m->is_string() || m->get_string().empty()))
      return Error::Invalid("match", "match names a property of the entry event");
    if (const value* w = c.if_contains("where")) RAPPORT_TRY(ValidateWhere(*w, "where"));
    const value* t = c.if_contains("timeout");
    if (!t) return Error::Invalid("timeout", "wait_for_event needs a timeout");
    RAPPORT_TRY(ParseDuration(*t, "timeout"));
    RAPPORT_TRY(TargetField(c, "next"));
    return TargetField(c, "timeout_next");
  }
  std::vector<StepTarget> Targets(const object& c) const override {
    std::vector<StepTarget> out;
    AddTarget(out, c, "next");
    AddTarget(out, c, "timeout_next");
    return out;
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    const object& cfg = c.step.config;
    if (c.resumed) {
      bool matched = c.context.contains("matched");
      c.context.erase("wait");
      c.context.erase("matched");
      c.detail["outcome"] = matched ? "event" : "timeout";
      return StepOutcome::Next(Str(cfg, matched ? "next" : "timeout_next"));
    }
    object wait{{"event", Str(cfg, "event")}};
    if (std::string m = Str(cfg, "match"); !m.empty()) {
      const value* v = Entry(c).if_contains(m);
      wait["match"] = m;
      wait["value"] = v ? *v : value(nullptr);
    }
    if (const value* w = cfg.if_contains("where")) wait["where"] = *w;
    RAPPORT_ASSIGN_OR_RETURN(Micros t, ParseDuration(cfg.at("timeout"), "timeout"));
    c.context["wait"] = std::move(wait);
    c.detail["until"] = FormatTimestamp(c.now + t);
    return StepOutcome::WaitUntil(c.now + t);
  }
};

// ---- branch and split ---------------------------------------------------------------------

Status ValidateCondition(const value& v) {
  if (!v.is_object() || v.get_object().size() != 1)
    return Error::Invalid(
        "if",
        "a condition is one of {\"segment\": NAME}, {\"expression\": EXPRESSION}, {\"opened\": true}, "
        "{\"clicked\": true}, {\"event\": FILTER}, {\"attributes\": FILTER}");
  const auto& [k, arg] = *v.get_object().begin();
  if (k == "segment") {
    if (!arg.is_string() || arg.get_string().empty()) return Error::Invalid("if.segment", "a segment name");
  } else if (k == "expression") {
    if (!arg.is_string() || arg.get_string().empty())
      return Error::Invalid("if.expression", "a segment expression (docs/segments.md)");
  } else if (k == "opened" || k == "clicked") {
    if (!arg.is_bool()) return Error::Invalid(fmt::format("if.{}", std::string_view(k)), "true or false");
  } else if (k == "event" || k == "attributes") {
    RAPPORT_TRY(ValidateWhere(arg, fmt::format("if.{}", std::string_view(k))));
  } else {
    return Error::Invalid(
        fmt::format("if.{}", std::string_view(k)),
        fmt::format("unknown condition '{}'; known: segment, expression, opened, clicked, event, attributes",
                    std::string_view(k)));
  }
  return {};
}

class BranchStep final : public StepKind {
 public:
  std::string_view name() const override { return "branch"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"if", "then", "else"}));
    const value* cond = c.if_contains("if");
    if (!cond) return Error::Invalid("if", "branch needs a condition");
    RAPPORT_TRY(ValidateCondition(*cond));
    RAPPORT_TRY(TargetField(c, "then"));
    return TargetField(c, "else");
  }
  std::vector<StepTarget> Targets(const object& c) const override {
    std::vector<StepTarget> out;
    AddTarget(out, c, "then");
    AddTarget(out, c, "else");
    return out;
  }
  std::vector<StepExpression> Expressions(const object& c) const override {
    const value* cond = c.if_contains("if");
    if (!cond || !cond->is_object()) return {};
    std::string text = Str(cond->get_object(), "expression");
    if (text.empty()) return {};
    return {StepExpression{"if.expression", text}};
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    const auto& [k, arg] = *c.step.config.at("if").get_object().begin();
    bool yes = false;
    if (k == "segment") {
      RAPPORT_ASSIGN_OR_RETURN(yes, c.env.InSegment(c.run.workspace_id, c.run.contact_id, arg.get_string()));
    } else if (k == "expression") {
      RAPPORT_ASSIGN_OR_RETURN(
          yes, c.env.Matches(c.run.workspace_id, c.run.contact_id, std::string(arg.get_string())));
    } else if (k == "opened" || k == "clicked") {
      const value* m = c.context.if_contains("last_message_id");
      Engagement e;
      if (m && m->is_int64()) {
        RAPPORT_ASSIGN_OR_RETURN(
            e, c.env.MessageEngagement(c.run.workspace_id, c.run.contact_id, m->get_int64()));
      }
      yes = (k == "opened" ? e.opened || e.clicked : e.clicked) == arg.get_bool();
    } else if (k == "event") {
      yes = PropertiesMatch(arg.get_object(), Entry(c));
    } else if (k == "attributes") {
      RAPPORT_ASSIGN_OR_RETURN(Contact contact, c.env.GetContact(c.run.workspace_id, c.run.contact_id));
      yes = PropertiesMatch(arg.get_object(), contact.attributes);
    }
    c.detail["result"] = yes;
    return StepOutcome::Next(Str(c.step.config, yes ? "then" : "else"));
  }
};

class SplitStep final : public StepKind {
 public:
  std::string_view name() const override { return "split"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"paths"}));
    const value* p = c.if_contains("paths");
    if (!p || !p->is_array() || p->get_array().size() < 2)
      return Error::Invalid("paths", "split needs two or more paths");
    int64_t total = 0;
    for (size_t i = 0; i < p->get_array().size(); ++i) {
      const value& x = p->get_array()[i];
      std::string path = fmt::format("paths[{}]", i);
      if (!x.is_object()) return Error::Invalid(path, "a path is {\"percent\": N, \"next\": STEP}");
      const value* pc = x.get_object().if_contains("percent");
      if (!pc || !pc->is_int64() || pc->get_int64() < 0 || pc->get_int64() > 100)
        return Error::Invalid(path + ".percent", "percent is a whole number 0 to 100");
      total += pc->get_int64();
      Status st = TargetField(x.get_object(), "next");
      if (!st.ok()) return Error::Invalid(path + ".next", st.error().message);
      for (const auto& [k, v] : x.get_object())
        if (k != "percent" && k != "next" && k != "name")
          return Error::Invalid(path + "." + std::string(k),
                                fmt::format("unknown field '{}'", std::string_view(k)));
    }
    if (total != 100)
      return Error::Invalid("paths", fmt::format("the percents add up to {}, not 100", total));
    return {};
  }
  std::vector<StepTarget> Targets(const object& c) const override {
    std::vector<StepTarget> out;
    const value* p = c.if_contains("paths");
    if (!p || !p->is_array()) return out;
    for (size_t i = 0; i < p->get_array().size(); ++i)
      if (p->get_array()[i].is_object()) {
        std::string next = Str(p->get_array()[i].get_object(), "next");
        if (!next.empty()) out.push_back({fmt::format("paths[{}].next", i), next});
      }
    return out;
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    int bucket = SplitBucket(c.run.journey_id, c.step.id, c.run.contact_id);
    const json::array& paths = c.step.config.at("paths").get_array();
    int64_t upto = 0;
    for (size_t i = 0; i < paths.size(); ++i) {
      upto += paths[i].get_object().at("percent").get_int64();
      if (bucket < upto) {
        c.detail["path"] = static_cast<int64_t>(i);
        return StepOutcome::Next(Str(paths[i].get_object(), "next"));
      }
    }
    return StepOutcome::Next("");
  }
};

// ---- update, webhook, exit ------------------------------------------------------------------

class UpdateStep final : public StepKind {
 public:
  std::string_view name() const override { return "update"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"attributes", "topics", "next"}));
    const value* a = c.if_contains("attributes");
    const value* t = c.if_contains("topics");
    if (!a && !t) return Error::Invalid("attributes", "update needs attributes or topics");
    if (a && !a->is_object()) return Error::Invalid("attributes", "attributes is an object");
    if (t) {
      if (!t->is_object()) return Error::Invalid("topics", "topics is an object of topic key -> true/false");
      for (const auto& [k, v] : t->get_object())
        if (!v.is_bool())
          return Error::Invalid("topics." + std::string(k), "true subscribes, false unsubscribes");
    }
    return TargetField(c, "next");
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    object attributes;
    std::map<std::string, bool> topics;
    if (const value* a = c.step.config.if_contains("attributes")) attributes = a->get_object();
    if (const value* t = c.step.config.if_contains("topics"))
      for (const auto& [k, v] : t->get_object()) topics[std::string(k)] = v.get_bool();
    RAPPORT_TRY(c.env.UpdateContact(c.run.workspace_id, c.run.contact_id, attributes, topics));
    return StepOutcome::Next(Str(c.step.config, "next"));
  }
};

constexpr int kDefaultWebhookAttempts = 5;

class WebhookStep final : public StepKind {
 public:
  std::string_view name() const override { return "webhook"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"url", "secret", "body", "max_attempts", "next", "failure_next"}));
    std::string url = Str(c, "url");
    if (url.find_first_of("\r\n \t") != std::string::npos)
      return Error::Invalid("url", "url holds whitespace");
    RAPPORT_TRY(ParseHttpUrl(url));  // the webhook client's own rule: scheme, host, port, no credentials
    if (Str(c, "secret").size() < 16) return Error::Invalid("secret", "secret is at least 16 characters");
    if (const value* b = c.if_contains("body"); b && !b->is_object())
      return Error::Invalid("body", "body is an object (sent under \"data\")");
    if (const value* m = c.if_contains("max_attempts");
        m && (!m->is_int64() || m->get_int64() < 1 || m->get_int64() > 20))
      return Error::Invalid("max_attempts", "max_attempts is 1 to 20");
    RAPPORT_TRY(TargetField(c, "next"));
    return TargetField(c, "failure_next");
  }
  std::vector<StepTarget> Targets(const object& c) const override {
    std::vector<StepTarget> out;
    AddTarget(out, c, "next");
    AddTarget(out, c, "failure_next");
    return out;
  }
  Result<StepOutcome> Run(StepContext& c) const override {
    const object& cfg = c.step.config;
    object& attempts = c.context["attempts"].is_object() ? c.context["attempts"].get_object()
                                                         : c.context["attempts"].emplace_object();
    int64_t tried =
        attempts.contains(c.step.id) && attempts[c.step.id].is_int64() ? attempts[c.step.id].get_int64() : 0;
    int64_t max = cfg.contains("max_attempts") ? cfg.at("max_attempts").get_int64() : kDefaultWebhookAttempts;
    object body{{"journey_id", c.run.journey_id},
                {"version", c.run.version},
                {"run_id", c.run.id},
                {"step", c.step.id},
                {"contact_id", c.run.contact_id},
                {"entry", Entry(c)}};
    if (const value* b = cfg.if_contains("body")) body["data"] = *b;
    WebhookAsk ask;
    ask.url = Str(cfg, "url");
    ask.body = WriteJson(body);
    int64_t ts = ToMicros(c.now) / 1000000;
    ask.secret = Str(cfg, "secret");
    ask.timestamp = ts;
    ask.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", c.idempotency_key}};
    WebhookReply reply = c.env.PostWebhook(ask);
    ++tried;
    bool ok = reply.status >= 200 && reply.status < 300;
    object outcome{{"step", c.step.id}, {"url", ask.url}, {"status", reply.status}, {"attempt", tried}};
    if (!reply.error.empty()) outcome["error"] = reply.error;
    if (ok || tried >= max) {
      attempts.erase(c.step.id);
      outcome["outcome"] = ok ? "delivered" : "failed";
      c.events.push_back({"journey.webhook", std::move(outcome)});
      c.detail["status"] = reply.status;
      return StepOutcome::Next(Str(cfg, ok || Str(cfg, "failure_next").empty() ? "next" : "failure_next"));
    }
    attempts[c.step.id] = tried;
    outcome["outcome"] = "retry";
    c.events.push_back({"journey.webhook", std::move(outcome)});
    // 30 s, 2 min, 8 min, 32 min ... at most 6 h.
    int64_t backoff = std::min<int64_t>(30LL << (2 * std::min<int64_t>(tried - 1, 10)), 6 * 3600);
    c.detail["retry_in_seconds"] = backoff;
    return StepOutcome::WaitUntil(c.now + std::chrono::seconds(backoff));
  }
};

class ExitStep final : public StepKind {
 public:
  std::string_view name() const override { return "exit"; }
  Status Validate(const object& c) const override {
    RAPPORT_TRY(Keys(c, {"reason"}));
    if (const value* r = c.if_contains("reason"); r && !r->is_string())
      return Error::Invalid("reason", "a string");
    return {};
  }
  std::vector<StepTarget> Targets(const object&) const override { return {}; }
  Result<StepOutcome> Run(StepContext& c) const override {
    std::string reason = Str(c.step.config, "reason");
    return StepOutcome::Exit(reason.empty() ? "exit step " + c.step.id : reason);
  }
};

}  // namespace

int SplitBucket(JourneyId journey, std::string_view step, ContactId contact) {
  return static_cast<int>(Fnv1a64(fmt::format("{}:{}:{}", journey, step, contact)) % 100);
}

Status RegisterBuiltinSteps(StepRegistry& registry) {
  RAPPORT_TRY(registry.Register(std::make_unique<SendStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<WaitStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<WaitUntilStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<WaitBestTimeStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<WaitForEventStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<BranchStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<SplitStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<UpdateStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<WebhookStep>()));
  RAPPORT_TRY(registry.Register(std::make_unique<ExitStep>()));
  return {};
}

}  // namespace rapport::automation
