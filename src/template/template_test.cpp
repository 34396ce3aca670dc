// Unit tests of the template API: error positions, modes, limits, Value conversion and
// rendering one compiled template from many threads. The language itself is covered by the
// case files (template_cases_test.cpp) and the differential test against ruby-liquid.
#include "template/template.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>
#include <vector>

#include "template/filter_registry.h"
#include "template/value.h"

namespace rapport::liquid {
namespace {

std::string Render(const std::string& src, const std::string& json = "{}", RenderOptions options = {}) {
  auto tpl = Template::Parse(src);
  EXPECT_TRUE(tpl.ok()) << tpl.error().message;
  if (!tpl.ok()) return "<parse error>";
  std::string out;
  Status s = (*tpl)->Render(boost::json::parse(json), options, out);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return out;
}

TEST(Template, SyntaxErrorsCarryLineAndColumn) {
  auto r = Template::Parse("line one\nline two {% if %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "2:10");
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);

  r = Template::Parse("ok\n\n   {% frobnicate %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "3:4");
  EXPECT_NE(r.error().message.find("Unknown tag 'frobnicate'"), std::string::npos);

  r = Template::Parse("{{ a |\n  upcase | }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "2:12");

  r = Template::Parse("{% for x in y %}\n{% endif %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "2:1");

  r = Template::Parse("abc {{ x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "1:5");
}

TEST(Template, RenderErrorsCarryTheFilterPosition) {
  auto tpl = Template::Parse("a\n  {{ x | plus: 1 | nosuch }}");
  ASSERT_TRUE(tpl.ok());
  RenderOptions strict;
  strict.strict = true;
  std::string out;
  Status s = (*tpl)->Render(boost::json::parse(R"({"x": 1})"), strict, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "2:20");
  EXPECT_NE(s.error().message.find("undefined filter nosuch"), std::string::npos);

  tpl = Template::Parse("{{ 1 | divided_by: 0 }}");
  ASSERT_TRUE(tpl.ok());
  out.clear();
  s = (*tpl)->Render(boost::json::parse("{}"), {}, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "1:8");
  EXPECT_NE(s.error().message.find("divided by 0"), std::string::npos);
}

TEST(Template, StrictAndLaxModes) {
  EXPECT_EQ(Render("[{{ missing.deep }}]"), "[]");
  EXPECT_EQ(Render("[{{ 'a' | nosuch }}]"), "[a]");
  auto tpl = Template::Parse("{{ contact.nickname }}");
  ASSERT_TRUE(tpl.ok());
  RenderOptions strict;
  strict.strict = true;
  std::string out;
  Status s = (*tpl)->Render(boost::json::parse(R"({"contact": {"name": "A"}})"), strict, out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("undefined variable nickname"), std::string::npos);
  EXPECT_EQ(s.error().field, "1:4");
}

TEST(Template, LimitsStopRunawayTemplates) {
  auto tpl = Template::Parse(
      "{% for i in (1..1000000000) %}{% for j in (1..1000000000) %}x{% endfor %}{% endfor %}");
  ASSERT_TRUE(tpl.ok());
  RenderOptions options;
  options.limits.max_loop_iterations = 10000;
  std::string out;
  Status s = (*tpl)->Render(boost::json::parse("{}"), options, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kLimitExceeded);

  tpl = Template::Parse("{% for i in (1..100000) %}0123456789{% endfor %}");
  ASSERT_TRUE(tpl.ok());
  options = {};
  options.limits.max_output_bytes = 1000;
  out = "prefix";  // output appended by earlier renders does not count against the limit
  s = (*tpl)->Render(boost::json::parse("{}"), options, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kLimitExceeded);
  EXPECT_LE(out.size(), 1000u + 16u);

  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{% if true %}";
  auto parsed = Template::Parse(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("Nesting too deep"), std::string::npos);

  std::string brackets = "{{ a";
  for (int i = 0; i < 5000; ++i) brackets += "[a";
  for (int i = 0; i < 5000; ++i) brackets += "]";
  brackets += " }}";
  parsed = Template::Parse(brackets);
  ASSERT_FALSE(parsed.ok());
}

TEST(Template, HtmlEscapingAndRaw) {
  RenderOptions html;
  html.html_escape = true;
  EXPECT_EQ(Render("{{ x }}|{{ x | raw }}|{{ x | escape }}", R"({"x": "<a&b>"})", html),
            "&lt;a&amp;b&gt;|<a&b>|&lt;a&amp;b&gt;");
}

TEST(Template, RendersFromOneCompiledTemplateOnManyThreads) {
  auto tpl = Template::Parse(
      "{% for p in products %}{{ forloop.index }}:{{ p.name | upcase }}={{ p.price | times: 2 }}"
      "{% cycle 'a', 'b' %};{% endfor %}{% assign n = name | append: '!' %}{{ n }}");
  ASSERT_TRUE(tpl.ok());
  std::shared_ptr<const Template> shared = *tpl;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        boost::json::value data = {{"name", name},
                                   {"products", boost::json::array{{{"name", "hat"}, {"price", i}},
                                                                   {{"name", "cap"}, {"price", 1.5}}}}};
        std::string out;
        Status s = shared->Render(data, RenderOptions{}, out);
        std::string want = "1:HAT=" + std::to_string(2 * i) + "a;2:CAP=3.0b;" + name + "!";
        if (!s.ok() || out != want) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// Lookup hints (value.h) remember where a key was found; objects of another shape, or with a
// duplicated key (where the last one wins), must still resolve correctly.
TEST(Template, LookupHintsFollowTheShapeOfEachObject) {
  auto tpl = Template::Parse("{{ o.b }}{{ b }}");
  ASSERT_TRUE(tpl.ok());
  Arena arena;
  auto render = [&](Value data) {
    std::string out;
    EXPECT_TRUE((*tpl)->Render(data, RenderOptions{}, out, arena).ok());
    return out;
  };
  auto object = [&](std::vector<Member> members) {
    return Value::Object(MakeObject(arena, members.data(), members.size()));
  };
  EXPECT_EQ(
      render(object({{"o", object({{"a", Value::Int(1)}, {"b", Value::Int(2)}})}, {"b", Value::Int(7)}})),
      "27");
  EXPECT_EQ(
      render(object({{"b", Value::Int(8)}, {"o", object({{"b", Value::Int(3)}, {"a", Value::Int(4)}})}})),
      "38");
  // Same shape as the first, then a duplicated key at the hinted index: the last one wins.
  EXPECT_EQ(
      render(object({{"o", object({{"b", Value::Int(5)}, {"b", Value::Int(6)}})}, {"b", Value::Int(9)}})),
      "69");
  EXPECT_EQ(render(object({{"o", object({{"a", Value::Int(1)}})}})), "");
}

TEST(Value, ConvertsJsonWithoutCopyingStrings) {
  boost::json::value json = boost::json::parse(
      R"({"s": "text", "i": -3, "u": 18446744073709551615, "d": 2.5, "b": true, "n": null,
          "a": [1, "x"], "o": {"k": "v"}})");
  Arena arena;
  Value v = FromJson(json, arena);
  ASSERT_TRUE(v.is_object());
  const Value* s = v.as_object().Find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->as_string().data(), json.at("s").as_string().data());
  EXPECT_EQ(v.as_object().Find("i")->as_int(), -3);
  EXPECT_TRUE(v.as_object().Find("u")->is_double());
  EXPECT_EQ(v.as_object().Find("d")->as_double(), 2.5);
  EXPECT_TRUE(v.as_object().Find("b")->as_bool());
  EXPECT_TRUE(v.as_object().Find("n")->is_nil());
  EXPECT_EQ(v.as_object().Find("a")->as_array().size, 2u);
  EXPECT_EQ(v.as_object().Find("o")->as_object().Find("k")->as_string(), "v");
  EXPECT_EQ(v.as_object().Find("zz"), nullptr);
}

TEST(Value, LargeObjectsUseTheSortedIndex) {
  boost::json::object o;
  for (int i = 0; i < 100; ++i) o["key" + std::to_string(i)] = i;
  boost::json::value json = o;
  Arena arena;
  Value v = FromJson(json, arena);
  ASSERT_NE(v.as_object().sorted, nullptr);
  for (int i = 0; i < 100; ++i) {
    const Value* x = v.as_object().Find("key" + std::to_string(i));
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->as_int(), i);
  }
  EXPECT_EQ(v.as_object().Find("key100"), nullptr);
}

TEST(Value, RubyFloatFormatting) {
  auto f = [](double d) {
    std::string s;
    AppendRubyFloat(s, d);
    return s;
  };
  EXPECT_EQ(f(1.0), "1.0");
  EXPECT_EQ(f(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(f(1e20), "1.0e+20");
  EXPECT_EQ(f(1e15), "1000000000000000.0");
  EXPECT_EQ(f(0.0001), "0.0001");
  EXPECT_EQ(f(0.00001), "1.0e-05");
  EXPECT_EQ(f(-2.5), "-2.5");
}

TEST(FilterRegistry, HoldsEveryStandardFilter) {
  const FilterRegistry& r = FilterRegistry::Builtin();
  for (const char* name : {"abs",           "append",        "at_least",   "at_most",
                           "base64_decode", "base64_encode", "capitalize", "ceil",
                           "compact",       "concat",        "date",       "default",
                           "divided_by",    "downcase",      "escape",     "escape_once",
                           "first",         "floor",         "join",       "last",
                           "lstrip",        "map",           "minus",      "modulo",
                           "newline_to_br", "plus",          "prepend",    "remove",
                           "remove_first",  "remove_last",   "replace",    "replace_first",
                           "replace_last",  "reverse",       "round",      "rstrip",
                           "size",          "slice",         "sort",       "sort_natural",
                           "split",         "strip",         "strip_html", "strip_newlines",
                           "sum",           "times",         "truncate",   "truncatewords",
                           "uniq",          "upcase",        "url_decode", "url_encode",
                           "where",         "reject",        "has",        "find",
                           "find_index",    "money",         "raw"}) {
    EXPECT_NE(r.Find(name), nullptr) << name;
  }
  EXPECT_EQ(r.Find("no_such_filter"), nullptr);
}

}  // namespace
}  // namespace rapport::liquid
