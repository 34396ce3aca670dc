#include "template/renderer.h"

#include "template/html_escape.h"

#include <algorithm>
#include <cstring>

#include "template/number.h"

namespace rapport::liquid {

namespace {

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool ParseRubyInteger(std::string_view s, int64_t* out) {
  while (!s.empty() && std::strchr(" \t\n\v\f\r", s.front()) && s.front()) s.remove_prefix(1);
  while (!s.empty() && std::strchr(" \t\n\v\f\r", s.back()) && s.back()) s.remove_suffix(1);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'd') {
      base = 10;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return false;
  __int128 v = 0;
  bool prev_digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    int d;
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return false;
      prev_digit = false;
      continue;
    }
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z')
      d = c - 'A' + 10;
    else
      return false;
    if (d >= base) return false;
    v = v * base + d;
    if (v > INT64_MAX) return false;
    prev_digit = true;
  }
  *out = static_cast<int64_t>(neg ? -v : v);
  return true;
}

// Ruby's #to_i for tablerow attributes.
int64_t RubyToI(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kDouble: return ClampToInt64(v.as_double());
    case Value::Kind::kString: return RubyStringToI(v.as_string());
    default: return 0;
  }
}

std::string_view LastSegment(std::string_view name) {
  size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

}  // namespace

Renderer::Renderer(const RenderOptions& options, Arena& arena)
    : options_(options), filters_(FilterRegistry::Builtin()), arena_(arena) {}

bool Renderer::Fail(SourcePos pos, Error e) {
  if (failed_) return false;
  failed_ = true;
  if (e.field.empty() && pos.line != 0) {
    e.field = std::to_string(pos.line) + ":" + std::to_string(pos.col);
  }
  if (!template_name_.empty()) {
    e.message = "in '" + std::string(template_name_) + "': " + e.message;
  }
  error_ = std::move(e);
  return false;
}

bool Renderer::Fail(SourcePos pos, ErrorCode code, std::string message) {
  return Fail(pos, Error{code, std::move(message), {}});
}

bool Renderer::Step(SourcePos pos) {
  if (++steps_ > options_.limits.max_steps) {
    return Fail(
        pos, ErrorCode::kLimitExceeded,
        "Liquid error: render step limit exceeded (" + std::to_string(options_.limits.max_steps) + ")");
  }
  return true;
}

bool Renderer::CheckOutput(const std::string& out, SourcePos pos) {
  size_t limit = options_.limits.max_output_bytes;
  if (out.size() - std::min(out.size(), out_base_) > limit || arena_.bytes_used() > 4 * limit + (16u << 20)) {
    return Fail(pos, ErrorCode::kLimitExceeded,
                "Liquid error: output size limit exceeded (" + std::to_string(limit) + " bytes)");
  }
  return true;
}

Status Renderer::RenderTemplate(const Template& tpl, const Value& data, std::string& out) {
  Scope scope;
  scope.data = data;
  scope_ = &scope;
  out_base_ = out.size();
  RenderBlock(tpl.root(), out);
  scope_ = nullptr;
  if (failed_) return error_;
  return {};
}

bool Renderer::RenderBlock(const Block& block, std::string& out) {
  for (const auto& node : block) {
    if (!RenderNode(*node, out)) return false;
    if (flow_ != Flow::kNormal) return true;
  }
  return true;
}

bool Renderer::RenderNode(const Node& node, std::string& out) {
  if (!Step(node.pos)) return false;
  switch (node.kind) {
    case NodeKind::kText: out += static_cast<const TextNode&>(node).text; return CheckOutput(out, node.pos);
    case NodeKind::kOutput:
      if (!RenderOutput(static_cast<const OutputNode&>(node), out)) return false;
      return CheckOutput(out, node.pos);
    case NodeKind::kIf: return RenderIf(static_cast<const IfNode&>(node), out);
    case NodeKind::kCase: return RenderCase(static_cast<const CaseNode&>(node), out);
    case NodeKind::kFor: return RenderFor(static_cast<const ForNode&>(node), out);
    case NodeKind::kTablerow: return RenderTablerow(static_cast<const TablerowNode&>(node), out);
    case NodeKind::kCycle: return RenderCycle(static_cast<const CycleNode&>(node), out);
    case NodeKind::kAssign: {
      const auto& a = static_cast<const AssignNode&>(node);
      Value v;
      bool ignored;
      if (!EvalPipeline(a.value, &v, &ignored)) return false;
      SetGlobal(a.name, v);
      return true;
    }
    case NodeKind::kCapture: {
      const auto& c = static_cast<const CaptureNode&>(node);
      std::string buf;
      size_t saved_base = out_base_;
      out_base_ = 0;
      bool ok = RenderBlock(c.body, buf);
      out_base_ = saved_base;
      if (!ok) return false;
      SetGlobal(c.name, Value::String(arena_.Copy(buf)));
      return CheckOutput(buf, node.pos);
    }
    case NodeKind::kCounter: return RenderCounter(static_cast<const CounterNode&>(node), out);
    case NodeKind::kBreak: flow_ = Flow::kBreak; return true;
    case NodeKind::kContinue: flow_ = Flow::kContinue; return true;
    case NodeKind::kInclude: return RenderInclude(static_cast<const IncludeNode&>(node), out);
  }
  return true;
}

