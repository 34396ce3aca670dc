// For tests that compare two stores (or two write paths) row for row: every contact of a
// workspace with its fields, followed by all of its events (page by page), as comparable text
// lines. Header only (not part of rapport_store).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/store.h"

namespace rapport::testing {

inline std::vector<std::string> DumpWorkspace(Store& s, WorkspaceId ws) {
  std::vector<std::string> out;
  Status st = s.contacts().ForEach(ws, [&](const Contact& c) {
    out.push_back("contact " + std::to_string(c.id) + " " + c.email + " " + c.external_id.value_or("-") +
                  " " + std::string(ContactStatusName(c.status)) + " " +
                  boost::json::serialize(c.attributes) + " " + c.timezone + " " + c.locale + " " +
                  std::to_string(ToMicros(c.created_at)) + " " + std::to_string(ToMicros(c.updated_at)));
    std::string cursor;
    do {
      EventQuery q;
      q.limit = 1000;
      q.cursor = cursor;
      auto page = s.events().ListForContact(ws, c.id, q);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (const Event& e : page->items)
        out.push_back("event " + std::to_string(e.id) + " c" + std::to_string(e.contact_id) + " " + e.name +
                      " " + boost::json::serialize(e.properties) + " " +
                      std::to_string(ToMicros(e.occurred_at)) + " " +
                      std::to_string(ToMicros(e.received_at)));
      cursor = page->next_cursor;
    } while (!cursor.empty());
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.error().message;
  return out;
}

}  // namespace rapport::testing
