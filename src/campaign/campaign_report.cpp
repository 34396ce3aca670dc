// CampaignService::Report: per occurrence, the frozen recipients grouped by variant (test
// portion), the rest (sent the winner or the fallback) and the holdout, each with what its mail
// did (campaign_outcomes.h); the experiment's probabilities and sample-ratio check (campaign::Decide
// on the test portion as of now, beside the stored decision); the lift of the treated against the
// holdout with its 95% interval (ConversionLift, RevenueLift). CampaignService::ProgrammeReport: the
// global holdout against the rest of the workspace over a period, from the OutcomeSource.
#include <fmt/format.h>

#include <date/date.h>

#include <algorithm>
#include <map>

#include "campaign/campaign_outcomes.h"
#include "campaign/campaign_service.h"
#include "campaign/governor.h"
#include "core/json_parse.h"
#include "core/report_period.h"

namespace rapport::campaign {

namespace json = boost::json;

namespace {

json::object GroupJson(const GroupTotals& t) {
  auto rate = [&](int64_t n) {
    return t.sent > 0 ? static_cast<double>(n) / static_cast<double>(t.sent) : 0.0;
  };
  return json::object{{"recipients", t.recipients},
                      {"sent", t.sent},
                      {"skipped", t.skipped},
                      {"delivered", t.delivered},
                      {"opens_human", t.opened_human},
                      {"opens_machine", t.opened_machine},
                      {"clicks_human", t.clicked_human},
                      {"clicks_machine", t.clicked_machine},
                      {"conversions", t.conversions},
                      {"converters", t.converters},
                      {"revenue", t.revenue},
                      {"unsubscribes", t.unsubscribed},
                      {"complaints", t.complained},
                      {"open_rate", rate(t.opened_human)},
                      {"click_rate", rate(t.clicked_human)}};
}

json::object LiftJson(const Lift& l) {
  return json::object{{"treated", l.treated},
                      {"holdout", l.holdout},
                      {"absolute", l.absolute},
                      {"relative", l.relative},
                      {"low", l.low},
                      {"high", l.high},
                      {"probability_positive", l.probability_positive}};
}

std::string_view VerdictName(Verdict v) {
  return v == Verdict::kHelped ? "helped" : v == Verdict::kHurt ? "hurt" : "inconclusive";
}

// Send-time groups as the report's sentences call them: the treated side ("Sending at 18:00 local
// time helped ...") and the control side ("... from 4.0% (09:00 local time) to ...").
std::string SendTimeSubject(const std::string& key) {
  if (key == "scheduled") return "The scheduled time";
  if (key == "optimized") return "Send-time optimization";
  return "Sending at " + key + " local time";
}

std::string SendTimeObject(const std::string& key) {
  if (key == "scheduled") return "the scheduled time";
  if (key == "optimized") return "send-time optimization";
  return key + " local time";
}

// The report's experiment.send_time: the test's variants grouped by send time (`keys` in the
// order of the variants: "scheduled", "optimized", each "HH:MM"), each group's value of the
// metric, the probability that each is best (campaign::Decide on the groups, its rules the
// experiment's) and every group against the reference (the scheduled time when a variant has it,
// else the first group). With optimized and scheduled variants, also the verdict, lift and summary
// of send-time optimization against the scheduled time, as before there were times of day.
json::object SendTimeJson(const CampaignDef& def, const std::vector<std::string>& keys,
                          const std::map<std::string, GroupTotals>& groups) {
  const WinnerMetric metric = def.experiment.metric;
  std::vector<ArmOutcome> arms;
  std::vector<double> shares;  // the planned split: each group's number of variants
  DecisionRules rules;
  rules.min_recipients_per_variant = def.experiment.min_recipients;
  rules.min_probability = def.experiment.probability;
  for (const std::string& key : keys) {
    arms.push_back(groups.at(key).Outcome(metric));
    shares.push_back(static_cast<double>(std::count_if(
        def.variants.begin(), def.variants.end(), [&](const Variant& v) { return SendTimeName(v) == key; })));
    rules.variant_names.push_back(key);
  }
  const campaign::Decision d = campaign::Decide(metric, arms, rules, shares);
  json::array group_json;
  for (size_t i = 0; i < keys.size(); ++i) {
    json::array names;
    for (const Variant& v : def.variants)
      if (SendTimeName(v) == keys[i]) names.emplace_back(v.name);
    const ArmOutcome& a = arms[i];
    const double n = static_cast<double>(a.recipients);
    const double value = n <= 0 ? 0.0
                         : metric == WinnerMetric::kRevenuePerRecipient
                             ? a.revenue / n
                             : static_cast<double>(a.successes) / n;
    group_json.emplace_back(
        json::object{{"send_time", keys[i]},
                     {"variants", std::move(names)},
                     {"recipients", groups.at(keys[i]).recipients},
                     {"sent", a.recipients},
                     {"value", value},
                     {"probability_best", i < d.probability_best.size() ? d.probability_best[i] : 0.0}});
  }
  json::object out;
  out["groups"] = std::move(group_json);
  out["best"] = d.winner ? json::value(keys[static_cast<size_t>(*d.winner)]) : json::value(nullptr);
  const std::string reference = std::find(keys.begin(), keys.end(), "scheduled") != keys.end()
                                    ? std::string("scheduled")
                                    : keys.front();
  out["reference"] = reference;
  json::array comparisons;
  for (const std::string& key : keys) {
    if (key == reference) continue;
    Comparison cmp = Compare(metric, groups.at(key).Outcome(metric), groups.at(reference).Outcome(metric),
                             SendTimeSubject(key), SendTimeObject(reference), def.experiment.probability);
    comparisons.emplace_back(json::object{{"send_time", key},
                                          {"against", reference},
                                          {"verdict", VerdictName(cmp.verdict)},
                                          {"lift", LiftJson(cmp.lift)},
                                          {"summary", cmp.sentence}});
  }
  out["comparisons"] = std::move(comparisons);
  // Send-time optimization against the scheduled time, at the top as the report first had it.
  auto optimized = groups.find("optimized"), scheduled = groups.find("scheduled");
  if (optimized != groups.end() && scheduled != groups.end() && optimized->second.recipients > 0 &&
      scheduled->second.recipients > 0) {
    Comparison cmp = Compare(metric, optimized->second.Outcome(metric), scheduled->second.Outcome(metric),
                             "Send-time optimization", "the scheduled time", def.experiment.probability);
    out["verdict"] = VerdictName(cmp.verdict);
    out["lift"] = LiftJson(cmp.lift);
    out["summary"] = cmp.sentence;
  }
  return out;
}

Result<CampaignDef> ParseStored(const Campaign& c) {
  try {
    return ParseCampaign(ParseJsonExact(c.definition));
  } catch (const std::exception& e) {
    return Error::Internal(fmt::format("campaign {}: stored settings do not parse: {}", c.id, e.what()));
  }
}

}  // namespace

Result<json::object> CampaignService::Report(WorkspaceId ws, CampaignId id) {
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, store_.campaigns().Get(ws, id));
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, ParseStored(c));
  RAPPORT_ASSIGN_OR_RETURN(auto occs, store_.campaigns().ListOccurrences(ws, id));
  const Timestamp now = clock_.Now();
  json::array occurrences;
  for (const CampaignOccurrence& occ : occs) {
    OutcomeOptions oo;
    oo.goal_event = options_.goal_event;
    oo.revenue_property = options_.revenue_property;
    oo.from = occ.started_at;
    oo.to = occ.started_at + std::chrono::hours(24 * def.conversion_window_days);
    oo.topic = def.topic;
    std::vector<GroupTotals> variants(def.variants.size());
    GroupTotals rest, holdout, treated;
    // The test's variants by send time ("scheduled", "optimized", "HH:MM"), keys in variant order.
    std::vector<std::string> send_time_of, send_time_keys;
    for (const Variant& v : def.variants) {
      send_time_of.push_back(SendTimeName(v));
      if (std::find(send_time_keys.begin(), send_time_keys.end(), send_time_of.back()) ==
          send_time_keys.end())
        send_time_keys.push_back(send_time_of.back());
    }
    std::map<std::string, GroupTotals> by_send_time;
    for (const std::string& key : send_time_keys) by_send_time.try_emplace(key);
    int64_t pending = 0;
    ContactId after = 0;
    for (;;) {
      RAPPORT_ASSIGN_OR_RETURN(auto page, store_.campaigns().Recipients(occ.id, after, 1000));
      if (page.empty()) break;
      after = page.back().contact_id;
      for (const CampaignRecipient& r : page) {
        pending += r.status == RecipientStatus::kPending;
        RecipientResult x;
        if (r.status != RecipientStatus::kPending) {
          RAPPORT_ASSIGN_OR_RETURN(x, ReadRecipientResult(store_.events(), ws, r, oo));
        }
        if (r.arm == RecipientArm::kHoldout) {
          holdout.Add(r, x);
          continue;
        }
        if (r.arm == RecipientArm::kRest) {
          rest.Add(r, x);
        } else if (r.variant >= 0 && r.variant < static_cast<int>(variants.size())) {
          variants[static_cast<size_t>(r.variant)].Add(r, x);
          by_send_time[send_time_of[static_cast<size_t>(r.variant)]].Add(r, x);
        }
        if (r.status == RecipientStatus::kQueued) treated.Add(r, x);
      }
    }
    json::object o;
    o["id"] = occ.id;
    o["seq"] = occ.seq;
    o["scheduled_at"] = FormatTimestamp(occ.scheduled_at);
    o["started_at"] = FormatTimestamp(occ.started_at);
    o["finished_at"] =
        occ.finished_at ? json::value(FormatTimestamp(*occ.finished_at)) : json::value(nullptr);
    o["state"] = OccurrenceStateName(occ.state);
    o["recipients"] = occ.recipients;
    o["pending"] = pending;
    json::array vs;
    for (size_t i = 0; i < variants.size(); ++i) {
      json::object v = GroupJson(variants[i]);
      v["name"] = def.variants[i].name;
      vs.emplace_back(std::move(v));
    }
    o["variants"] = std::move(vs);
    json::object rest_json = GroupJson(rest);
    rest_json["variant"] = occ.send_variant >= 0 && occ.send_variant < static_cast<int>(def.variants.size())
                               ? json::value(def.variants[static_cast<size_t>(occ.send_variant)].name)
                               : json::value(nullptr);
    o["rest"] = std::move(rest_json);
    o["holdout"] = GroupJson(holdout);
    if (def.variants.size() > 1 && def.experiment.enabled) {
      std::vector<ArmOutcome> arms;
      for (const GroupTotals& t : variants) arms.push_back(t.Outcome(def.experiment.metric));
      DecisionRules rules;
      rules.min_recipients_per_variant = def.experiment.min_recipients;
      rules.min_probability = def.experiment.probability;
      rules.fallback_variant = def.experiment.fallback;
      for (const Variant& v : def.variants) rules.variant_names.push_back(v.name);
      // The split is checked on who was assigned (recipients), the metric on who was sent.
      std::vector<int64_t> assigned;
      for (const GroupTotals& t : variants) assigned.push_back(t.recipients);
      campaign::Decision d = campaign::Decide(def.experiment.metric, arms, rules);
      json::object e;
      e["metric"] = WinnerMetricName(def.experiment.metric);
      json::object probs;
      for (size_t i = 0; i < d.probability_best.size() && i < def.variants.size(); ++i)
        probs[def.variants[i].name] = d.probability_best[i];
      e["probability_best"] = std::move(probs);
      e["leader"] =
          d.winner ? json::value(def.variants[static_cast<size_t>(*d.winner)].name) : json::value(nullptr);
      e["winner_probability"] =
          d.winner ? d.probability_best[static_cast<size_t>(*d.winner)]
                   : (d.probability_best.empty()
                          ? 0.0
                          : *std::max_element(d.probability_best.begin(), d.probability_best.end()));
      double srm = SampleRatioPValue(assigned);
      e["srm_p_value"] = srm;
      e["srm_warning"] = srm < rules.srm_alpha;
      e["reason"] = d.reason;
      e["decision"] = occ.decision.empty() ? json::value(nullptr) : ParseJsonExact(occ.decision);
      // The variants' send times against each other (STO against a fixed time, morning against
      // evening): when they have two or more.
      if (send_time_keys.size() > 1) e["send_time"] = SendTimeJson(def, send_time_keys, by_send_time);
      o["experiment"] = std::move(e);
    }
    if (holdout.recipients > 0) {
      o["lift"] = json::object{
          {"conversion", LiftJson(ConversionLift(treated.Outcome(WinnerMetric::kConversions),
                                                 holdout.Outcome(WinnerMetric::kConversions, true)))},
          {"revenue_per_recipient",
           LiftJson(RevenueLift(treated.Outcome(WinnerMetric::kRevenuePerRecipient),
                                holdout.Outcome(WinnerMetric::kRevenuePerRecipient, true)))}};
    } else {
      o["lift"] = nullptr;
    }
    occurrences.emplace_back(std::move(o));
  }
  json::object out;
  out["campaign"] = ToJson(c);
  out["generated_at"] = FormatTimestamp(now);
  out["occurrences"] = std::move(occurrences);
  return out;
}