bool Renderer::RenderOutput(const OutputNode& node, std::string& out) {
  Value v;
  bool escaped_or_raw = false;
  if (!EvalPipeline(node.pipeline, &v, &escaped_or_raw)) return false;
  if (options_.html_escape && !escaped_or_raw) {
    if (v.is_string()) {
      AppendEscapedHtml(out, v.as_string());
    } else {
      scratch_.clear();
      AppendValue(scratch_, v);
      AppendEscapedHtml(out, scratch_);
    }
  } else {
    AppendValue(out, v);
  }
  return true;
}

bool Renderer::EvalPipeline(const Pipeline& p, Value* out, bool* escaped_or_raw) {
  *escaped_or_raw = false;
  if (p.empty) {
    *out = Value();
    return true;
  }
  Value v;
  if (!Eval(p.expr, &v)) return false;
  for (const FilterCall& f : p.filters) {
    if (!Step(f.pos)) return false;
    if (f.entry == nullptr) {
      if (options_.strict) {
        return Fail(f.pos, ErrorCode::kInvalid, "Liquid error: undefined filter " + std::string(f.name));
      }
      continue;
    }
    Value args_buf[8];
    std::vector<Value> args_heap;
    Value* args = args_buf;
    if (f.args.size() > 8) {
      args_heap.resize(f.args.size());
      args = args_heap.data();
    }
    for (size_t i = 0; i < f.args.size(); ++i) {
      if (!Eval(f.args[i], &args[i])) return false;
    }
    std::vector<std::pair<std::string_view, Value>> kwargs;
    if (!f.kwargs.empty()) {
      kwargs.resize(f.kwargs.size());
      for (size_t i = 0; i < f.kwargs.size(); ++i) {
        kwargs[i].first = f.kwargs[i].first;
        if (!Eval(f.kwargs[i].second, &kwargs[i].second)) return false;
      }
    }
    size_t given = f.args.size() + (f.kwargs.empty() ? 0 : 1);
    if (given < f.entry->min_args || given > f.entry->max_args) {
      std::string expected = std::to_string(f.entry->min_args);
      if (f.entry->max_args != f.entry->min_args) {
        expected += ".." + std::to_string(f.entry->max_args);
      }
      return Fail(f.pos, ErrorCode::kInvalid,
                  "Liquid error: wrong number of arguments (given " + std::to_string(given + 1) +
                      ", expected " + expected + ") for " + std::string(f.name));
    }
    FilterArgs fa{args, f.args.size(), kwargs.data(), kwargs.size()};
    FilterContext ctx{arena_, options_, scratch_, 4 * options_.limits.max_output_bytes + (16u << 20)};
    Result<Value> r = f.entry->fn(ctx, v, fa);
    if (!r.ok()) return Fail(f.pos, std::move(r).error());
    v = *r;
    if (f.name == "raw" || f.name == "escape" || f.name == "escape_once" || f.name == "h") {
      *escaped_or_raw = true;
    }
    if (arena_.bytes_used() > 4 * options_.limits.max_output_bytes + (16u << 20)) {
      return Fail(f.pos, ErrorCode::kLimitExceeded, "Liquid error: memory limit exceeded");
    }
  }
  *out = v;
  return true;
}

