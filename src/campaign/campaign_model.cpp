#include "campaign/campaign_model.h"

#include <fmt/format.h>

#include <set>

#include "core/model.h"

namespace rapport::campaign {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNames = 20;
constexpr size_t kMaxVariants = 8;
constexpr size_t kMaxOverrideBytes = 2000;

Error Bad(std::string field, std::string msg) { return Error::Invalid(std::move(field), std::move(msg)); }

Status CheckKeys(const json::object& o, std::string_view path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool ok = false;
    for (auto a : allowed) ok = ok || kv.key() == a;
    if (!ok) {
      std::string field =
          path.empty() ? std::string(kv.key()) : fmt::format("{}.{}", path, std::string(kv.key()));
      return Bad(field, fmt::format("unknown setting '{}'", std::string(kv.key()).substr(0, 64)));
    }
  }
  return {};
}

Result<std::string> Str(const json::value& v, const std::string& field) {
  if (!v.is_string()) return Bad(field, "must be a string");
  return std::string(v.get_string());
}

Result<double> Num(const json::value& v, const std::string& field) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return Bad(field, "must be a number");
}

Result<int64_t> Int(const json::value& v, const std::string& field) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get_uint64());
  if (v.is_double() && v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double())))
    return static_cast<int64_t>(v.get_double());
  return Bad(field, "must be an integer");
}

Result<std::vector<std::string>> Names(const json::object& o, std::string_view key, const std::string& path,
                                       bool topics) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return out;
  std::string field = fmt::format("{}.{}", path, key);
  if (!v->is_array()) return Bad(field, "must be a list of names");
  if (v->get_array().size() > kMaxNames) return Bad(field, fmt::format("at most {} names", kMaxNames));
  for (size_t i = 0; i < v->get_array().size(); ++i) {
    std::string f = fmt::format("{}[{}]", field, i);
    RAPPORT_ASSIGN_OR_RETURN(std::string name, Str(v->get_array()[i], f));
    Status st = topics ? ValidateTopicKey(name) : ValidateSlug(name, f, "a segment name");
    if (!st.ok()) return Bad(f, st.error().message);
    out.push_back(std::move(name));
  }
  return out;
}

Result<Timestamp> Time(const json::value& v, const std::string& field) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, Str(v, field));
  auto t = ParseTimestamp(s);
  if (!t) return Bad(field, "must be an RFC 3339 time with a zone (\"2026-12-08T10:00:00Z\")");
  return *t;
}

Result<LocalDateTime> Local(const json::value& v, const std::string& field) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, Str(v, field));
  auto t = ParseLocalDateTime(s);
  if (!t) return Bad(field, "must be a wall time without a zone (\"2026-12-08T10:00\")");
  return *t;
}

