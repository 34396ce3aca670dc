// The loop tags: {% for %} (limit, offset, offset:continue, reversed, else, forloop), {% tablerow %}
// (cols, limit, offset, tablerowloop and its HTML rows) and {% cycle %} (named groups, counters
// per render), rendered through the Renderer that owns the render's state.
//
// Thread-safety: like the Renderer, one render at a time. Failure: errors (bad limit or offset,
// loop and nesting limits, errors in the body) are recorded in the RenderState; the call returns
// false.
#pragma once

#include <string>
#include <vector>

#include "template/ast.h"
#include "template/value.h"

namespace rapport::liquid {

class Renderer;

bool RenderFor(Renderer& r, const ForNode& node, std::string& out);
bool RenderTablerow(Renderer& r, const TablerowNode& node, std::string& out);
bool RenderCycle(Renderer& r, const CycleNode& node, std::string& out);

// The items a loop walks for a collection: an array's items, a hash's [key, value] pairs (made
// in `arena`), a non-empty string as itself; nothing for anything else.
void Collect(Arena& arena, const Value& collection, std::vector<Value>& items);

}  // namespace rapport::liquid