bool Renderer::FindVariable(std::string_view name, Value* out, bool* found) {
  Scope& s = *scope_;
  for (size_t i = s.locals.size(); i-- > 0;) {
    if (s.locals[i].name == name) {
      *out = s.locals[i].value;
      *found = true;
      return true;
    }
  }
  for (size_t i = s.globals.size(); i-- > 0;) {
    if (s.globals[i].name == name) {
      *out = s.globals[i].value;
      *found = true;
      return true;
    }
  }
  for (const Var& c : s.counters) {
    if (c.name == name) {
      *out = c.value;
      *found = true;
      return true;
    }
  }
  if (s.data.is_object()) {
    if (const Value* v = s.data.as_object().Find(name)) {
      *out = *v;
      *found = true;
      return true;
    }
  }
  *out = Value();
  *found = false;
  return true;
}

void Renderer::SetGlobal(std::string_view name, const Value& v) {
  for (Var& g : scope_->globals) {
    if (g.name == name) {
      g.value = v;
      return;
    }
  }
  scope_->globals.push_back({name, v});
}

bool Renderer::Lookup(const Value& obj, std::string_view key, bool command, Value* out, bool* found) {
  *found = true;
  switch (obj.kind()) {
    case Value::Kind::kObject: {
      const ObjectData& o = obj.as_object();
      if (const Value* v = o.Find(key)) {
        *out = *v;
        return true;
      }
      if (command) {
        if (key == "size") {
          *out = Value::Int(static_cast<int64_t>(o.size));
          return true;
        }
        if (key == "first") {
          if (o.size == 0) {
            *out = Value();
            return true;
          }
          Value pair[2] = {Value::String(o.members[0].key), o.members[0].value};
          *out = Value::Array(MakeArray(arena_, pair, 2));
          return true;
        }
      }
      break;
    }
    case Value::Kind::kArray: {
      const ArrayData& a = obj.as_array();
      if (command) {
        if (key == "size") {
          *out = Value::Int(static_cast<int64_t>(a.size));
          return true;
        }
        if (key == "first") {
          *out = a.size ? a.items[0] : Value();
          return true;
        }
        if (key == "last") {
          *out = a.size ? a.items[a.size - 1] : Value();
          return true;
        }
      }
      break;
    }
    case Value::Kind::kString:
      if (command && key == "size") {
        *out = Value::Int(static_cast<int64_t>(Utf8Length(obj.as_string())));
        return true;
      }
      break;
    case Value::Kind::kRange:
      if (command) {
        int64_t lo = obj.range_first(), hi = obj.range_last();
        if (key == "size") {
          *out = Value::Int(RangeCount(lo, hi));
          return true;
        }
        if (key == "first") {
          *out = Value::Int(lo);
          return true;
        }
        if (key == "last") {
          *out = Value::Int(hi);
          return true;
        }
      }
      break;
    case Value::Kind::kInt:
      if (command && key == "size") {
        *out = Value::Int(8);
        return true;
      }
      break;
    case Value::Kind::kLoop: {
      const LoopState& l = obj.as_loop();
      *out = Value();
      if (key == "index")
        *out = Value::Int(l.index0 + 1);
      else if (key == "index0")
        *out = Value::Int(l.index0);
      else if (key == "rindex")
        *out = Value::Int(l.length - l.index0);
      else if (key == "rindex0")
        *out = Value::Int(l.length - l.index0 - 1);
      else if (key == "first")
        *out = Value::Bool(l.index0 == 0);
      else if (key == "last")
        *out = Value::Bool(l.index0 == l.length - 1);
      else if (key == "length")
        *out = Value::Int(l.length);
      else if (!l.tablerow && key == "name")
        *out = Value::String(l.name);
      else if (!l.tablerow && key == "parentloop") {
        if (l.parent) *out = Value::Loop(l.parent);
      } else if (l.tablerow) {
        if (key == "col")
          *out = Value::Int(l.col);
        else if (key == "col0")
          *out = Value::Int(l.col - 1);
        else if (key == "col_first")
          *out = Value::Bool(l.col == 1);
        else if (key == "col_last")
          *out = Value::Bool(l.col == l.cols);
        else if (key == "row")
          *out = Value::Int(l.row);
      }
      return true;
    }
    default: break;
  }
  *out = Value();
  *found = false;
  return true;
}

