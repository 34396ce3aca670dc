// Fuzzes the Liquid engine: parse and render arbitrary templates with the render limits on.
// Input: template bytes, optionally followed by '\0' and a JSON data object. Every input must
// end in output or an error value: no crash, no hang, no sanitizer report.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "template/template.h"

namespace {

const rapport::liquid::MapSnippetProvider& Snippets() {
  static const auto* provider = new rapport::liquid::MapSnippetProvider(
      {{"hello", "Hello {{ name | default: 'x' }}{% increment n %}"},
       {"loop", "{% for i in (1..3) %}{{ i }}{% render 'loop' %}{% endfor %}"},
       {"self", "{% include 'self' %}"},
       {"bad", "{% if %}"}});
  return *provider;
}

const char kDefaultData[] =
    R"({"name": "Ann <&>", "n": 3, "f": 2.5, "t": true, "nil": null, "s": "a,b,c",
        "a": [1, 2.5, "x", null, [3, 4], {"k": "v"}],
        "products": [{"title": "Hat", "price": 10, "tags": ["a"]},
                     {"title": "Coat", "price": 99.5, "avail": false}],
        "h": {"size": 1, "first": "f", "nested": {"deep": [1, {"x": "y"}]}},
        "date": "2024-03-05T10:00:00Z", "num": "12.50"})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view source = input.substr(0, nul);
  boost::json::value json;
  boost::system::error_code ec;
  if (nul != std::string_view::npos) {
    json = boost::json::parse(input.substr(nul + 1), ec);
  }
  if (nul == std::string_view::npos || ec || !json.is_object()) {
    json = boost::json::parse(kDefaultData);
  }
  rapport::liquid::ParseOptions parse_options;
  parse_options.max_depth = 50;
  auto tpl = rapport::liquid::Template::Parse(std::string(source), parse_options);
  if (!tpl.ok()) return 0;
  rapport::liquid::RenderOptions options;
  options.limits.max_output_bytes = 64 * 1024;
  options.limits.max_loop_iterations = 20000;
  options.limits.max_steps = 200000;
  options.limits.max_depth = 30;
  options.snippets = &Snippets();
  options.strict = (size % 2) == 1;
  options.html_escape = (size % 3) == 0;
  options.timezone = (size % 5) == 0 ? "Europe/Paris" : "UTC";
  options.locale = (size % 7) == 0 ? "fr" : "en";
  std::string out;
  rapport::Status s = (*tpl)->Render(json, options, out);
  (void)s;
  return 0;
}