Result<Schedule> ParseSchedule(const json::value* v) {
  Schedule s;
  if (!v || v->is_null()) return s;
  if (!v->is_object()) return Bad("schedule", "must be an object");
  const json::object& o = v->get_object();
  RAPPORT_TRY(CheckKeys(o, "schedule",
                        {"type", "at", "until", "local_time", "timezone", "rrule", "dtstart", "local"}));
  const json::value* type = o.if_contains("type");
  if (!type) return Bad("schedule.type", "is required: now, at, local, sto or recurring");
  RAPPORT_ASSIGN_OR_RETURN(std::string t, Str(*type, "schedule.type"));
  auto need = [&](std::string_view key) -> Result<const json::value*> {
    const json::value* x = o.if_contains(key);
    if (!x) return Bad(fmt::format("schedule.{}", key), fmt::format("is required for a '{}' schedule", t));
    return x;
  };
  if (const json::value* tz = o.if_contains("timezone")) {
    RAPPORT_ASSIGN_OR_RETURN(s.timezone, Str(*tz, "schedule.timezone"));
    if (!s.timezone.empty() && !IsValidTimezone(s.timezone))
      return Bad("schedule.timezone", fmt::format("unknown time zone '{}'", s.timezone.substr(0, 64)));
  }
  if (t == "now") {
    s.kind = ScheduleKind::kNow;
  } else if (t == "at") {
    s.kind = ScheduleKind::kAt;
    RAPPORT_ASSIGN_OR_RETURN(const json::value* at, need("at"));
    RAPPORT_ASSIGN_OR_RETURN(s.at, Time(*at, "schedule.at"));
  } else if (t == "local") {
    s.kind = ScheduleKind::kLocal;
    RAPPORT_ASSIGN_OR_RETURN(const json::value* at, need("local_time"));
    RAPPORT_ASSIGN_OR_RETURN(s.local, Local(*at, "schedule.local_time"));
  } else if (t == "sto") {
    s.kind = ScheduleKind::kSto;
    RAPPORT_ASSIGN_OR_RETURN(const json::value* at, need("at"));
    RAPPORT_ASSIGN_OR_RETURN(s.at, Time(*at, "schedule.at"));
    RAPPORT_ASSIGN_OR_RETURN(const json::value* until, need("until"));
    RAPPORT_ASSIGN_OR_RETURN(s.until, Time(*until, "schedule.until"));
    if (s.until <= s.at) return Bad("schedule.until", "must be after schedule.at");
    if (s.until - s.at > std::chrono::hours(24 * 7))
      return Bad("schedule.until", "a window is at most 7 days");
  } else if (t == "recurring") {
    s.kind = ScheduleKind::kRecurring;
    RAPPORT_ASSIGN_OR_RETURN(const json::value* rule, need("rrule"));
    RAPPORT_ASSIGN_OR_RETURN(s.rrule, Str(*rule, "schedule.rrule"));
    RAPPORT_ASSIGN_OR_RETURN(const json::value* start, need("dtstart"));
    RAPPORT_ASSIGN_OR_RETURN(s.dtstart, Local(*start, "schedule.dtstart"));
    if (const json::value* local = o.if_contains("local")) {
      if (!local->is_bool()) return Bad("schedule.local", "must be true or false");
      s.per_contact = local->get_bool();
    }
    auto rec = Recurrence::Make(s.rrule, s.dtstart, s.timezone.empty() ? "UTC" : s.timezone);
    if (!rec.ok()) return Bad("schedule." + rec.error().field, rec.error().message);
    s.rrule = FormatRRule(rec->rule());
  } else {
    return Bad("schedule.type",
               fmt::format("'{}' is not one of now, at, local, sto, recurring", t.substr(0, 32)));
  }
  return s;
}

Result<std::optional<std::string>> OptionalText(const json::object& o, std::string_view key,
                                                const std::string& field) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>();
  RAPPORT_ASSIGN_OR_RETURN(std::string s, Str(*v, field));
  if (s.size() > kMaxOverrideBytes) return Bad(field, fmt::format("at most {} bytes", kMaxOverrideBytes));
  if (s.find_first_of("\r\n") != std::string::npos) return Bad(field, "must not contain a line break");
  return std::optional<std::string>(std::move(s));
}

}  // namespace

std::string_view ScheduleKindName(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::kNow: return "now";
    case ScheduleKind::kAt: return "at";
    case ScheduleKind::kLocal: return "local";
    case ScheduleKind::kSto: return "sto";
    case ScheduleKind::kRecurring: return "recurring";
  }
  return "now";
}

std::string SendTimeName(const Variant& v) {
  if (v.optimized_send_time) return "optimized";
  if (v.local_send_time) return FormatTimeOfDay(*v.local_send_time);
  return "scheduled";
}

