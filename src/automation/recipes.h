// The classic flows as recipes (docs/journeys.md, "Recipes"): a journey document and the default
// templates it sends (responsive HTML and text, English and French by the contact's locale).
// InstallRecipe creates the templates the workspace lacks (an existing template of the same name
// is kept: it may be the business's own), then the journey, and activates it unless told not to.
// `options` may hold "name" (the journey's name), "activate" (default true) and "steps":
// {"<step id>": {fields merged into that step}} to change waits ("duration", "timeout") or
// templates; tests shorten the waits this way.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "automation/journey_service.h"
#include "core/message_template.h"

namespace rapport::automation {

struct RecipeTemplate {
  std::string name;
  std::string subject;
  std::string html;
  std::string text;
};

struct Recipe {
  std::string name;  // "abandoned_cart"
  std::string description;
  boost::json::value document;  // the journey
  std::vector<RecipeTemplate> templates;
};

// Every recipe, by name.
const std::vector<Recipe>& Recipes();
const Recipe* FindRecipe(std::string_view name);

struct InstalledRecipe {
  Journey journey;
  std::vector<std::string> templates_created;
};

// kNotFound for an unknown recipe; kInvalid (field "options...") for bad options; kConflict when a
// journey of that name exists.
Result<InstalledRecipe> InstallRecipe(JourneyService& journeys, WorkspaceId ws, std::string_view name,
                                      const boost::json::object& options);

}  // namespace rapport::automation
