// Renderer: walks a compiled template's nodes and appends the output. It renders text and
// {{ }} (with automatic HTML escaping), if/unless/case, assign, capture, ifchanged, increment/decrement and
// render/include itself; expressions are evaluated by its Evaluator (expression.h), the loop
// tags by loop_tags.h, and the per-render state (scope, limits, first error) is its RenderState
// (render_state.h). One Renderer per render call; not thread-safe (a Template is, and makes one
// per call).
//
// Failure: the first error stops the render and is returned with its position.
#pragma once

#include <string>

#include "core/error.h"
#include "template/ast.h"
#include "template/expression.h"
#include "template/render_state.h"
#include "template/template.h"
#include "template/value.h"

namespace rapport::liquid {

class Renderer {
 public:
  Renderer(const RenderOptions& options, Arena& arena);

  Status RenderTemplate(const Template& tpl, const Value& data, std::string& out);

  // For the tags rendered outside this class (loop_tags.h): renders a block's nodes in order
  // until one fails or a break/continue is pending.
  bool RenderBlock(const Block& block, std::string& out);
  RenderState& state() { return st_; }
  Evaluator& evaluator() { return eval_; }

 private:
  bool RenderNode(const Node& node, std::string& out);
  bool RenderOutput(const OutputNode& node, std::string& out);
  bool RenderIf(const IfNode& node, std::string& out);
  bool RenderCase(const CaseNode& node, std::string& out);
  bool RenderCounter(const CounterNode& node, std::string& out);
  bool RenderIfchanged(const IfchangedNode& node, std::string& out);
  bool RenderInclude(const IncludeNode& node, std::string& out);

  RenderState st_;
  Evaluator eval_;
};

}  // namespace rapport::liquid