namespace {

// One group of the programme report: contacts, converters and revenue per contact.
struct ProgrammeGroup {
  ArmOutcome outcome;  // recipients: contacts; successes: contacts with a conversion
  int64_t conversions = 0;
  void Add(int64_t count, double revenue) {
    ++outcome.recipients;
    if (count > 0) ++outcome.successes;
    conversions += count;
    outcome.revenue += revenue;
    outcome.revenue_sq += revenue * revenue;
  }
  json::object ToJson() const {
    const double n = static_cast<double>(outcome.recipients);
    return json::object{{"contacts", outcome.recipients},
                        {"converters", outcome.successes},
                        {"conversions", conversions},
                        {"revenue", outcome.revenue},
                        {"conversion_rate", n > 0 ? static_cast<double>(outcome.successes) / n : 0.0},
                        {"revenue_per_contact", n > 0 ? outcome.revenue / n : 0.0}};
  }
};

}  // namespace

Result<json::object> CampaignService::ProgrammeReport(WorkspaceId ws, std::optional<int64_t> from_day,
                                                      std::optional<int64_t> to_day) {
  if (!ports_.outcomes) return Error::Unavailable("the global holdout's report needs the segment service");
  RAPPORT_ASSIGN_OR_RETURN(Workspace w, store_.workspaces().Get(ws));
  const std::string tz = w.default_timezone.empty() ? std::string("UTC") : w.default_timezone;
  const Timestamp now = clock_.Now();
  RAPPORT_ASSIGN_OR_RETURN(DayPeriod period, ReportPeriod(LocalDayOf(tz, now), from_day, to_day));
  const int64_t from = period.from, to = period.to;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.governor().Policy(ws));
  RAPPORT_ASSIGN_OR_RETURN(GovernorPolicy policy, ParseStoredPolicy(stored));

  ProgrammeGroup holdout, treated;
  RAPPORT_TRY(ports_.outcomes->ForEachContact(
      ws, options_.goal_event, options_.revenue_property, LocalMidnight(tz, from), LocalMidnight(tz, to + 1),
      [&](ContactId id, int64_t count, double revenue) {
        (InGlobalHoldout(ws, id, policy.global_holdout) ? holdout : treated).Add(count, revenue);
      }));

  auto day_text = [](int64_t day) { return date::format("%F", date::sys_days(date::days(day))); };
  json::object out{{"from", day_text(from)},
                   {"to", day_text(to)},
                   {"timezone", tz},
                   {"global_holdout", policy.global_holdout},
                   {"goal_event", options_.goal_event},
                   {"revenue_property", options_.revenue_property},
                   {"holdout", holdout.ToJson()},
                   {"treated", treated.ToJson()}};
  if (policy.global_holdout <= 0 || holdout.outcome.recipients == 0 || treated.outcome.recipients == 0) {
    out["lift"] = nullptr;
    out["verdict"] = "inconclusive";
    out["summary"] = policy.global_holdout <= 0
                         ? "There is no global holdout: set global_holdout in the governor policy (PUT "
                           "/api/v1/governor) to hold a share of contacts out of all marketing and measure "
                           "the programme against them."
                         : "Not measured yet: the holdout or the rest of the workspace has no contacts.";
  } else {
    const Comparison conversion = Compare(WinnerMetric::kConversions, treated.outcome, holdout.outcome,
                                          "The marketing programme", "the global holdout");
    const Comparison revenue = Compare(WinnerMetric::kRevenuePerRecipient, treated.outcome, holdout.outcome,
                                       "The marketing programme", "the global holdout");
    const double n = static_cast<double>(treated.outcome.recipients);
    out["lift"] = json::object{{"conversion", LiftJson(conversion.lift)},
                               {"revenue_per_contact", LiftJson(revenue.lift)}};
    // What the treated group gained over what it would have done without the mail, by the lift.
    out["incremental"] = json::object{
        {"converters", conversion.lift.absolute * n},  {"converters_low", conversion.lift.low * n},
        {"converters_high", conversion.lift.high * n}, {"revenue", revenue.lift.absolute * n},
        {"revenue_low", revenue.lift.low * n},         {"revenue_high", revenue.lift.high * n}};
    out["verdict"] = VerdictName(conversion.verdict);
    out["summary"] = conversion.sentence;
    out["revenue_verdict"] = VerdictName(revenue.verdict);
    out["revenue_summary"] = revenue.sentence;
  }
  out["generated_at"] = FormatTimestamp(now);
  return out;
}

}  // namespace rapport::campaign
