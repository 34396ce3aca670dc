#include "template/renderer.h"

#include <algorithm>

#include "template/comparison.h"
#include "template/html_escape.h"
#include "template/loop_tags.h"
#include "template/number.h"

namespace rapport::liquid {

namespace {

std::string_view LastSegment(std::string_view name) {
  size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

}  // namespace

Renderer::Renderer(const RenderOptions& options, Arena& arena) : st_(options, arena), eval_(st_) {}

Status Renderer::RenderTemplate(const Template& tpl, const Value& data, std::string& out) {
  Scope scope;
  scope.data = data;
  st_.scope = &scope;
  st_.out_base = out.size();
  RenderBlock(tpl.root(), out);
  st_.scope = nullptr;
  if (st_.failed) return st_.error;
  return {};
}

bool Renderer::RenderBlock(const Block& block, std::string& out) {
  for (const auto& node : block) {
    if (!RenderNode(*node, out)) return false;
    if (st_.flow != RenderState::Flow::kNormal) return true;
  }
  return true;
}

bool Renderer::RenderNode(const Node& node, std::string& out) {
  if (!st_.Step(node.pos)) return false;
  switch (node.kind) {
    case NodeKind::kText:
      out += static_cast<const TextNode&>(node).text;
      return st_.CheckOutput(out, node.pos);
    case NodeKind::kOutput:
      if (!RenderOutput(static_cast<const OutputNode&>(node), out)) return false;
      return st_.CheckOutput(out, node.pos);
    case NodeKind::kIf: return RenderIf(static_cast<const IfNode&>(node), out);
    case NodeKind::kCase: return RenderCase(static_cast<const CaseNode&>(node), out);
    case NodeKind::kFor: return RenderFor(*this, static_cast<const ForNode&>(node), out);
    case NodeKind::kTablerow: return RenderTablerow(*this, static_cast<const TablerowNode&>(node), out);
    case NodeKind::kCycle: return RenderCycle(*this, static_cast<const CycleNode&>(node), out);
    case NodeKind::kAssign: {
      const auto& a = static_cast<const AssignNode&>(node);
      Value v;
      bool ignored;
      if (!eval_.EvalPipeline(a.value, &v, &ignored)) return false;
      st_.scope->SetGlobal(a.name, v);
      return true;
    }
    case NodeKind::kCapture: {
      const auto& c = static_cast<const CaptureNode&>(node);
      // One buffer per nesting level, kept for the render: no allocation once grown.
      if (st_.capture_depth == st_.capture_buffers.size()) {
        st_.capture_buffers.push_back(std::make_unique<std::string>());
      }
      std::string& buf = *st_.capture_buffers[st_.capture_depth++];
      buf.clear();
      size_t saved_base = st_.out_base;
      st_.out_base = 0;
      bool ok = RenderBlock(c.body, buf);
      st_.out_base = saved_base;
      --st_.capture_depth;
      if (!ok) return false;
      st_.scope->SetGlobal(c.name, Value::String(st_.arena.Copy(buf)));
      return st_.CheckOutput(buf, node.pos);
    }
    case NodeKind::kCounter: return RenderCounter(static_cast<const CounterNode&>(node), out);
    case NodeKind::kBreak: st_.flow = RenderState::Flow::kBreak; return true;
    case NodeKind::kContinue: st_.flow = RenderState::Flow::kContinue; return true;
    case NodeKind::kInclude: return RenderInclude(static_cast<const IncludeNode&>(node), out);
    case NodeKind::kIfchanged: return RenderIfchanged(static_cast<const IfchangedNode&>(node), out);
  }
  return true;
}

bool Renderer::RenderOutput(const OutputNode& node, std::string& out) {
  Value v;
  bool escaped_or_raw = false;
  if (!eval_.EvalPipeline(node.pipeline, &v, &escaped_or_raw)) return false;
  if (st_.options.html_escape && !escaped_or_raw) {
    if (v.is_string()) {
      AppendEscapedHtml(out, v.as_string());
    } else {
      st_.scratch.clear();
      AppendValue(st_.scratch, v);
      AppendEscapedHtml(out, st_.scratch);
    }
  } else {
    AppendValue(out, v);
  }
  return true;
}

bool Renderer::RenderIf(const IfNode& node, std::string& out) {
  for (const auto& b : node.branches) {
    bool take = true;
    if (b.cond) {
      if (!eval_.EvalCondition(*b.cond, &take)) return false;
      if (b.negate) take = !take;
    }
    if (take) return RenderBlock(b.body, out);
  }
  return true;
}

bool Renderer::RenderCase(const CaseNode& node, std::string& out) {
  Value subject;
  if (!eval_.Eval(node.subject, &subject)) return false;
  bool run_else = true;
  for (const auto& b : node.branches) {
    if (b.is_else) {
      if (run_else && !RenderBlock(b.body, out)) return false;
      if (st_.flow != RenderState::Flow::kNormal) return true;
      continue;
    }
    // Like ruby-liquid, each value of `when a, b` is its own branch: the body renders once
    // per matching value.
    for (const Expr& e : b.values) {
      Value v;
      if (!eval_.Eval(e, &v)) return false;
      if (ConditionEquals(subject, v)) {
        run_else = false;
        if (!RenderBlock(b.body, out)) return false;
        if (st_.flow != RenderState::Flow::kNormal) return true;
      }
    }
  }
  return true;
}

bool Renderer::RenderIfchanged(const IfchangedNode& node, std::string& out) {
  if (st_.capture_depth == st_.capture_buffers.size()) {
    st_.capture_buffers.push_back(std::make_unique<std::string>());
  }
  std::string& buf = *st_.capture_buffers[st_.capture_depth++];
  buf.clear();
  size_t saved_base = st_.out_base;
  st_.out_base = 0;
  bool ok = RenderBlock(node.body, buf);
  st_.out_base = saved_base;
  --st_.capture_depth;
  if (!ok) return false;
  // One "last output" for every ifchanged of the render, like ruby-liquid's register.
  if (!st_.ifchanged_seen || buf != st_.ifchanged_last) {
    st_.ifchanged_seen = true;
    st_.ifchanged_last = buf;
    out += buf;
  }
  return st_.CheckOutput(out, node.pos);
}

bool Renderer::RenderCounter(const CounterNode& node, std::string& out) {
  Var* var = nullptr;
  for (Var& c : st_.scope->counters) {
    if (c.name == node.name) var = &c;
  }
  if (var == nullptr) {
    Value initial = Value::Int(0);
    if (st_.scope->data.is_object()) {
      if (const Value* v = st_.scope->data.as_object().Find(node.name)) {
        if (v->is_number()) initial = *v;
      }
    }
    st_.scope->counters.push_back({node.name, initial});
    var = &st_.scope->counters.back();
  }
  Value cur = var->value;
  auto add = [](const Value& v, int64_t d) {
    return v.is_int() ? Value::Int(v.as_int() + d) : Value::Double(v.as_double() + d);
  };
  if (node.increment) {
    AppendValue(out, cur);
    var->value = add(cur, 1);
  } else {
    var->value = add(cur, -1);
    AppendValue(out, var->value);
  }
  return true;
}

bool Renderer::RenderInclude(const IncludeNode& node, std::string& out) {
  Value name_v;
  if (!eval_.Eval(node.name, &name_v)) return false;
  if (!name_v.is_string()) {
    return st_.Fail(node.pos, ErrorCode::kInvalid,
                    "Liquid error: Argument error in tag 'include' - Illegal template name");
  }
  std::string_view name = name_v.as_string();
  if (st_.options.snippets == nullptr) {
    return st_.Fail(node.pos, ErrorCode::kInvalid,
                    "Liquid error: This liquid context does not allow includes.");
  }
  auto found = st_.options.snippets->Find(name);
  if (!found.ok()) {
    Error e = std::move(found).error();
    e.message = "snippet '" + std::string(name) + "': " + e.message;
    if (e.code == ErrorCode::kBadRequest) e.field.clear();
    return st_.Fail(node.pos, std::move(e));
  }
  std::shared_ptr<const Template> tpl = *found;
  if (++st_.depth > st_.options.limits.max_depth) {
    return st_.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  std::string_view var_name = node.alias.empty() ? LastSegment(name) : node.alias;
  std::string_view saved_name = st_.template_name;
  bool ok = true;

  if (node.isolated) {
    Value variable;
    if (node.with && !eval_.Eval(*node.with, &variable)) {
      --st_.depth;
      return false;
    }
    std::vector<std::pair<std::string_view, Value>> attrs;
    for (const auto& a : node.attributes) {
      Value v;
      if (!eval_.Eval(a.second, &v)) {
        --st_.depth;
        return false;
      }
      attrs.emplace_back(a.first, v);
    }
    auto render_one = [&](const Value& var, const LoopState* loop) {
      Scope inner;
      if (loop) inner.locals.push_back({"forloop", Value::Loop(loop)});
      for (const auto& a : attrs) inner.locals.push_back({a.first, a.second});
      if (!var.is_nil()) inner.locals.push_back({var_name, var});
      Scope* saved = st_.scope;
      auto saved_cycles = st_.cycles;
      std::string saved_ifchanged = st_.ifchanged_last;
      bool saved_ifchanged_seen = st_.ifchanged_seen;
      st_.scope = &inner;
      st_.template_name = name;
      bool r = RenderBlock(tpl->root(), out);
      st_.flow = RenderState::Flow::kNormal;
      st_.scope = saved;
      st_.cycles = std::move(saved_cycles);
      st_.ifchanged_last = std::move(saved_ifchanged);
      st_.ifchanged_seen = saved_ifchanged_seen;
      st_.template_name = saved_name;
      return r;
    };
    if (node.is_for && (variable.is_array() || variable.is_object() || variable.is_range())) {
      std::vector<Value> items;
      if (variable.is_range()) {
        int64_t lo = variable.range_first(), hi = variable.range_last();
        if (RangeCount(lo, hi) > static_cast<int64_t>(st_.options.limits.max_loop_iterations)) {
          --st_.depth;
          return st_.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
        }
        for (int64_t i = 0; i < RangeCount(lo, hi); ++i) items.push_back(Value::Int(lo + i));
      } else {
        Collect(st_.arena, variable, items);
      }
      LoopState st;
      st.name = name;
      st.length = static_cast<int64_t>(items.size());
      for (const Value& item : items) {
        if (++st_.iterations > st_.options.limits.max_loop_iterations) {
          ok = st_.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
          break;
        }
        if (!render_one(item, &st)) {
          ok = false;
          break;
        }
        ++st.index0;
      }
    } else {
      ok = render_one(variable, nullptr);
    }
  } else {
    Value variable;
    if (node.with) {
      if (!eval_.Eval(*node.with, &variable)) {
        --st_.depth;
        return false;
      }
    } else {
      st_.scope->Find(name, &variable);
    }
    auto& locals = st_.scope->locals;
    size_t mark = locals.size();
    for (const auto& a : node.attributes) {
      Value v;
      if (!eval_.Eval(a.second, &v)) {
        st_.scope->locals.resize(mark);
        --st_.depth;
        return false;
      }
      st_.scope->locals.push_back({a.first, v});
    }
    size_t var_slot = st_.scope->locals.size();
    st_.scope->locals.push_back({var_name, Value()});
    st_.template_name = name;
    if (variable.is_array()) {
      for (const Value& item : variable.as_array()) {
        if (++st_.iterations > st_.options.limits.max_loop_iterations) {
          ok = st_.Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
          break;
        }
        st_.scope->locals[var_slot].value = item;
        if (!RenderBlock(tpl->root(), out)) {
          ok = false;
          break;
        }
      }
    } else {
      st_.scope->locals[var_slot].value = variable;
      ok = RenderBlock(tpl->root(), out);
    }
    st_.template_name = saved_name;
    st_.scope->locals.resize(mark);
  }
  --st_.depth;
  return ok;
}

}  // namespace rapport::liquid
