// The simulator (POST /api/v1/journeys/{id}/simulate): replays events (contacts' recorded history
// or a given list) against one journey version on a virtual clock, with the engine's own rules
// (journey_engine.h), and returns each contact's path and the messages they would get with their
// rendered subjects. It sends nothing, calls no webhook, changes no contact and writes nothing:
// its JourneyEnv renders subjects through Mailer::PreviewSubject and records the rest.
// As the engine, a contact has at most one live run per key (entry.key: two carts are two runs).
// A branch on opened / clicked reads the replayed events: a human (not "machine") email_opened /
// email_clicked after the simulated message was sent, of its template when the event names one.
// Anniversary and inactivity triggers are not replayed (they come from timers, not events).
// Thread-safe (no shared state); the env's reads go to the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "automation/journey_engine.h"

namespace rapport::automation {

struct SimEvent {
  ContactId contact_id = 0;
  std::string name;
  json::object properties;
  Timestamp at{};
};

struct SimStep {
  Timestamp at{};
  std::string step;
};

struct SimMessage {
  Timestamp at{};
  std::string step;  // the id of the step that sent it
  std::string template_name;
  std::string subject;
};

struct SimPath {
  ContactId contact_id = 0;
  int runs = 0;                // runs entered (one live per key at a time)
  std::vector<SimStep> steps;  // every step run, in order, over all runs
  std::vector<SimMessage> messages;
  std::vector<std::string> skipped;  // entries refused and sends skipped, with reasons
  std::string state;                 // the last entered run's state ("" when it never entered)
  std::string reason;
  double revenue = 0;
};

struct SimOptions {
  Micros horizon = std::chrono::hours(24 * 60);  // how long after the last event runs go on
};

// `events` sorted or not; grouped by contact. `env` reads contacts and segments (the real ones);
// sends go to `mailer.PreviewSubject` only.
Result<std::vector<SimPath>> Simulate(const Journey& journey, const JourneyDef& def,
                                      std::vector<SimEvent> events, JourneyEnv& env, Mailer& mailer,
                                      const SimOptions& options = {});

}  // namespace rapport::automation
