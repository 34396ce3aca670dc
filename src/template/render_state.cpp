#include "template/render_state.h"

#include <algorithm>

namespace rapport::liquid {

bool RenderState::Fail(SourcePos pos, Error e) {
  if (failed) return false;
  failed = true;
  if (e.field.empty() && pos.line != 0) {
    e.field = std::to_string(pos.line) + ":" + std::to_string(pos.col);
  }
  if (!template_name.empty()) {
    e.message = "in '" + std::string(template_name) + "': " + e.message;
  }
  error = std::move(e);
  return false;
}

bool RenderState::Fail(SourcePos pos, ErrorCode code, std::string message) {
  return Fail(pos, Error{code, std::move(message), {}});
}

bool RenderState::StepLimit(SourcePos pos) {
  return Fail(pos, ErrorCode::kLimitExceeded,
              "Liquid error: render step limit exceeded (" + std::to_string(options.limits.max_steps) + ")");
}

bool RenderState::LoopLimit(SourcePos pos) {
  return Fail(pos, ErrorCode::kLimitExceeded,
              "Liquid error: loop iteration limit exceeded (" +
                  std::to_string(options.limits.max_loop_iterations) + ")");
}

bool RenderState::OutputLimit(SourcePos pos) {
  return Fail(pos, ErrorCode::kLimitExceeded,
              "Liquid error: output size limit exceeded (" + std::to_string(options.limits.max_output_bytes) +
                  " bytes)");
}

}  // namespace rapport::liquid
