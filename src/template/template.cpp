#include "template/template.h"

#include <boost/json/value.hpp>

#include "template/parser.h"
#include "template/renderer.h"

namespace rapport::liquid {

Result<std::shared_ptr<const Template>> Template::Parse(std::string source, const ParseOptions& options) {
  std::shared_ptr<Template> tpl(new Template());
  tpl->source_ = std::make_unique<std::string>(std::move(source));
  RAPPORT_ASSIGN_OR_RETURN(tpl->root_, ParseBlocks(*tpl->source_, options));
  return std::shared_ptr<const Template>(std::move(tpl));
}

Status Template::Render(const Value& data, const RenderOptions& options, std::string& out) const {
  Arena arena;
  Renderer renderer(options, arena);
  return renderer.RenderTemplate(*this, data, out);
}

Status Template::Render(const Value& data, const RenderOptions& options, std::string& out,
                        Arena& scratch) const {
  Renderer renderer(options, scratch);
  return renderer.RenderTemplate(*this, data, out);
}

Status Template::Render(const boost::json::value& data, const RenderOptions& options,
                        std::string& out) const {
  Arena arena;
  Value v = FromJson(data, arena);
  Renderer renderer(options, arena);
  return renderer.RenderTemplate(*this, v, out);
}

MapSnippetProvider::MapSnippetProvider(std::map<std::string, std::string, std::less<>> sources,
                                       ParseOptions options)
    : sources_(std::move(sources)), options_(options) {}

Result<std::shared_ptr<const Template>> MapSnippetProvider::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto cached = cache_.find(name);
  if (cached != cache_.end()) return cached->second;
  auto it = sources_.find(name);
  if (it == sources_.end()) {
    return Error::NotFound("Liquid error: No such template '" + std::string(name) + "'");
  }
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const Template> tpl, Template::Parse(it->second, options_));
  cache_.emplace(std::string(name), tpl);
  return tpl;
}

}  // namespace rapport::liquid
