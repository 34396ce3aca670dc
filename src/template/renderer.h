// Walks a compiled template's nodes and appends the output: variable scopes, loops, cycles,
// counters, snippets, filters and the render limits (output size, loop iterations, depth,
// steps). One Renderer per render call; not thread-safe (a Template is, and makes one per call).
//
// Failure: the first error stops the render and is returned with its position.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "template/ast.h"
#include "template/filter_registry.h"
#include "template/template.h"
#include "template/value.h"

namespace rapport::liquid {

// forloop and tablerowloop.
struct LoopState {
  std::string_view name;
  int64_t index0 = 0;
  int64_t length = 0;
  const LoopState* parent = nullptr;
  bool tablerow = false;
  int64_t col = 1;
  int64_t cols = 0;
  int64_t row = 1;
};

class Renderer {
 public:
  Renderer(const RenderOptions& options, Arena& arena);

  Status RenderTemplate(const Template& tpl, const Value& data, std::string& out);

 private:
  struct Var {
    std::string_view name;
    Value value;
  };
  struct Scope {              // the variables of one render: isolated for {% render %}
    std::vector<Var> locals;  // innermost last
    std::vector<Var> globals;
    std::vector<Var> counters;
    Value data;
  };
  enum class Flow : uint8_t { kNormal, kBreak, kContinue };

  bool RenderBlock(const Block& block, std::string& out);
  bool RenderNode(const Node& node, std::string& out);
  bool RenderOutput(const OutputNode& node, std::string& out);
  bool RenderIf(const IfNode& node, std::string& out);
  bool RenderCase(const CaseNode& node, std::string& out);
  bool RenderFor(const ForNode& node, std::string& out);
  bool RenderTablerow(const TablerowNode& node, std::string& out);
  bool RenderCycle(const CycleNode& node, std::string& out);
  bool RenderCounter(const CounterNode& node, std::string& out);
  bool RenderInclude(const IncludeNode& node, std::string& out);

  bool Eval(const Expr& e, Value* out);
  bool EvalPipeline(const Pipeline& p, Value* out, bool* escaped_or_raw);
  bool EvalCondition(const Condition& c, bool* result);
  bool Compare(const Condition& c, const Value& l, const Value& r, Value* out);
  bool Lookup(const Value& obj, std::string_view key, bool command, Value* out, bool* found);
  bool LookupIndex(const Value& obj, const Value& key, Value* out);
  bool FindVariable(std::string_view name, Value* out, bool* found);
  void SetGlobal(std::string_view name, const Value& v);
  bool ToInteger(const Value& v, int64_t* out);
  bool Collect(const Value& collection, std::vector<Value>& items);

  bool Fail(SourcePos pos, Error e);
  bool Fail(SourcePos pos, ErrorCode code, std::string message);
  bool Step(SourcePos pos);
  bool CheckOutput(const std::string& out, SourcePos pos);

  const RenderOptions& options_;
  const FilterRegistry& filters_;
  Arena& arena_;
  std::string scratch_;
  Scope* scope_ = nullptr;
  Flow flow_ = Flow::kNormal;
  uint64_t steps_ = 0;
  uint64_t iterations_ = 0;
  uint32_t depth_ = 0;
  size_t out_base_ = 0;
  std::vector<std::pair<std::string, int64_t>> cycles_;
  std::vector<std::pair<std::string, int64_t>> offsets_;
  std::vector<const LoopState*> for_stack_;
  std::string_view template_name_;
  Error error_;
  bool failed_ = false;
};

}  // namespace rapport::liquid