bool Renderer::LookupIndex(const Value& obj, const Value& key, Value* out) {
  *out = Value();
  if (obj.is_array() && key.is_int()) {
    const ArrayData& a = obj.as_array();
    int64_t i = key.as_int();
    if (i < 0) i += static_cast<int64_t>(a.size);
    if (i >= 0 && i < static_cast<int64_t>(a.size)) *out = a.items[i];
    return true;
  }
  if (key.is_string()) {
    bool found;
    return Lookup(obj, key.as_string(), false, out, &found);
  }
  return true;
}

bool Renderer::Eval(const Expr& e, Value* out) {
  switch (e.kind) {
    case Expr::Kind::kLiteral: *out = e.literal; return true;
    case Expr::Kind::kRange: {
      Value lo, hi;
      if (!Eval(*e.lo, &lo) || !Eval(*e.hi, &hi)) return false;
      int64_t a, b;
      bool literal = e.lo->kind == Expr::Kind::kLiteral && e.hi->kind == Expr::Kind::kLiteral;
      auto conv = [&](const Value& v, int64_t* r) {
        if (v.is_int()) {
          *r = v.as_int();
          return true;
        }
        if (literal || v.is_nil() || v.is_string()) {
          *r = RubyToI(v);
          return true;
        }
        return ToInteger(v, r);
      };
      if (!conv(lo, &a) || !conv(hi, &b)) {
        return Fail(e.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
      }
      *out = Value::Range(a, b);
      return true;
    }
    case Expr::Kind::kVariable: break;
  }
  Value cur;
  bool found = false;
  std::string_view root = e.root;
  if (e.root_expr) {
    Value k;
    if (!Eval(*e.root_expr, &k)) return false;
    if (!k.is_string()) {
      if (options_.strict) {
        return Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable");
      }
      *out = Value();
      return true;
    }
    root = k.as_string();
  }
  FindVariable(root, &cur, &found);
  if (!found && options_.strict) {
    return Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable " + std::string(root));
  }
  for (const PathItem& item : e.path) {
    if (item.index) {
      Value k;
      if (!Eval(*item.index, &k)) return false;
      bool ok_key = (cur.is_array() && k.is_int()) ||
                    (cur.is_object() && k.is_string() && cur.as_object().Find(k.as_string()));
      if (cur.kind() == Value::Kind::kLoop) ok_key = true;
      if (!ok_key) {
        if (options_.strict) {
          std::string ks;
          AppendValue(ks, k);
          return Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable " + ks);
        }
        *out = Value();
        return true;
      }
      Value next;
      LookupIndex(cur, k, &next);
      cur = next;
    } else {
      Value next;
      Lookup(cur, item.name, item.is_command, &next, &found);
      if (!found) {
        if (options_.strict) {
          return Fail(e.pos, ErrorCode::kInvalid,
                      "Liquid error: undefined variable " + std::string(item.name));
        }
        *out = Value();
        return true;
      }
      cur = next;
    }
  }
  *out = cur;
  return true;
}

bool Renderer::ToInteger(const Value& v, int64_t* out) {
  if (v.is_int()) {
    *out = v.as_int();
    return true;
  }
  std::string s;
  AppendValue(s, v);
  if (v.is_nil()) s.clear();
  return ParseRubyInteger(s, out);
}

bool Renderer::Compare(const Condition& c, const Value& l, const Value& r, Value* out) {
  using Op = Condition::Op;
  auto is_method = [](const Value& v) {
    return v.kind() == Value::Kind::kEmpty || v.kind() == Value::Kind::kBlank;
  };
  auto equal = [&](const Value& a, const Value& b) -> Value {
    const Value* lit = is_method(a) ? &a : (is_method(b) ? &b : nullptr);
    if (lit != nullptr) {
      const Value& other = lit == &a ? b : a;
      if (lit->kind() == Value::Kind::kBlank) return Value();
      switch (other.kind()) {
        case Value::Kind::kString: return Value::Bool(other.as_string().empty());
        case Value::Kind::kArray: return Value::Bool(other.as_array().size == 0);
        case Value::Kind::kObject: return Value::Bool(other.as_object().size == 0);
        default: return Value();
      }
    }
    return Value::Bool(ValueEquals(a, b));
  };
  switch (c.op) {
    case Op::kTruthy: *out = l; return true;
    case Op::kEq: *out = equal(l, r); return true;
    case Op::kNe: *out = Value::Bool(!equal(l, r).Truthy()); return true;
    case Op::kContains: {
      if (!l.Truthy() || !r.Truthy()) {
        *out = Value::Bool(false);
        return true;
      }
      if (l.is_string()) {
        std::string rs;
        AppendToS(rs, r);
        *out = Value::Bool(l.as_string().find(rs) != std::string_view::npos);
      } else if (l.is_array()) {
        bool any = false;
        for (const Value& item : l.as_array()) {
          if (ValueEquals(item, r)) {
            any = true;
            break;
          }
        }
        *out = Value::Bool(any);
      } else if (l.is_object()) {
        *out = Value::Bool(r.is_string() && l.as_object().Find(r.as_string()) != nullptr);
      } else if (l.is_range()) {
        *out =
            Value::Bool(r.is_number() && r.as_number() >= l.range_first() && r.as_number() <= l.range_last());
      } else {
        *out = Value::Bool(false);
      }
      return true;
    }
    default: break;
  }
  auto comparable = [](const Value& v) { return v.is_number() || v.is_string(); };
  if (!comparable(l) || !comparable(r)) {
    *out = Value();
    return true;
  }
  int cmp;
  if (l.is_number() && r.is_number()) {
    cmp = liquid::Compare(l.is_int() ? Number::Int(l.as_int()) : Number::Double(l.as_double()),
                          r.is_int() ? Number::Int(r.as_int()) : Number::Double(r.as_double()));
  } else if (l.is_string() && r.is_string()) {
    int x = l.as_string().compare(r.as_string());
    cmp = x < 0 ? -1 : (x > 0 ? 1 : 0);
  } else {
    const char* lt = l.is_string() ? "String" : (l.is_int() ? "Integer" : "Float");
    std::string rt;
    if (l.is_string())
      AppendValue(rt, r);
    else
      rt = r.is_string() ? "String" : (r.is_int() ? "Integer" : "Float");
    return Fail(c.pos, ErrorCode::kInvalid,
                std::string("Liquid error: comparison of ") + lt + " with " + rt + " failed");
  }
  bool res = false;
  switch (c.op) {
    case Op::kLt: res = cmp < 0; break;
    case Op::kGt: res = cmp > 0; break;
    case Op::kLe: res = cmp <= 0; break;
    case Op::kGe: res = cmp >= 0; break;
    default: break;
  }
  *out = Value::Bool(res);
  return true;
}

bool Renderer::EvalCondition(const Condition& first, bool* result) {
  const Condition* c = &first;
  while (true) {
    Value l, r, v;
    if (!Eval(c->left, &l)) return false;
    if (c->op != Condition::Op::kTruthy && !Eval(c->right, &r)) return false;
    if (!Compare(*c, l, r, &v)) return false;
    bool truthy = v.Truthy();
    if (c->rel == Condition::Rel::kOr && truthy) {
      *result = true;
      return true;
    }
    if (c->rel == Condition::Rel::kAnd && !truthy) {
      *result = false;
      return true;
    }
    if (c->rel == Condition::Rel::kNone || !c->child) {
      *result = truthy;
      return true;
    }
    c = c->child.get();
  }
}

bool Renderer::RenderIf(const IfNode& node, std::string& out) {
  for (const auto& b : node.branches) {
    bool take = true;
    if (b.cond) {
      if (!EvalCondition(*b.cond, &take)) return false;
      if (b.negate) take = !take;
    }
    if (take) return RenderBlock(b.body, out);
  }
  return true;
}

bool Renderer::RenderCase(const CaseNode& node, std::string& out) {
  Value subject;
  if (!Eval(node.subject, &subject)) return false;
  bool run_else = true;
  Condition eq;
  eq.op = Condition::Op::kEq;
  for (const auto& b : node.branches) {
    if (b.is_else) {
      if (run_else && !RenderBlock(b.body, out)) return false;
      if (flow_ != Flow::kNormal) return true;
      continue;
    }
    // Like ruby-liquid, each value of `when a, b` is its own branch: the body renders once
    // per matching value.
    for (const Expr& e : b.values) {
      Value v, res;
      if (!Eval(e, &v)) return false;
      if (!Compare(eq, subject, v, &res)) return false;
      if (res.Truthy()) {
        run_else = false;
        if (!RenderBlock(b.body, out)) return false;
        if (flow_ != Flow::kNormal) return true;
      }
    }
  }
  return true;
}

bool Renderer::Collect(const Value& c, std::vector<Value>& items) {
  switch (c.kind()) {
    case Value::Kind::kArray: items.assign(c.as_array().begin(), c.as_array().end()); return true;
    case Value::Kind::kObject: {
      const ObjectData& o = c.as_object();
      items.reserve(o.size);
      for (size_t i = 0; i < o.size; ++i) {
        Value pair[2] = {Value::String(o.members[i].key), o.members[i].value};
        items.push_back(Value::Array(MakeArray(arena_, pair, 2)));
      }
      return true;
    }
    case Value::Kind::kString:
      if (!c.as_string().empty()) items.push_back(c);
      return true;
    default: return true;
  }
}

bool Renderer::RenderFor(const ForNode& node, std::string& out) {
  int64_t from = 0;
  if (node.offset_continue) {
    for (const auto& o : offsets_) {
      if (o.first == node.name) from = o.second;
    }
  } else if (node.offset) {
    Value v;
    if (!Eval(*node.offset, &v)) return false;
    if (!v.is_nil() && !ToInteger(v, &from)) {
      return Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
    }
  }
  Value coll;
  if (!Eval(node.collection, &coll)) return false;
  bool has_to = false;
  int64_t to = 0;
  if (node.limit) {
    Value v;
    if (!Eval(*node.limit, &v)) return false;
    if (!v.is_nil()) {
      if (!ToInteger(v, &to)) return Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
      has_to = true;
      if (__builtin_add_overflow(to, from, &to)) to = from > 0 ? INT64_MAX : INT64_MIN;
    }
  }
  std::vector<Value> segment;
  if (coll.is_range()) {
    int64_t lo = coll.range_first(), hi = coll.range_last();
    int64_t n = RangeCount(lo, hi);
    int64_t start = std::max<int64_t>(from, 0);
    int64_t end = has_to ? std::min(n, to) : n;
    if (end > start) {
      uint64_t count = static_cast<uint64_t>(end - start);
      if (count > options_.limits.max_loop_iterations) {
        return Fail(node.pos, ErrorCode::kLimitExceeded,
                    "Liquid error: loop iteration limit exceeded (" +
                        std::to_string(options_.limits.max_loop_iterations) + ")");
      }
      segment.reserve(count);
      for (int64_t i = start; i < end; ++i) segment.push_back(Value::Int(lo + i));
    }
  } else if (coll.is_string()) {
    if (!coll.as_string().empty()) segment.push_back(coll);
  } else {
    std::vector<Value> all;
    Collect(coll, all);
    int64_t start = std::max<int64_t>(from, 0);
    int64_t end =
        has_to ? std::min<int64_t>(static_cast<int64_t>(all.size()), to) : static_cast<int64_t>(all.size());
    if (end > start) segment.assign(all.begin() + start, all.begin() + end);
  }
  if (node.reversed) std::reverse(segment.begin(), segment.end());
  int64_t next;
  if (__builtin_add_overflow(from, static_cast<int64_t>(segment.size()), &next)) next = INT64_MAX;
  bool stored = false;
  for (auto& o : offsets_) {
    if (o.first == node.name) {
      o.second = next;
      stored = true;
    }
  }
  if (!stored) offsets_.emplace_back(node.name, next);

  if (segment.empty()) return RenderBlock(node.else_body, out);

  if (++depth_ > options_.limits.max_depth) {
    return Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  LoopState st;
  st.name = node.name;
  st.length = static_cast<int64_t>(segment.size());
  st.parent = for_stack_.empty() ? nullptr : for_stack_.back();
  for_stack_.push_back(&st);
  auto& locals = scope_->locals;
  size_t mark = locals.size();
  locals.push_back({"forloop", Value::Loop(&st)});
  locals.push_back({node.var, Value()});
  bool ok = true;
  for (const Value& item : segment) {
    if (++iterations_ > options_.limits.max_loop_iterations) {
      ok = Fail(node.pos, ErrorCode::kLimitExceeded,
                "Liquid error: loop iteration limit exceeded (" +
                    std::to_string(options_.limits.max_loop_iterations) + ")");
      break;
    }
    // The body may have pushed and popped; the loop variable sits at mark + 1.
    scope_->locals[mark + 1].value = item;
    if (!RenderBlock(node.body, out)) {
      ok = false;
      break;
    }
    ++st.index0;
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    if (flow_ == Flow::kContinue) flow_ = Flow::kNormal;
  }
  scope_->locals.resize(mark);
  for_stack_.pop_back();
  --depth_;
  return ok;
}

bool Renderer::RenderTablerow(const TablerowNode& node, std::string& out) {
  Value coll;
  if (!Eval(node.collection, &coll)) return false;
  if (!coll.Truthy()) return true;
  int64_t from = 0;
  bool has_to = false;
  int64_t to = 0;
  if (node.offset) {
    Value v;
    if (!Eval(*node.offset, &v)) return false;
    if (v.is_bool()) return Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
    from = RubyToI(v);
  }
  if (node.limit) {
    Value v;
    if (!Eval(*node.limit, &v)) return false;
    if (v.is_bool()) return Fail(node.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
    if (__builtin_add_overflow(from, RubyToI(v), &to)) to = from > 0 ? INT64_MAX : INT64_MIN;
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
          static_cast<__int128>(options_.limits.max_loop_iterations)) {
        return Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
      }
      for (int64_t i = std::max<int64_t>(from, 0); i < end; ++i) all.push_back(Value::Int(lo + i));
      segment = std::move(all);
    } else {
      Collect(coll, all);
      int64_t start = std::max<int64_t>(from, 0);
      int64_t end =
          has_to ? std::min<int64_t>(static_cast<int64_t>(all.size()), to) : static_cast<int64_t>(all.size());
      if (end > start) segment.assign(all.begin() + start, all.begin() + end);
    }
  }
  int64_t cols = 0;
  if (node.cols) {
    Value v;
    if (!Eval(*node.cols, &v)) return false;
    cols = RubyToI(v);
  }
  if (++depth_ > options_.limits.max_depth) {
    return Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  out += "<tr class=\"row1\">\n";
  LoopState st;
  st.tablerow = true;
  st.length = static_cast<int64_t>(segment.size());
  st.cols = cols;
  auto& locals = scope_->locals;
  size_t mark = locals.size();
  locals.push_back({"tablerowloop", Value::Loop(&st)});
  locals.push_back({node.var, Value()});
  bool ok = true;
  for (const Value& item : segment) {
    if (++iterations_ > options_.limits.max_loop_iterations) {
      ok = Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
      break;
    }
    scope_->locals[mark + 1].value = item;
    out += "<td class=\"col";
    AppendInt(out, st.col);
    out += "\">";
    if (!RenderBlock(node.body, out)) {
      ok = false;
      break;
    }
    flow_ = Flow::kNormal;
    out += "</td>";
    if (st.col == st.cols && st.index0 != st.length - 1) {
      out += "</tr>\n<tr class=\"row";
      AppendInt(out, st.row + 1);
      out += "\">";
    }
    ++st.index0;
    if (st.col == st.cols) {
      st.col = 1;
      ++st.row;
    } else {
      ++st.col;
    }
    if (!CheckOutput(out, node.pos)) {
      ok = false;
      break;
    }
  }
  scope_->locals.resize(mark);
  --depth_;
  if (ok) out += "</tr>\n";
  return ok;
}

bool Renderer::RenderCycle(const CycleNode& node, std::string& out) {
  std::string key;
  if (node.group) {
    Value g;
    if (!Eval(*node.group, &g)) return false;
    key = "g";
    key += static_cast<char>('0' + static_cast<int>(g.kind()));
    AppendValue(key, g);
  } else {
    key = node.key;
  }
  int64_t* counter = nullptr;
  for (auto& c : cycles_) {
    if (c.first == key) counter = &c.second;
  }
  if (counter == nullptr) {
    cycles_.emplace_back(key, 0);
    counter = &cycles_.back().second;
  }
  int64_t i = *counter;
  Value v;
  if (!Eval(node.values[static_cast<size_t>(i) % node.values.size()], &v)) return false;
  // Re-find: Eval cannot add cycles, but keep the pointer discipline simple.
  for (auto& c : cycles_) {
    if (c.first == key) {
      c.second = i + 1 >= static_cast<int64_t>(node.values.size()) ? 0 : i + 1;
    }
  }
  AppendValue(out, v);
  return CheckOutput(out, node.pos);
}

bool Renderer::RenderCounter(const CounterNode& node, std::string& out) {
  Var* var = nullptr;
  for (Var& c : scope_->counters) {
    if (c.name == node.name) var = &c;
  }
  if (var == nullptr) {
    Value initial = Value::Int(0);
    if (scope_->data.is_object()) {
      if (const Value* v = scope_->data.as_object().Find(node.name)) {
        if (v->is_number()) initial = *v;
      }
    }
    scope_->counters.push_back({node.name, initial});
    var = &scope_->counters.back();
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
  if (!Eval(node.name, &name_v)) return false;
  if (!name_v.is_string()) {
    return Fail(node.pos, ErrorCode::kInvalid,
                "Liquid error: Argument error in tag 'include' - Illegal template name");
  }
  std::string_view name = name_v.as_string();
  if (options_.snippets == nullptr) {
    return Fail(node.pos, ErrorCode::kInvalid, "Liquid error: This liquid context does not allow includes.");
  }
  auto found = options_.snippets->Find(name);
  if (!found.ok()) {
    Error e = std::move(found).error();
    e.message = "snippet '" + std::string(name) + "': " + e.message;
    if (e.code == ErrorCode::kBadRequest) e.field.clear();
    return Fail(node.pos, std::move(e));
  }
  std::shared_ptr<const Template> tpl = *found;
  if (++depth_ > options_.limits.max_depth) {
    return Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: Nesting too deep");
  }
  std::string_view var_name = node.alias.empty() ? LastSegment(name) : node.alias;
  std::string_view saved_name = template_name_;
  bool ok = true;

  if (node.isolated) {
    Value variable;
    if (node.with && !Eval(*node.with, &variable)) {
      --depth_;
      return false;
    }
    std::vector<std::pair<std::string_view, Value>> attrs;
    for (const auto& a : node.attributes) {
      Value v;
      if (!Eval(a.second, &v)) {
        --depth_;
        return false;
      }
      attrs.emplace_back(a.first, v);
    }
    auto render_one = [&](const Value& var, const LoopState* loop) {
      Scope inner;
      if (loop) inner.locals.push_back({"forloop", Value::Loop(loop)});
      for (const auto& a : attrs) inner.locals.push_back({a.first, a.second});
      if (!var.is_nil()) inner.locals.push_back({var_name, var});
      Scope* saved = scope_;
      auto saved_cycles = cycles_;
      scope_ = &inner;
      template_name_ = name;
      bool r = RenderBlock(tpl->root(), out);
      flow_ = Flow::kNormal;
      scope_ = saved;
      cycles_ = std::move(saved_cycles);
      template_name_ = saved_name;
      return r;
    };
    if (node.is_for && (variable.is_array() || variable.is_object() || variable.is_range())) {
      std::vector<Value> items;
      if (variable.is_range()) {
        int64_t lo = variable.range_first(), hi = variable.range_last();
        if (RangeCount(lo, hi) > static_cast<int64_t>(options_.limits.max_loop_iterations)) {
          --depth_;
          return Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
        }
        for (int64_t i = 0; i < RangeCount(lo, hi); ++i) items.push_back(Value::Int(lo + i));
      } else {
        Collect(variable, items);
      }
      LoopState st;
      st.name = name;
      st.length = static_cast<int64_t>(items.size());
      for (const Value& item : items) {
        if (++iterations_ > options_.limits.max_loop_iterations) {
          ok = Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
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
      if (!Eval(*node.with, &variable)) {
        --depth_;
        return false;
      }
    } else {
      bool f;
      FindVariable(name, &variable, &f);
    }
    auto& locals = scope_->locals;
    size_t mark = locals.size();
    for (const auto& a : node.attributes) {
      Value v;
      if (!Eval(a.second, &v)) {
        scope_->locals.resize(mark);
        --depth_;
        return false;
      }
      scope_->locals.push_back({a.first, v});
    }
    size_t var_slot = scope_->locals.size();
    scope_->locals.push_back({var_name, Value()});
    template_name_ = name;
    if (variable.is_array()) {
      for (const Value& item : variable.as_array()) {
        if (++iterations_ > options_.limits.max_loop_iterations) {
          ok = Fail(node.pos, ErrorCode::kLimitExceeded, "Liquid error: loop iteration limit exceeded");
          break;
        }
        scope_->locals[var_slot].value = item;
        if (!RenderBlock(tpl->root(), out)) {
          ok = false;
          break;
        }
      }
    } else {
      scope_->locals[var_slot].value = variable;
      ok = RenderBlock(tpl->root(), out);
    }
    template_name_ = saved_name;
    scope_->locals.resize(mark);
  }
  --depth_;
  return ok;
}

}  // namespace rapport::liquid
