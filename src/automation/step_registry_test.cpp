#include "automation/step_registry.h"

#include "automation/step_context.h"

#include <gtest/gtest.h>

namespace rapport::automation {
namespace {

// A kind defined by the test: "pause" needs a positive "seconds".
class Pause final : public StepKind {
 public:
  explicit Pause(std::string name = "pause") : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  Status Validate(const boost::json::object& config) const override {
    const boost::json::value* s = config.if_contains("seconds");
    if (!s || !s->is_int64() || s->get_int64() <= 0)
      return Error::Invalid(name_ + ".seconds", "seconds is a positive integer");
    return {};
  }
  Result<StepOutcome> Run(StepContext&) const override { return StepOutcome::Next(""); }

 private:
  std::string name_;
};

TEST(StepRegistry, FindsWhatWasRegisteredAndValidatesThroughIt) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register(std::make_unique<Pause>()).ok());
  ASSERT_TRUE(registry.Register(std::make_unique<Pause>("hold")).ok());
  ASSERT_NE(registry.Find("pause"), nullptr);
  EXPECT_EQ(registry.Find("nope"), nullptr);
  EXPECT_EQ(registry.Names(), (std::vector<std::string_view>{"hold", "pause"}));
  EXPECT_TRUE(registry.Validate("pause", boost::json::object{{"seconds", 5}}, "steps[0]").ok());
  EXPECT_EQ(registry.Validate("pause", boost::json::object{}, "steps[0]").error().field, "pause.seconds");
  Status unknown = registry.Validate("sleep", {}, "steps[2].kind");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "steps[2].kind");
  EXPECT_NE(unknown.error().message.find("known: hold, pause"), std::string::npos);
}

TEST(StepRegistry, RefusesATakenOrMalformedName) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register(std::make_unique<Pause>()).ok());
  EXPECT_EQ(registry.Register(std::make_unique<Pause>()).error().code, ErrorCode::kConflict);
  EXPECT_EQ(registry.Register(std::make_unique<Pause>("Bad Name")).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(registry.Register(std::make_unique<Pause>("")).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(registry.Register(nullptr).error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace rapport::automation
