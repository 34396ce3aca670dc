// TemplateCache: a template is compiled once per saved version, and a variant's subject and
// preheader once per version and variant.
#include "send/template_cache.h"

#include <gtest/gtest.h>

namespace rapport::send {
namespace {

MessageTemplate Template() {
  MessageTemplate t;
  t.id = 7;
  t.workspace_id = 1;
  t.name = "news";
  t.subject = "News";
  t.html = "<p>Hi {{ contact.first_name }}</p>";
  t.updated_at = FromMicros(1'000);
  return t;
}

TEST(TemplateCacheTest, CompilesOncePerVersionAndVariant) {
  TemplateCache cache;
  MessageTemplate t = Template();
  auto first = cache.Compiled(t);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(cache.Compiled(t)->get(), first->get());

  MessageTemplate bold = t;
  bold.subject = "Big news, {{ contact.first_name }}!";
  auto a = cache.CompiledVariant(bold);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(cache.CompiledVariant(bold)->get(), a->get());
  EXPECT_NE(a->get(), first->get());
  MessageTemplate other = t;
  other.preheader = "This week";
  EXPECT_NE(cache.CompiledVariant(other)->get(), a->get());

  // A newer save recompiles both.
  t.updated_at = bold.updated_at = FromMicros(2'000);
  EXPECT_NE(cache.Compiled(t)->get(), first->get());
  EXPECT_NE(cache.CompiledVariant(bold)->get(), a->get());
  // A variant that does not compile is an error, and nothing is cached for it.
  MessageTemplate broken = t;
  broken.subject = "{% if %}";
  EXPECT_FALSE(cache.CompiledVariant(broken).ok());
}

}  // namespace
}  // namespace rapport::send
