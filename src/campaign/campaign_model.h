// A campaign's settings document (docs/campaigns.md, "The document"): parsed and checked here
// (errors name the JSON path in `field`), written back canonically. Pure value types.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "campaign/experiment.h"
#include "campaign/rrule.h"
#include "core/clock.h"
#include "core/error.h"

namespace rapport::campaign {

// Include minus exclude: members of any include segment or subscribers of any include topic,
// less members of any exclude segment or subscribers of any exclude topic (evaluated at each
// occurrence's start: the audience is frozen then).
struct Audience {
  std::vector<std::string> include_segments, exclude_segments;
  std::vector<std::string> include_topics, exclude_topics;
};

// One variant of an A/B/n test; empty fields take the campaign's.
struct Variant {
  std::string name;  // "A", "B" ... by default
  std::string template_name;
  std::optional<std::string> subject, preheader, from_name;
  // "send_time": "optimized": each recipient of this variant gets it at their best hour
  // (core/send_time.h) within CampaignDef::send_time_window after the moment the schedule gives
  // them; "scheduled" (the default): at that moment. STO against a fixed time is then an
  // experiment like any other (docs/campaigns.md).
  bool optimized_send_time = false;
  // "send_time": "HH:MM": each recipient of this variant gets it at the first HH:MM in their
  // timezone (the contact's, else the schedule's `timezone`, else the workspace's) at or after the
  // moment the schedule gives them (NextWallTime: always within 25 hours, so the window does not
  // apply). "Morning against evening" is an experiment of two such variants. Never set together
  // with optimized_send_time.
  std::optional<TimeOfDay> local_send_time;
};

// A variant's "send_time" as the document writes it: "scheduled", "optimized" or "HH:MM".
std::string SendTimeName(const Variant& v);

enum class ScheduleKind { kNow, kAt, kLocal, kSto, kRecurring };
std::string_view ScheduleKindName(ScheduleKind k);

struct Schedule {
  ScheduleKind kind = ScheduleKind::kNow;
  Timestamp at{};            // kAt; kSto: the window's start
  Timestamp until{};         // kSto: the window's end
  LocalDateTime local;       // kLocal: the wall time in each contact's zone
  std::string timezone;      // kRecurring: the TZID; kLocal: contacts without a zone ("" the workspace's)
  std::string rrule;         // kRecurring
  LocalDateTime dtstart;     // kRecurring
  bool per_contact = false;  // kRecurring: each occurrence at its wall time in each contact's zone
};

struct ExperimentSettings {
  bool enabled = false;  // true when there are two or more variants
  double test_share = 0.2;
  WinnerMetric metric = WinnerMetric::kClicks;
  Micros wait = std::chrono::hours(4);
  int64_t min_recipients = 500;
  double probability = 0.90;
  int fallback = 0;
};

// Passed to the send service's frequency governor (the lead wires it: see CampaignBatch).
struct GovernanceSettings {
  int priority = 0;
  std::string on_cap = "defer";  // "defer" | "skip"
};

struct CampaignDef {
  Audience audience;
  std::vector<Variant> variants;  // at least one; variant 0 is the template alone when none given
  std::optional<int64_t> sender_id;
  std::optional<std::string> topic;
  Schedule schedule;
  int throttle_per_minute = 0;  // 0: as fast as the send service takes them
  bool archive = false;
  ExperimentSettings experiment;
  double holdout_share = 0;  // 0..0.5
  GovernanceSettings governance;
  boost::json::object data;  // shared template data ("data.*")
  int conversion_window_days = 5;
  // How far after its scheduled moment a variant with an optimized send time may go (1 h..7 d);
  // a variant sent at a time of day ("HH:MM") is not bound by it.
  Micros send_time_window = std::chrono::hours(24);
};

// The document must be an object; kInvalid with field the JSON path ("schedule.rrule").
Result<CampaignDef> ParseCampaign(const boost::json::value& doc);
boost::json::object CampaignToJson(const CampaignDef& def);

}  // namespace rapport::campaign
