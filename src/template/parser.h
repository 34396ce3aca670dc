// Builds the node tree of a template from its tokens: the block structure (if/unless/case/for/
// tablerow/capture/comment/raw/liquid) and each tag's markup, following ruby-liquid 5.4's strict
// error mode, including its removal of whitespace-only text from control-flow blocks whose
// bodies output nothing else ("blank" blocks).
//
// Thread-safety: pure function. Failure: syntax errors with their position.
#pragma once

#include <string_view>

#include "core/error.h"
#include "template/ast.h"
#include "template/template.h"

namespace rapport::liquid {

// `source` must outlive the returned block (nodes point into it).
Result<Block> ParseBlocks(std::string_view source, const ParseOptions& options);

}  // namespace rapport::liquid
