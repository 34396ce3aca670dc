// JSON text to a Boost.JSON value with every number read exactly.
//
// Boost.JSON 1.81 (Debian 12's) reads some doubles of 16-17 significant digits as a neighbouring
// double, one unit in the last place off: "249778.02000000002" parses to another value than
// strtod gives, about 3% of such numbers. A number written the shortest way that reads back
// (core/json_write.h) would then not read back as itself, and a sum kept in the store would move
// by a bit across a restart. This parser keeps Boost.JSON's syntax, limits and error codes and
// reads each non-integer number's text with std::from_chars (correctly rounded).
//
// Thread-safety: a JsonParser is one per thread (it reuses its buffers); the functions are free.
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string_view>

namespace rapport {

class JsonParser {
 public:
  explicit JsonParser(const boost::json::parse_options& options = {});
  ~JsonParser();
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // Starts a new document whose value will use `sp`.
  void Reset(boost::json::storage_ptr sp = {});
  // The whole document: returns the characters consumed; `ec` set on a syntax error or on
  // characters after the document (boost::json::error::extra_data).
  size_t Write(std::string_view text, boost::json::error_code& ec);
  // The value, after a Write without error.
  boost::json::value Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot, like boost::json::parse: the value, or `ec` set.
boost::json::value ParseJsonExact(std::string_view text, boost::json::error_code& ec,
                                  boost::json::storage_ptr sp = {},
                                  const boost::json::parse_options& options = {});
// The same, throwing boost::system::system_error as boost::json::parse does.
boost::json::value ParseJsonExact(std::string_view text, boost::json::storage_ptr sp = {},
                                  const boost::json::parse_options& options = {});

}  // namespace rapport
