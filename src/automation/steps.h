// The built-in step kinds (docs/journeys.md, "Steps"), each one StepKind of the registry:
//   send            a template to the contact through the one send service
//   wait            a duration
//   wait_until      a local time of day (and weekdays) in the contact's timezone
//   wait_best_time  the contact's best hour for mail within a window (send-time optimization)
//   wait_for_event  an event (matching the entry event on a property) or a timeout
//   branch          on a segment or a segment expression, the previous message opened/clicked,
//                   entry event properties or contact attributes
//   split           random paths by percentages, stable per contact (A/B, holdout)
//   update          contact attributes and topic subscriptions
//   webhook         an HTTP POST signed with HMAC-SHA256, retried with backoff
//   exit            ends the run
// RegisterBuiltinSteps adds them all; app/ calls it once when it builds the registry.
#pragma once

#include "automation/step_registry.h"
#include "core/journey.h"

namespace rapport::automation {

Status RegisterBuiltinSteps(StepRegistry& registry);

// The bucket (0..99) of a contact in a split: FNV-1a of journey, step and contact, stable across
// runs, versions and restarts.
int SplitBucket(JourneyId journey, std::string_view step, ContactId contact);

}  // namespace rapport::automation
