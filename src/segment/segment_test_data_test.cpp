#include "segment/segment_test_data.h"

namespace rapport::segment::testing {

Status LoadTestData(const std::string& text, TestData& out) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::Invalid("data", "test data is not a JSON object");
  const json::object& o = v.get_object();
  if (auto* now = o.if_contains("now")) out.now = ToMicros(*ParseTimestamp(now->get_string()));
  int64_t position = 0;
  if (auto* cs = o.if_contains("contacts")) {
    for (const json::value& cv : cs->get_array()) {
      const json::object& c = cv.get_object();
      Event e;
      e.workspace_id = c.if_contains("workspace") ? c.at("workspace").to_number<int64_t>() : 1;
      e.contact_id = c.at("id").to_number<int64_t>();
      e.name = "contact.created";
      e.position = ++position;
      e.occurred_at = c.if_contains("created_at") ? *ParseTimestamp(c.at("created_at").get_string())
                                                  : *ParseTimestamp("2026-01-01T00:00:00Z");
      json::object p;
      p["email"] = c.if_contains("email")
                       ? c.at("email")
                       : json::value(json::string("c" + std::to_string(e.contact_id) + "@example.org"));
      p["status"] = c.if_contains("status") ? c.at("status") : json::value("active");
      if (auto* a = c.if_contains("attributes")) p["attributes"] = *a;
      if (auto* tz = c.if_contains("timezone")) p["timezone"] = *tz;
      if (auto* l = c.if_contains("locale")) p["locale"] = *l;
      if (auto* x = c.if_contains("external_id")) p["external_id"] = *x;
      e.properties = std::move(p);
      out.index.Apply(e);
      if (auto* ts = c.if_contains("topics")) {
        for (const json::value& t : ts->get_array()) {
          Event s;
          s.workspace_id = e.workspace_id;
          s.contact_id = e.contact_id;
          s.name = "topic.subscribed";
          s.position = ++position;
          s.occurred_at = e.occurred_at;
          s.properties = json::object{{"topic", t}};
          out.index.Apply(s);
        }
      }
    }
  }
  if (auto* es = o.if_contains("events")) {
    for (const json::value& ev : es->get_array()) {
      const json::object& x = ev.get_object();
      Event e;
      e.workspace_id = 1;
      e.contact_id = x.at("contact").to_number<int64_t>();
      e.name = std::string(x.at("name").get_string());
      e.position = ++position;
      e.occurred_at = *ParseTimestamp(x.at("at").get_string());
      if (auto* p = x.if_contains("properties")) e.properties = p->get_object();
      if (!out.index.Apply(e)) return Error::Invalid("events", "an event names an unknown contact");
    }
  }
  return {};
}

}  // namespace rapport::segment::testing
