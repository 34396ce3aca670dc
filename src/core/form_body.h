// application/x-www-form-urlencoded bodies (HTML forms, RFC 8058's one-click POST), as the public
// pages and the sign-up endpoint receive them from strangers.
//
// Decoding is strict and bounded: '+' is a space, %XX is a byte (a '%' not followed by two hex
// digits is kInvalid), names and values must be valid UTF-8 without control characters other
// than tab, CR and LF in values (names: none), empty pairs ("a=1&&b=2") are skipped, and a body
// past kMaxFormFields pairs or kMaxFormBytes is refused. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace rapport {

inline constexpr size_t kMaxFormFields = 200;
inline constexpr size_t kMaxFormBytes = 64 * 1024;

class FormFields {
 public:
  // The first value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Every value of `name`, in order (checkboxes: "topic=a&topic=b").
  std::vector<std::string_view> All(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  friend Result<FormFields> ParseFormBody(std::string_view body);
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// kInvalid (field "body") for a malformed body.
Result<FormFields> ParseFormBody(std::string_view body);

}  // namespace rapport
