// Test data for the segment engine's tests: contacts and events given as JSON, applied to a
// ProfileIndex the way the feed would (contact.created, topic.subscribed, then the events).
//
//   {"now": "2026-06-15T12:00:00Z",
//    "contacts": [{"id": 1, "email": "a@x.org", "status": "active", "timezone": "Europe/Paris",
//                  "created_at": "2026-01-01T00:00:00Z", "attributes": {...}, "topics": ["news"]}],
//    "events": [{"contact": 1, "name": "order_placed", "at": "2026-06-01T00:00:00Z",
//                "properties": {"total": 80}}]}
#pragma once

#include <string>

#include "core/error.h"
#include "segment/profile_index.h"

namespace rapport::segment::testing {

struct TestData {
  ProfileIndex index;
  int64_t now = 0;
};

// Fills `out` from the JSON text; kInvalid on malformed data.
Status LoadTestData(const std::string& json_text, TestData& out);

}  // namespace rapport::segment::testing