Result<CampaignDef> ParseCampaign(const json::value& doc) {
  if (!doc.is_object()) return Bad("", "a campaign is a JSON object");
  const json::object& o = doc.get_object();
  RAPPORT_TRY(CheckKeys(o, "",
                        {"name", "audience", "template", "variants", "sender_id", "topic", "schedule",
                         "throttle_per_minute", "archive", "experiment", "holdout_share", "governance",
                         "data", "conversion_window_days", "send_time_window_hours"}));
  CampaignDef d;
  // Audience.
  const json::value* aud = o.if_contains("audience");
  if (!aud || !aud->is_object()) return Bad("audience", "an audience object is required");
  const json::object& a = aud->get_object();
  RAPPORT_TRY(
      CheckKeys(a, "audience", {"include_segments", "exclude_segments", "include_topics", "exclude_topics"}));
  RAPPORT_ASSIGN_OR_RETURN(d.audience.include_segments, Names(a, "include_segments", "audience", false));
  RAPPORT_ASSIGN_OR_RETURN(d.audience.exclude_segments, Names(a, "exclude_segments", "audience", false));
  RAPPORT_ASSIGN_OR_RETURN(d.audience.include_topics, Names(a, "include_topics", "audience", true));
  RAPPORT_ASSIGN_OR_RETURN(d.audience.exclude_topics, Names(a, "exclude_topics", "audience", true));
  if (d.audience.include_segments.empty() && d.audience.include_topics.empty())
    return Bad("audience.include_segments", "name at least one segment or topic to include");
  // Template and variants.
  std::string tpl;
  if (const json::value* t = o.if_contains("template"); t && !t->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(tpl, Str(*t, "template"));
    RAPPORT_TRY(ValidateSlug(tpl, "template", "a template name"));
  }
  if (const json::value* vs = o.if_contains("variants"); vs && !vs->is_null()) {
    if (!vs->is_array()) return Bad("variants", "must be a list");
    if (vs->get_array().size() > kMaxVariants)
      return Bad("variants", fmt::format("at most {} variants", kMaxVariants));
    std::set<std::string> names;
    for (size_t i = 0; i < vs->get_array().size(); ++i) {
      std::string path = fmt::format("variants[{}]", i);
      const json::value& v = vs->get_array()[i];
      if (!v.is_object()) return Bad(path, "a variant is an object");
      const json::object& vo = v.get_object();
      RAPPORT_TRY(
          CheckKeys(vo, path, {"name", "template", "subject", "preheader", "from_name", "send_time"}));
      Variant var;
      var.name = std::string(1, static_cast<char>('A' + i));
      if (const json::value* n = vo.if_contains("name")) {
        RAPPORT_ASSIGN_OR_RETURN(var.name, Str(*n, path + ".name"));
        if (var.name.empty() || var.name.size() > 64) return Bad(path + ".name", "1 to 64 characters");
      }
      if (!names.insert(var.name).second) return Bad(path + ".name", "variant names are unique");
      var.template_name = tpl;
      if (const json::value* t = vo.if_contains("template"); t && !t->is_null()) {
        RAPPORT_ASSIGN_OR_RETURN(var.template_name, Str(*t, path + ".template"));
        RAPPORT_TRY(ValidateSlug(var.template_name, path + ".template", "a template name"));
      }
      if (var.template_name.empty())
        return Bad(path + ".template", "a variant needs a template (or the campaign's)");
      RAPPORT_ASSIGN_OR_RETURN(var.subject, OptionalText(vo, "subject", path + ".subject"));
      RAPPORT_ASSIGN_OR_RETURN(var.preheader, OptionalText(vo, "preheader", path + ".preheader"));
      RAPPORT_ASSIGN_OR_RETURN(var.from_name, OptionalText(vo, "from_name", path + ".from_name"));
      if (const json::value* st = vo.if_contains("send_time"); st && !st->is_null()) {
        RAPPORT_ASSIGN_OR_RETURN(std::string mode, Str(*st, path + ".send_time"));
        if (mode == "optimized") {
          var.optimized_send_time = true;
        } else if (mode != "scheduled") {
          var.local_send_time = ParseTimeOfDay(mode);
          if (!var.local_send_time)
            return Bad(path + ".send_time",
                       "is \"scheduled\", \"optimized\" or a local time of day \"HH:MM\" (00:00 to 23:59)");
        }
      }
      d.variants.push_back(std::move(var));
    }
  }
  if (d.variants.empty()) {
    if (tpl.empty()) return Bad("template", "a campaign needs a template or variants");
    d.variants.push_back(Variant{"A", tpl, std::nullopt, std::nullopt, std::nullopt, false, std::nullopt});
  }
  if (const json::value* s = o.if_contains("sender_id"); s && !s->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(int64_t id, Int(*s, "sender_id"));
    if (id <= 0) return Bad("sender_id", "must be a sender's id");
    d.sender_id = id;
  }
  if (const json::value* t = o.if_contains("topic"); t && !t->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(std::string topic, Str(*t, "topic"));
    if (Status st = ValidateTopicKey(topic); !st.ok()) return Bad("topic", st.error().message);
    d.topic = std::move(topic);
  }
  RAPPORT_ASSIGN_OR_RETURN(d.schedule, ParseSchedule(o.if_contains("schedule")));
  for (size_t i = 0; i < d.variants.size(); ++i) {
    if (d.schedule.kind != ScheduleKind::kSto) break;
    if (d.variants[i].optimized_send_time)
      return Bad(fmt::format("variants[{}].send_time", i),
                 "the schedule already optimizes every send time (type \"sto\"); give the campaign a "
                 "fixed schedule to compare against");
    if (d.variants[i].local_send_time)
      return Bad(fmt::format("variants[{}].send_time", i),
                 "the schedule already chooses every send time (type \"sto\"); give the campaign a "
                 "fixed schedule to send at a time of day");
  }
  if (const json::value* w = o.if_contains("send_time_window_hours"); w && !w->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(int64_t hours, Int(*w, "send_time_window_hours"));
    if (hours < 1 || hours > 168) return Bad("send_time_window_hours", "is 1..168");
    d.send_time_window = std::chrono::hours(hours);
  }
  if (const json::value* t = o.if_contains("throttle_per_minute"); t && !t->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(int64_t n, Int(*t, "throttle_per_minute"));
    if (n < 0 || n > 10'000'000) return Bad("throttle_per_minute", "0 (no throttle) to 10000000");
    d.throttle_per_minute = static_cast<int>(n);
  }
  if (const json::value* ar = o.if_contains("archive"); ar && !ar->is_null()) {
    if (!ar->is_bool()) return Bad("archive", "must be true or false");
    d.archive = ar->get_bool();
  }
  if (const json::value* h = o.if_contains("holdout_share"); h && !h->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(d.holdout_share, Num(*h, "holdout_share"));
    if (!(d.holdout_share >= 0 && d.holdout_share <= 0.5)) return Bad("holdout_share", "is 0 to 0.5");
  }
  d.experiment.enabled = d.variants.size() > 1;
  if (const json::value* e = o.if_contains("experiment"); e && !e->is_null()) {
    if (!e->is_object()) return Bad("experiment", "must be an object");
    const json::object& eo = e->get_object();
    RAPPORT_TRY(
        CheckKeys(eo, "experiment",
                  {"test_share", "metric", "wait_minutes", "min_recipients", "probability", "fallback"}));
    ExperimentSettings& x = d.experiment;
    if (const json::value* v = eo.if_contains("test_share")) {
      RAPPORT_ASSIGN_OR_RETURN(x.test_share, Num(*v, "experiment.test_share"));
      if (!(x.test_share > 0 && x.test_share <= 1))
        return Bad("experiment.test_share", "is above 0, at most 1");
    }
    if (const json::value* v = eo.if_contains("metric")) {
      RAPPORT_ASSIGN_OR_RETURN(std::string m, Str(*v, "experiment.metric"));
      auto metric = ParseWinnerMetric(m);
      if (!metric)
        return Bad("experiment.metric", "one of human_opens, clicks, conversions, revenue_per_recipient");
      x.metric = *metric;
    }
    if (const json::value* v = eo.if_contains("wait_minutes")) {
      RAPPORT_ASSIGN_OR_RETURN(int64_t m, Int(*v, "experiment.wait_minutes"));
      if (m < 0 || m > 60 * 24 * 14) return Bad("experiment.wait_minutes", "0 to 20160 (14 days)");
      x.wait = std::chrono::minutes(m);
    }
    if (const json::value* v = eo.if_contains("min_recipients")) {
      RAPPORT_ASSIGN_OR_RETURN(x.min_recipients, Int(*v, "experiment.min_recipients"));
      if (x.min_recipients < 1) return Bad("experiment.min_recipients", "at least 1");
    }
    if (const json::value* v = eo.if_contains("probability")) {
      RAPPORT_ASSIGN_OR_RETURN(x.probability, Num(*v, "experiment.probability"));
      if (!(x.probability >= 0.5 && x.probability < 1))
        return Bad("experiment.probability", "0.5 to below 1");
    }
    if (const json::value* v = eo.if_contains("fallback")) {
      if (v->is_string()) {
        bool found = false;
        for (size_t i = 0; i < d.variants.size(); ++i)
          if (d.variants[i].name == v->get_string()) {
            x.fallback = static_cast<int>(i);
            found = true;
          }
        if (!found) return Bad("experiment.fallback", "names no variant");
      } else {
        RAPPORT_ASSIGN_OR_RETURN(int64_t f, Int(*v, "experiment.fallback"));
        if (f < 0 || f >= static_cast<int64_t>(d.variants.size()))
          return Bad("experiment.fallback", "is a variant's index");
        x.fallback = static_cast<int>(f);
      }
    }
  }
  if (const json::value* g = o.if_contains("governance"); g && !g->is_null()) {
    if (!g->is_object()) return Bad("governance", "must be an object");
    const json::object& go = g->get_object();
    RAPPORT_TRY(CheckKeys(go, "governance", {"priority", "on_cap"}));
    if (const json::value* p = go.if_contains("priority")) {
      RAPPORT_ASSIGN_OR_RETURN(int64_t pr, Int(*p, "governance.priority"));
      if (pr < -100 || pr > 100) return Bad("governance.priority", "is -100..100");
      d.governance.priority = static_cast<int>(pr);
    }
    if (const json::value* c = go.if_contains("on_cap")) {
      RAPPORT_ASSIGN_OR_RETURN(d.governance.on_cap, Str(*c, "governance.on_cap"));
      if (d.governance.on_cap != "defer" && d.governance.on_cap != "skip")
        return Bad("governance.on_cap", "is defer or skip");
    }
  }
  if (const json::value* data = o.if_contains("data"); data && !data->is_null()) {
    if (!data->is_object()) return Bad("data", "must be an object");
    d.data = data->get_object();
  }
  if (const json::value* w = o.if_contains("conversion_window_days"); w && !w->is_null()) {
    RAPPORT_ASSIGN_OR_RETURN(int64_t days, Int(*w, "conversion_window_days"));
    if (days < 1 || days > 90) return Bad("conversion_window_days", "is 1..90");
    d.conversion_window_days = static_cast<int>(days);
  }
  return d;
}

