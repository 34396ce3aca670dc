// JSON text as rapport writes it to the world (API responses, exports): numbers the shortest way
// that reads back exactly, in the form JavaScript's Number#toString uses (42.5, 0.1, 1e+21,
// 1.5e-7), never Boost.JSON's exponent form ("4.25E1"); a double that is not finite is written
// as null (JSON has no NaN or Infinity). Strings are escaped as RFC 8259 requires (quote,
// backslash, control characters) and otherwise kept as they are (UTF-8). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace rapport {

void AppendJson(std::string& out, const boost::json::value& value);
void AppendJson(std::string& out, const boost::json::object& object);  // without copying it into a value
std::string WriteJson(const boost::json::value& value);
// One number, as above.
void AppendJsonNumber(std::string& out, double value);
// The same written at `at` (for writers into a buffer of their own): at most kMaxJsonNumber
// characters; returns the end.
inline constexpr size_t kMaxJsonNumber = 32;
char* WriteJsonNumber(char* at, double value);
// One string, quoted and escaped as above (for writers that stream JSON without building a value).
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace rapport
