#include "app/render_command.h"

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "core/json_parse.h"
#include "template/template.h"

namespace rapport::app {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Snippets read from DIR/<name>.liquid on first use; names with ".." or a leading '/' are
// refused. Thread-safe.
class DirectorySnippetProvider final : public liquid::SnippetProvider {
 public:
  explicit DirectorySnippetProvider(std::string dir) : dir_(std::move(dir)) {}

  Result<std::shared_ptr<const liquid::Template>> Find(std::string_view name) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    std::string n(name);
    if (n.empty() || n[0] == '/' || n.find("..") != std::string::npos) {
      return Error::Invalid("snippet", "invalid snippet name '" + n + "'");
    }
    std::string source;
    std::filesystem::path path = std::filesystem::path(dir_) / (n + ".liquid");
    if (!ReadFile(path.string(), &source)) {
      return Error::NotFound("Liquid error: No such template '" + n + "' (" + path.string() + ")");
    }
    auto tpl = liquid::Template::Parse(std::move(source));
    if (!tpl.ok()) {
      Error e = tpl.error();
      e.message = path.string() + ":" + e.field + ": " + e.message;
      return e;
    }
    cache_.emplace(n, *tpl);
    return *tpl;
  }

 private:
  std::string dir_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const liquid::Template>, std::less<>> cache_;
};

void PrintError(std::ostream& err, const std::string& file, const Error& e) {
  err << file;
  if (!e.field.empty()) err << ":" << e.field;
  err << ": " << e.message << "\n";
}

}  // namespace

int RunRender(const RenderCommandOptions& options) { return RunRender(options, std::cout, std::cerr); }

int RunRender(const RenderCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::string source;
  if (!ReadFile(options.file, &source)) {
    err << options.file << ": cannot read the template\n";
    return 1;
  }
  std::string data_text = "{}";
  if (!options.data_path.empty() && !ReadFile(options.data_path, &data_text)) {
    err << options.data_path << ": cannot read the data\n";
    return 1;
  }
  boost::system::error_code ec;
  boost::json::value data = ParseJsonExact(data_text, ec);
  if (ec) {
    err << options.data_path << ": invalid JSON: " << ec.message() << "\n";
    return 1;
  }
  if (!data.is_object()) {
    err << options.data_path << ": the data must be a JSON object\n";
    return 1;
  }
  auto tpl = liquid::Template::Parse(std::move(source));
  if (!tpl.ok()) {
    PrintError(err, options.file, tpl.error());
    return 1;
  }
  std::unique_ptr<DirectorySnippetProvider> snippets;
  liquid::RenderOptions render_options;
  render_options.strict = options.strict;
  render_options.html_escape = options.html;
  render_options.timezone = options.timezone;
  render_options.locale = options.locale;
  render_options.now = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  if (!options.snippets_dir.empty()) {
    snippets = std::make_unique<DirectorySnippetProvider>(options.snippets_dir);
    render_options.snippets = snippets.get();
  }
  // Convert the data once; every repeat renders from the same tree.
  liquid::Arena arena;
  liquid::Value root = liquid::FromJson(data, arena);
  int64_t repeat = options.repeat < 1 ? 1 : options.repeat;
  std::string output;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < repeat; ++i) {
    output.clear();
    Status s = (*tpl)->Render(root, render_options, output);
    if (!s.ok()) {
      PrintError(err, options.file, s.error());
      return 1;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << output;
  out.flush();
  if (options.repeat > 1) {
    err << repeat << " renders in " << seconds << " s ("
        << static_cast<int64_t>(seconds > 0 ? repeat / seconds : 0) << " renders/s)\n";
  }
  return 0;
}

void RegisterRenderCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<RenderCommandOptions>();
  CLI::App* cmd = root.add_subcommand("render", "Render a Liquid template with JSON data");
  cmd->add_option("file", options->file, "The template file")->required();
  cmd->add_option("--data", options->data_path, "A JSON object: the template's variables");
  cmd->add_option("--snippets", options->snippets_dir, "Directory of <name>.liquid snippets");
  cmd->add_flag("--strict", options->strict, "Undefined variables and filters are errors");
  cmd->add_flag("--html", options->html, "HTML-escape every output unless | raw");
  cmd->add_option("--repeat", options->repeat, "Render N times and report renders/s on stderr");
  cmd->add_option("--timezone", options->timezone, "IANA time zone for the date filter");
  cmd->add_option("--locale", options->locale, "en, fr, de or es (dates and money)");
  cmd->callback([options, &exit_code] { exit_code = RunRender(*options); });
}

}  // namespace rapport::app
