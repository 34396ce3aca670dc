#include "template/loop_tags.h"

#include <algorithm>
#include <string>
#include <vector>

#include "template/number.h"
#include "template/renderer.h"

namespace rapport::liquid {

void Collect(Arena& arena, const Value& c, std::vector<Value>& items) {
  switch (c.kind()) {
    case Value::Kind::kArray: items.assign(c.as_array().begin(), c.as_array().end()); return;
    case Value::Kind::kObject: {
      const ObjectData& o = c.as_object();
      items.reserve(o.size);
      for (size_t i = 0; i < o.size; ++i) {
        Value pair[2] = {Value::String(o.members[i].key), o.members[i].value};
        items.push_back(Value::Array(MakeArray(arena, pair, 2)));
      }
      return;
    }
    case Value::Kind::kString:
      if (!c.as_string().empty()) items.push_back(c);
      return;
    default: return;
  }
}

bool RenderFor(Renderer& r, const ForNode& node, std::string& out) {
  RenderState& st = r.state();
  Evaluator& ev = r.evaluator();
  int64_t from = 0;
  if (node.offset_continue) {
    for (const auto& o : st.offsets) {
      if (o.first == node.name) from = o.second;
    }
  } else if (node.offset) {
    Value v;
    if (!ev.Eval(*node.offset, &v)) return false;
    if (!v.is_nil() && !ev.ToInteger(v, &from)) {
      return st.Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
    }
  }
  Value coll;
  if (!ev.Eval(node.collection, &coll)) return false;
  bool has_to = false;
  int64_t to = 0;
  if (node.limit) {
    Value v;
    if (!ev.Eval(*node.limit, &v)) return false;
    if (!v.is_nil()) {
      if (!ev.ToInteger(v, &to))
        return st.Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
      has_to = true;
      if (__builtin_add_overflow(to, from, &to)) to = from > 0 ? INT64_MAX : INT64_MIN;
    }
  }
  // The items to walk: a view of an array's items, a range generated on the fly, or (for a hash's
  // pairs and a string) a few values made in the arena. Nothing is copied for arrays and ranges.
  const Value* list = nullptr;
  int64_t range_lo = 0;
  bool is_range = false;
  int64_t count = 0;
  if (coll.is_range()) {
    int64_t lo = coll.range_first(), hi = coll.range_last();
    int64_t n = RangeCount(lo, hi);
    int64_t start = std::max<int64_t>(from, 0);
    int64_t end = has_to ? std::min(n, to) : n;
    if (end > start) {
      if (static_cast<uint64_t>(end - start) > st.options.limits.max_loop_iterations) {
        return st.LoopLimit(node.pos);
      }
      is_range = true;
      range_lo = lo + start;
      count = end - start;
    }
  } else {
    size_t total = 0;
    const Value* all = nullptr;
    Value single;
    switch (coll.kind()) {
      case Value::Kind::kArray:
        all = coll.as_array().items;
        total = coll.as_array().size;
        break;
      case Value::Kind::kString:
        if (!coll.as_string().empty()) {
          single = coll;
          all = &single;
          total = 1;
        }
        break;
      case Value::Kind::kObject: {
        const ObjectData& o = coll.as_object();
        Value* pairs = st.arena.AllocateArray<Value>(o.size);
        for (size_t k = 0; k < o.size; ++k) {
          Value pair[2] = {Value::String(o.members[k].key), o.members[k].value};
          pairs[k] = Value::Array(MakeArray(st.arena, pair, 2));
        }
        all = pairs;
        total = o.size;
        break;
      }
      default: break;
    }
    int64_t start = std::max<int64_t>(from, 0);
    int64_t end = has_to ? std::min<int64_t>(static_cast<int64_t>(total), to) : static_cast<int64_t>(total);
    if (end > start) {
      if (all == &single) {
        Value* copy = st.arena.AllocateArray<Value>(1);
        copy[0] = single;
        all = copy;
      }
      list = all + start;
      count = end - start;
    }
  }
  int64_t next;
  if (__builtin_add_overflow(from, count, &next)) next = INT64_MAX;
  bool stored = false;
  for (auto& o : st.offsets) {
    if (SameKey(o.first, node.name)) {
      o.second = next;
      stored = true;
    }
  }
  if (!stored) st.offsets.emplace_back(st.arena.Copy(node.name), next);

  if (count == 0) return r.RenderBlock(node.else_body, out);

  if (++st.depth > st.options.limits.max_depth) {
    return st.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  LoopState loop;
  loop.name = node.name;
  loop.length = count;
  loop.parent = st.for_stack.empty() ? nullptr : st.for_stack.back();
  st.for_stack.push_back(&loop);
  auto& locals = st.scope->locals;
  size_t mark = locals.size();
  locals.push_back({"forloop", Value::Loop(&loop)});
  locals.push_back({node.var, Value()});
  bool ok = true;
  for (int64_t k = 0; k < count; ++k) {
    if (++st.iterations > st.options.limits.max_loop_iterations) {
      ok = st.LoopLimit(node.pos);
      break;
    }
    int64_t at = node.reversed ? count - 1 - k : k;
    // The body may have pushed and popped; the loop variable sits at mark + 1.
    st.scope->locals[mark + 1].value = is_range ? Value::Int(range_lo + at) : list[at];
    if (!r.RenderBlock(node.body, out)) {
      ok = false;
      break;
    }
    ++loop.index0;
    if (st.flow == RenderState::Flow::kBreak) {
      st.flow = RenderState::Flow::kNormal;
      break;
    }
    if (st.flow == RenderState::Flow::kContinue) st.flow = RenderState::Flow::kNormal;
  }
  st.scope->locals.resize(mark);
  st.for_stack.pop_back();
  --st.depth;
  return ok;
}

namespace {

// A tablerow attribute: Ruby's #to_i, which nil, numbers and strings have; anything else
// (true, an array, a hash, a range, a loop) is "invalid integer", as in current Shopify Liquid.
bool TablerowInteger(const Value& v, int64_t* out) {
  switch (v.kind()) {
    case Value::Kind::kNil:
    case Value::Kind::kInt:
    case Value::Kind::kDouble:
    case Value::Kind::kString:
    case Value::Kind::kEmpty:
    case Value::Kind::kBlank: *out = ValueToI(v); return true;
    default: return false;
  }
}

}  // namespace

bool RenderTablerow(Renderer& r, const TablerowNode& node, std::string& out) {
  RenderState& st = r.state();
  Evaluator& ev = r.evaluator();
  Value coll;
  if (!ev.Eval(node.collection, &coll)) return false;
  if (!coll.Truthy()) return true;
  int64_t from = 0;
  bool has_to = false;
  int64_t to = 0;
  if (node.offset) {
    Value v;
    if (!ev.Eval(*node.offset, &v)) return false;
    if (!TablerowInteger(v, &from))
      return st.Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
  }
  if (node.limit) {
    Value v;
    if (!ev.Eval(*node.limit, &v)) return false;
    int64_t limit;
    if (!TablerowInteger(v, &limit))
      return st.Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
    if (__builtin_add_overflow(from, limit, &to)) to = from > 0 ? INT64_MAX : INT64_MIN;
    has_to = true;
  }
  std::vector<Value> segment;
  if (coll.is_string()) {
    if (!coll.as_string().empty()) segment.push_back(coll);
  } else {
    std::vector<Value> all;
    if (coll.is_range()) {
      int64_t lo = coll.range_first(), hi = coll.range_last();
      int64_t n = RangeCount(lo, hi);
      int64_t end = has_to ? std::min(n, to) : n;
      if (static_cast<__int128>(end) - std::max<int64_t>(from, 0) >
          static_cast<__int128>(st.options.limits.max_loop_iterations)) {
        return st.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
      }
      for (int64_t i = std::max<int64_t>(from, 0); i < end; ++i) all.push_back(Value::Int(lo + i));
      segment = std::move(all);
    } else {
      Collect(st.arena, coll, all);
      int64_t start = std::max<int64_t>(from, 0);
      int64_t end =
          has_to ? std::min<int64_t>(static_cast<int64_t>(all.size()), to) : static_cast<int64_t>(all.size());
      if (end > start) segment.assign(all.begin() + start, all.begin() + end);
    }
  }
  // Without cols, current Shopify Liquid puts every cell in one row of `length` columns (so
  // tablerowloop.col_last is true on the last cell); ruby-liquid 5.4 used 0.
  int64_t cols = static_cast<int64_t>(segment.size());
  if (node.cols) {
    Value v;
    if (!ev.Eval(*node.cols, &v)) return false;
    if (!TablerowInteger(v, &cols))
      return st.Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
  }
  if (++st.depth > st.options.limits.max_depth) {
    return st.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  out += "<tr class=\"row1\">\n";
  LoopState loop;
  loop.tablerow = true;
  loop.length = static_cast<int64_t>(segment.size());
  loop.cols = cols;
  auto& locals = st.scope->locals;
  size_t mark = locals.size();
  locals.push_back({"tablerowloop", Value::Loop(&loop)});
  locals.push_back({node.var, Value()});
  bool ok = true;
  for (const Value& item : segment) {
    if (++st.iterations > st.options.limits.max_loop_iterations) {
      ok = st.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
      break;
    }
    st.scope->locals[mark + 1].value = item;
    out += "<td class=\"col";
    AppendInt(out, loop.col);
    out += "\">";
    if (!r.RenderBlock(node.body, out)) {
      ok = false;
      break;
    }
    // {% break %} ends the table after this cell (current Shopify Liquid; ruby-liquid 5.4 went
    // on); {% continue %} only ends the cell.
    bool stop = st.flow == RenderState::Flow::kBreak;
    st.flow = RenderState::Flow::kNormal;
    out += "</td>";
    if (stop) break;
    if (loop.col == loop.cols && loop.index0 != loop.length - 1) {
      out += "</tr>\n<tr class=\"row";
      AppendInt(out, loop.row + 1);
      out += "\">";
    }
    ++loop.index0;
    if (loop.col == loop.cols) {
      loop.col = 1;
      ++loop.row;
    } else {
      ++loop.col;
    }
    if (!st.CheckOutput(out, node.pos)) {
      ok = false;
      break;
    }
  }
  st.scope->locals.resize(mark);
  --st.depth;
  if (ok) out += "</tr>\n";
  return ok;
}

bool RenderCycle(Renderer& r, const CycleNode& node, std::string& out) {
  RenderState& st = r.state();
  Evaluator& ev = r.evaluator();
  std::string_view key = node.key;
  if (node.group) {
    Value g;
    if (!ev.Eval(*node.group, &g)) return false;
    std::string& k = st.cycle_key;
    k.assign("g");
    k += static_cast<char>('0' + static_cast<int>(g.kind()));
    AppendValue(k, g);
    key = k;
  }
  size_t slot = st.cycles.size();
  for (size_t c = 0; c < st.cycles.size(); ++c) {
    if (SameKey(st.cycles[c].first, key)) slot = c;
  }
  if (slot == st.cycles.size()) st.cycles.emplace_back(st.arena.Copy(key), 0);
  int64_t i = st.cycles[slot].second;
  Value v;
  // Expressions render no tags, so evaluating one leaves the cycles (and `slot`) as they are.
  if (!ev.Eval(node.values[static_cast<size_t>(i) % node.values.size()], &v)) return false;
  st.cycles[slot].second = i + 1 >= static_cast<int64_t>(node.values.size()) ? 0 : i + 1;
  AppendValue(out, v);
  return st.CheckOutput(out, node.pos);
}

}  // namespace rapport::liquid
