// RenderState: what one render call carries from node to node besides the output: the options
// and limits, the scratch arena, the variables in scope, loop and cycle bookkeeping, the pending
// break/continue, and the first error. Shared by the renderer, the expression evaluator and the
// loop tags; one per render call, never shared between threads.
//
// Failure: Fail records the first error (with its position and the snippet it happened in) and
// returns false, so callers stop with `return st.Fail(...)`; later failures are ignored.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "template/ast.h"
#include "template/scope.h"
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

struct RenderState {
  enum class Flow : uint8_t { kNormal, kBreak, kContinue };

  RenderState(const RenderOptions& options, Arena& arena) : options(options), arena(arena) {}

  bool Fail(SourcePos pos, Error e);
  bool Fail(SourcePos pos, ErrorCode code, std::string message);
  // Counts one node or filter against limits.max_steps.
  bool Step(SourcePos pos) {
    if (++steps > options.limits.max_steps) return StepLimit(pos);
    return true;
  }
  // Checks the output written by this render (from out_base) and the arena against the limits.
  bool CheckOutput(const std::string& out, SourcePos pos) {
    size_t written = out.size() > out_base ? out.size() - out_base : 0;
    if (written <= options.limits.max_output_bytes && arena.bytes_used() <= memory_budget()) return true;
    return OutputLimit(pos);
  }
  // The most memory values made while rendering may take (strings made by filters included).
  size_t memory_budget() const { return 4 * options.limits.max_output_bytes + (16u << 20); }
  bool LoopLimit(SourcePos pos);

  const RenderOptions& options;
  Arena& arena;
  std::string scratch;                                        // reusable buffer for filters and printing
  std::vector<std::unique_ptr<std::string>> capture_buffers;  // one per nesting level of capture
  size_t capture_depth = 0;
  std::string ifchanged_last;  // what the last {% ifchanged %} output
  bool ifchanged_seen = false;
  Scope* scope = nullptr;
  Flow flow = Flow::kNormal;
  uint64_t steps = 0;
  uint64_t iterations = 0;
  uint32_t depth = 0;
  size_t out_base = 0;
  // Keys are copied into the arena, which outlives the render.
  std::vector<std::pair<std::string_view, int64_t>> cycles;   // cycle key -> next index
  std::vector<std::pair<std::string_view, int64_t>> offsets;  // for loop name -> offset:continue
  std::string cycle_key;                                      // buffer for a cycle group's key
  std::vector<const LoopState*> for_stack;                    // for parentloop
  std::string_view template_name;                             // the snippet being rendered
  Error error;
  bool failed = false;

 private:
  bool StepLimit(SourcePos pos);
  bool OutputLimit(SourcePos pos);
};

}  // namespace rapport::liquid
