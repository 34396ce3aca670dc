#include "template/case_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace rapport::liquid {

namespace {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

Result<std::string> JsonString(const std::string& json, const std::string& where) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_string()) return Error::BadRequest(where + ": expected a JSON string");
  return std::string(v.get_string());
}

}  // namespace

Result<std::vector<LiquidCase>> LoadLiquidCaseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  struct Raw {
    std::string name;
    std::vector<std::pair<std::string, std::vector<std::string>>> sections;
  };
  std::vector<Raw> raws;
  for (const std::string& line : SplitLines(ss.str())) {
    if (line.rfind("=== ", 0) == 0) {
      raws.push_back({line.substr(4), {}});
    } else if (line.rfind("--- ", 0) == 0 && !raws.empty()) {
      raws.back().sections.push_back({line.substr(4), {}});
    } else if (!raws.empty() && !raws.back().sections.empty()) {
      raws.back().sections.back().second.push_back(line);
    }
  }
  std::vector<LiquidCase> cases;
  for (Raw& r : raws) {
    LiquidCase c;
    c.file = std::filesystem::path(path).filename().string();
    c.name = r.name;
    while (!c.name.empty() && c.name.back() == ' ') c.name.pop_back();
    std::string where = path + ": " + c.name;
    bool has_expect = false;
    for (auto& [key0, lines] : r.sections) {
      std::string key = key0;
      while (!key.empty() && key.back() == ' ') key.pop_back();
      std::string content;
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i) content += '\n';
        content += lines[i];
      }
      if (key == "expect" || key == "template") {
        if (!content.empty() && content.back() == '\n') content.pop_back();
      } else {
        while (!content.empty() && content.back() == '\n') content.pop_back();
      }
      if (key == "template") {
        c.template_source = content;
      } else if (key == "template-json") {
        RAPPORT_ASSIGN_OR_RETURN(c.template_source, JsonString(content, where));
      } else if (key == "data") {
        if (!content.empty()) c.data_json = content;
      } else if (key == "mode") {
        c.strict = content.find("strict") != std::string::npos;
      } else if (key == "snippets") {
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(content, ec);
        if (ec || !v.is_object()) return Error::BadRequest(where + ": snippets must be an object");
        for (const auto& kv : v.get_object()) {
          if (!kv.value().is_string()) return Error::BadRequest(where + ": snippet not a string");
          c.snippets.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
        }
      } else if (key == "options") {
        c.options = content;
      } else if (key == "extension") {
        c.extension = content.empty() ? "extension" : content;
      } else if (key == "expect") {
        c.expect = content;
        has_expect = true;
      } else if (key == "expect-json") {
        RAPPORT_ASSIGN_OR_RETURN(c.expect, JsonString(content, where));
        has_expect = true;
      } else if (key == "error") {
        c.expect_error = true;
        c.expect = content;
        has_expect = true;
      } else {
        return Error::BadRequest(where + ": unknown section '" + key + "'");
      }
    }
    if (!has_expect) return Error::BadRequest(where + ": no expect or error section");
    cases.push_back(std::move(c));
  }
  return cases;
}

Result<std::vector<LiquidCase>> LoadLiquidCases(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".liquid") files.push_back(entry.path().string());
  }
  if (ec) return Error::NotFound("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<LiquidCase> all;
  for (const auto& f : files) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<LiquidCase> cases, LoadLiquidCaseFile(f));
    for (auto& c : cases) all.push_back(std::move(c));
  }
  return all;
}

}  // namespace rapport::liquid

#include "core/clock.h"
#include "template/template.h"

namespace rapport::liquid {

Result<std::string> RenderLiquidCase(const LiquidCase& c) {
  boost::system::error_code ec;
  boost::json::value data = boost::json::parse(c.data_json, ec);
  if (ec) return Error::BadRequest(c.name + ": bad data JSON: " + ec.message());
  RenderOptions options;
  options.strict = c.strict;
  options.now = FromMicros(1700000000LL * 1000000);  // 2023-11-14T22:13:20Z unless now= given
  std::istringstream words(c.options);
  std::string w;
  ParseOptions parse_options;
  while (words >> w) {
    if (w == "html")
      options.html_escape = true;
    else if (w.rfind("tz=", 0) == 0)
      options.timezone = w.substr(3);
    else if (w.rfind("locale=", 0) == 0)
      options.locale = w.substr(7);
    else if (w.rfind("now=", 0) == 0) {
      auto t = ParseTimestamp(w.substr(4));
      if (!t) return Error::BadRequest(c.name + ": bad now=");
      options.now = *t;
    } else if (w.rfind("max_output=", 0) == 0) {
      options.limits.max_output_bytes = std::stoull(w.substr(11));
    } else if (w.rfind("max_iterations=", 0) == 0) {
      options.limits.max_loop_iterations = std::stoull(w.substr(15));
    } else if (w.rfind("max_steps=", 0) == 0) {
      options.limits.max_steps = std::stoull(w.substr(10));
    } else if (w.rfind("max_depth=", 0) == 0) {
      options.limits.max_depth = static_cast<uint32_t>(std::stoul(w.substr(10)));
      parse_options.max_depth = options.limits.max_depth;
    } else {
      return Error::BadRequest(c.name + ": unknown option " + w);
    }
  }
  MapSnippetProvider snippets(c.snippets, parse_options);
  options.snippets = &snippets;
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const Template> tpl,
                           Template::Parse(c.template_source, parse_options));
  std::string out;
  RAPPORT_TRY(tpl->Render(data, options, out));
  return out;
}

}  // namespace rapport::liquid
