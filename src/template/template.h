// A compiled Liquid template: parse once, render many times, from many threads.
//
//   auto tpl = liquid::Template::Parse(source);          // Result<shared_ptr<const Template>>
//   std::string out;
//   liquid::RenderOptions opts;  opts.html_escape = true;
//   Status s = (*tpl)->Render(data_json, opts, out);     // appends to out
//
// The language is Shopify Liquid as implemented by ruby-liquid 5.4 with error_mode :strict
// (docs/templates.md lists the intentional differences and rapport's extras: money, raw,
// date with time zone and locale, automatic HTML escaping).
//
// Failure: every error is a value. Error::message is the human message and Error::field is the
// position "line:column" in the template (empty when the error has no position). Syntax errors
// have code kBadRequest, render errors (bad filter argument, undefined variable in strict mode)
// kInvalid, exceeded limits kLimitExceeded. On a render error `out` holds the partial output.
//
// Thread-safety: a Template is immutable; Render is const and may run concurrently. A
// SnippetProvider must be thread-safe when shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "template/ast.h"
#include "template/value.h"

namespace rapport::liquid {

class FilterRegistry;
class Template;

struct ParseOptions {
  size_t max_source_bytes = 1 << 20;
  uint32_t max_depth = 100;                 // nesting of blocks and of brackets in expressions
  const FilterRegistry* filters = nullptr;  // null: FilterRegistry::Builtin()
};

struct RenderLimits {
  size_t max_output_bytes = 4 << 20;
  uint64_t max_loop_iterations = 1'000'000;  // over the whole render
  uint32_t max_depth = 64;                   // nested blocks, includes and renders
  uint64_t max_steps = 10'000'000;           // nodes and filters evaluated
};

// Where {% render 'name' %} and {% include 'name' %} find their templates.
class SnippetProvider {
 public:
  virtual ~SnippetProvider() = default;
  // The compiled snippet, kNotFound when there is none, or its syntax error.
  virtual Result<std::shared_ptr<const Template>> Find(std::string_view name) const = 0;
};

// Snippets from an in-memory map of name -> source, parsed on first use and cached.
// Thread-safe.
class MapSnippetProvider final : public SnippetProvider {
 public:
  explicit MapSnippetProvider(std::map<std::string, std::string, std::less<>> sources,
                              ParseOptions options = {});
  Result<std::shared_ptr<const Template>> Find(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> sources_;
  ParseOptions options_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const Template>, std::less<>> cache_;
};

struct RenderOptions {
  bool strict = false;           // undefined variables and filters are errors (else: empty / ignored)
  bool html_escape = false;      // escape every {{ }} output unless it uses | raw or | escape
  std::string timezone = "UTC";  // IANA name used by the date filter
  std::string locale = "en";     // en, fr, de, es: month and day names, money format
  Timestamp now{};               // what "now" and "today" mean to the date filter
  const SnippetProvider* snippets = nullptr;
  RenderLimits limits;
};

class Template {
 public:
  static Result<std::shared_ptr<const Template>> Parse(std::string source, const ParseOptions& options = {});

  // Renders with `data` (an object whose members are the top-level variables), appending to
  // `out`.
  Status Render(const Value& data, const RenderOptions& options, std::string& out) const;
  Status Render(const boost::json::value& data, const RenderOptions& options, std::string& out) const;
  // As above, with the caller's scratch arena for values made while rendering (reused across
  // renders by calling arena.Reset() in between: no allocation once warm). `data` may live in
  // the same arena.
  Status Render(const Value& data, const RenderOptions& options, std::string& out, Arena& scratch) const;

  const std::string& source() const { return *source_; }
  const Block& root() const { return root_; }

  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

 private:
  Template() = default;
  std::unique_ptr<std::string> source_;
  Block root_;
};

}  // namespace rapport::liquid
