#include "core/model.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(Model, InfersAttributeTypesFromJson) {
  EXPECT_EQ(AttributeTypeOf(json::value("hello")), AttributeType::kString);
  EXPECT_EQ(AttributeTypeOf(json::value("1990-02-28")), AttributeType::kDate);
  EXPECT_EQ(AttributeTypeOf(json::value("1990-02-30")), AttributeType::kString);
  EXPECT_EQ(AttributeTypeOf(json::value("2026-11-23T10:00:00Z")), AttributeType::kTimestamp);
  EXPECT_EQ(AttributeTypeOf(json::value(3.5)), AttributeType::kNumber);
  EXPECT_EQ(AttributeTypeOf(json::value(true)), AttributeType::kBool);
  EXPECT_EQ(AttributeTypeOf(json::array{"a", "b"}), AttributeType::kList);
  EXPECT_FALSE(AttributeTypeOf(json::object{}).has_value());
}

TEST(Model, ValidatesContactInputAndNamesTheField) {
  ContactInput in;
  in.email = "Someone@EXAMPLE.org";
  in.timezone = "Europe/Paris";
  in.attributes = json::object{{"first_name", "Ada"}, {"vip", true}};
  ASSERT_TRUE(ValidateContactInput(in).ok());
  EXPECT_EQ(*in.email, "Someone@example.org");

  ContactInput bad_tz;
  bad_tz.timezone = "Mars/Olympus";
  auto s = ValidateContactInput(bad_tz);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "timezone");

  ContactInput bad_attr;
  bad_attr.attributes = json::object{{"nested", json::object{{"a", 1}}}};
  s = ValidateContactInput(bad_attr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "attributes.nested");

  ContactInput bad_name;
  bad_name.attributes = json::object{{"9lives", 1}};
  s = ValidateContactInput(bad_name);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "attributes.9lives");
}

TEST(Model, Issue14NulInAnAttributeValueIsRefused) {
  for (std::string bad : {std::string("a\0b", 3), std::string("bell\x07"), std::string("del\x7F")}) {
    ContactInput in;
    in.attributes = json::object{{"note", bad}};
    auto s = ValidateContactInput(in);
    ASSERT_FALSE(s.ok()) << bad.size();
    EXPECT_EQ(s.error().field, "attributes.note");
    ContactInput list;
    list.attributes = json::object{{"tags", json::array{"ok", json::value(bad)}}};
    s = ValidateContactInput(list);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().field, "attributes.tags");
  }
  ContactInput text;
  text.attributes = json::object{{"address", "1 Main St\r\nFlat 2\tB"}};
  EXPECT_TRUE(ValidateContactInput(text).ok());
}

TEST(Model, ParsesScopes) {
  auto s = ParseScopes("read, write");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, kScopeRead | kScopeWrite);
  EXPECT_TRUE(HasScope(kScopeAdmin, kScopeSend));
  EXPECT_FALSE(HasScope(kScopeRead, kScopeWrite));
  EXPECT_FALSE(ParseScopes("root").ok());
  EXPECT_EQ(FormatScopes(kScopeAdmin | kScopeRead), "admin,read");
}

TEST(Model, ValidatesEvents) {
  NewEvent e;
  e.name = "order_placed";
  EXPECT_EQ(ValidateNewEvent(e).error().field, "contact");
  e.contact.email = "Buyer@Shop.example";
  ASSERT_TRUE(ValidateNewEvent(e).ok());
  EXPECT_EQ(*e.contact.email, "Buyer@shop.example");
  e.name = "bad\nname";
  EXPECT_EQ(ValidateNewEvent(e).error().field, "name");
}

TEST(Model, EventPropertiesAreAtMost64KiBOfJson) {
  NewEvent e;
  e.name = "page_viewed";
  e.contact.id = 1;
  auto rejected_field = [&]() -> std::string {
    Status st = ValidateNewEvent(e);
    return st.ok() ? "(accepted)" : st.error().field;
  };
  // {"k":"..."} is the string's length plus 8 bytes; the serializer writes 4 KiB at a time.
  e.properties["k"] = std::string(kMaxEventPropertiesBytes - 8, 'x');
  EXPECT_EQ(rejected_field(), "(accepted)");
  e.properties["k"] = std::string(kMaxEventPropertiesBytes - 7, 'x');
  EXPECT_EQ(rejected_field(), "properties");
  e.properties["k"] = std::string(kMaxEventPropertiesBytes - 9, '"');  // escaped: twice the bytes
  EXPECT_EQ(rejected_field(), "properties");
  e.properties["k"] = json::array(100000, json::value(12345));
  EXPECT_EQ(rejected_field(), "properties");
  e.properties["k"] = json::array(10, json::value(12345));
  EXPECT_EQ(rejected_field(), "(accepted)");
}

TEST(Clock, FormatsAndParsesTimestamps) {
  auto t = ParseTimestamp("2026-11-23T10:15:00.5+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-23T09:15:00.500000Z");
  EXPECT_FALSE(ParseTimestamp("2026-11-23").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-23T10:15:00").has_value());
  FakeClock clock(*t);
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2026-11-24T09:15:00.500000Z");
}

}  // namespace
}  // namespace rapport