json::object CampaignToJson(const CampaignDef& d) {
  json::object o;
  auto names = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  o["audience"] = json::object{{"include_segments", names(d.audience.include_segments)},
                               {"exclude_segments", names(d.audience.exclude_segments)},
                               {"include_topics", names(d.audience.include_topics)},
                               {"exclude_topics", names(d.audience.exclude_topics)}};
  json::array vs;
  for (const Variant& v : d.variants) {
    json::object vo{{"name", v.name}, {"template", v.template_name}};
    if (v.subject) vo["subject"] = *v.subject;
    if (v.preheader) vo["preheader"] = *v.preheader;
    if (v.from_name) vo["from_name"] = *v.from_name;
    vo["send_time"] = SendTimeName(v);
    vs.emplace_back(std::move(vo));
  }
  o["template"] = d.variants.front().template_name;
  o["variants"] = std::move(vs);
  o["sender_id"] = d.sender_id ? json::value(*d.sender_id) : json::value(nullptr);
  o["topic"] = d.topic ? json::value(*d.topic) : json::value(nullptr);
  json::object s{{"type", ScheduleKindName(d.schedule.kind)}};
  switch (d.schedule.kind) {
    case ScheduleKind::kNow: break;
    case ScheduleKind::kAt: s["at"] = FormatTimestamp(d.schedule.at); break;
    case ScheduleKind::kLocal: s["local_time"] = FormatLocalDateTime(d.schedule.local); break;
    case ScheduleKind::kSto:
      s["at"] = FormatTimestamp(d.schedule.at);
      s["until"] = FormatTimestamp(d.schedule.until);
      break;
    case ScheduleKind::kRecurring:
      s["rrule"] = d.schedule.rrule;
      s["dtstart"] = FormatLocalDateTime(d.schedule.dtstart);
      s["local"] = d.schedule.per_contact;
      break;
  }
  if (!d.schedule.timezone.empty()) s["timezone"] = d.schedule.timezone;
  o["schedule"] = std::move(s);
  o["throttle_per_minute"] = d.throttle_per_minute;
  o["archive"] = d.archive;
  o["holdout_share"] = d.holdout_share;
  o["experiment"] = json::object{
      {"test_share", d.experiment.test_share},
      {"metric", WinnerMetricName(d.experiment.metric)},
      {"wait_minutes", std::chrono::duration_cast<std::chrono::minutes>(d.experiment.wait).count()},
      {"min_recipients", d.experiment.min_recipients},
      {"probability", d.experiment.probability},
      {"fallback", d.experiment.fallback}};
  o["governance"] = json::object{{"priority", d.governance.priority}, {"on_cap", d.governance.on_cap}};
  o["data"] = d.data;
  o["conversion_window_days"] = d.conversion_window_days;
  o["send_time_window_hours"] = std::chrono::duration_cast<std::chrono::hours>(d.send_time_window).count();
  return o;
}

}  // namespace rapport::campaign
