#include "template/expression.h"

#include <cstring>
#include <new>
#include <vector>

#include "template/comparison.h"
#include "template/filter_registry.h"
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

}  // namespace

bool Evaluator::EvalPipeline(const Pipeline& p, Value* out, bool* escaped_or_raw) {
  *escaped_or_raw = false;
  if (p.empty) {
    *out = Value();
    return true;
  }
  Value v;
  if (!Eval(p.expr, &v)) return false;
  if (p.filters.empty()) {
    *out = v;
    return true;
  }
  const size_t budget = st_.memory_budget();
  FilterContext ctx{st_.arena, st_.options, st_.scratch, budget};
  // Argument slots on the stack, left uninitialized (zeroing them cost more than most filters):
  // each slot is constructed when its argument is evaluated.
  constexpr size_t kInline = 8;
  using KwArg = std::pair<std::string_view, Value>;
  alignas(Value) unsigned char args_raw[kInline * sizeof(Value)];
  alignas(KwArg) unsigned char kwargs_raw[kInline * sizeof(KwArg)];
  Value* const args_buf = reinterpret_cast<Value*>(args_raw);
  KwArg* const kwargs_buf = reinterpret_cast<KwArg*>(kwargs_raw);
  for (const FilterCall& f : p.filters) {
    if (!st_.Step(f.pos)) return false;
    if (f.entry == nullptr) {
      if (st_.options.strict) {
        return st_.Fail(f.pos, ErrorCode::kInvalid, "Liquid error: undefined filter " + std::string(f.name));
      }
      continue;
    }
    const size_t nargs = f.args.size();
    const size_t nkwargs = f.kwargs.size();
    std::vector<Value> args_heap;
    Value* args = args_buf;
    if (nargs > kInline) {
      args_heap.resize(nargs);
      args = args_heap.data();
    }
    for (size_t i = 0; i < nargs; ++i) {
      new (&args[i]) Value();
      if (!Eval(f.args[i], &args[i])) return false;
    }
    // A filter may read a slot past `nargs` (up to its max_args) when keyword arguments stood in
    // for a positional one: like ruby-liquid, which passes them as a trailing hash, the first
    // such slot holds them as an object; any other reads nil.
    for (size_t i = nargs; i < f.entry->max_args && i < kInline && args == args_buf; ++i)
      new (&args[i]) Value();
    std::vector<KwArg> kwargs_heap;
    KwArg* kwargs = kwargs_buf;
    if (nkwargs > kInline) {
      kwargs_heap.resize(nkwargs);
      kwargs = kwargs_heap.data();
    }
    for (size_t i = 0; i < nkwargs; ++i) {
      new (&kwargs[i]) KwArg(f.kwargs[i].first, Value());
      if (!Eval(f.kwargs[i].second, &kwargs[i].second)) return false;
    }
    if (nkwargs > 0 && nargs < f.entry->max_args && nargs < kInline && args == args_buf) {
      Member* members = st_.arena.AllocateArray<Member>(nkwargs);
      for (size_t i = 0; i < nkwargs; ++i) new (&members[i]) Member{kwargs[i].first, kwargs[i].second};
      args[nargs] = Value::Object(MakeObject(st_.arena, members, nkwargs));
    }
    size_t given = nargs + (nkwargs == 0 ? 0 : 1);
    if (given < f.entry->min_args || given > f.entry->max_args) {
      std::string expected = std::to_string(f.entry->min_args);
      if (f.entry->max_args != f.entry->min_args) {
        expected += ".." + std::to_string(f.entry->max_args);
      }
      return st_.Fail(f.pos, ErrorCode::kInvalid,
                      "Liquid error: wrong number of arguments (given " + std::to_string(given + 1) +
                          ", expected " + expected + ") for " + std::string(f.name));
    }
    FilterArgs fa{args, nargs, nkwargs == 0 ? nullptr : kwargs, nkwargs};
    Result<Value> r = f.entry->fn(ctx, v, fa);
    if (!r.ok()) return st_.Fail(f.pos, std::move(r).error());
    v = *r;
    if (f.marks_html) *escaped_or_raw = true;
    if (st_.arena.bytes_used() > budget) {
      return st_.Fail(f.pos, ErrorCode::kLimitExceeded, "Liquid error: memory limit exceeded");
    }
  }
  *out = v;
  return true;
}

bool Evaluator::Lookup(const Value& obj, std::string_view key, PropertyId prop, bool command,
                       LookupHint* hint, Value* out, bool* found) {
  using P = PropertyId;
  *found = true;
  switch (obj.kind()) {
    case Value::Kind::kObject: {
      const ObjectData& o = obj.as_object();
      if (const Value* v = hint != nullptr ? o.Find(key, *hint) : o.Find(key)) {
        *out = *v;
        return true;
      }
      if (command) {
        if (prop == P::kSize) {
          *out = Value::Int(static_cast<int64_t>(o.size));
          return true;
        }
        if (prop == P::kFirst) {
          if (o.size == 0) {
            *out = Value();
            return true;
          }
          Value pair[2] = {Value::String(o.members[0].key), o.members[0].value};
          *out = Value::Array(MakeArray(st_.arena, pair, 2));
          return true;
        }
      }
      break;
    }
    case Value::Kind::kArray: {
      const ArrayData& a = obj.as_array();
      if (command) {
        if (prop == P::kSize) {
          *out = Value::Int(static_cast<int64_t>(a.size));
          return true;
        }
        if (prop == P::kFirst) {
          *out = a.size ? a.items[0] : Value();
          return true;
        }
        if (prop == P::kLast) {
          *out = a.size ? a.items[a.size - 1] : Value();
          return true;
        }
      }
      break;
    }
    case Value::Kind::kString:
      if (command && prop == P::kSize) {
        *out = Value::Int(static_cast<int64_t>(Utf8Length(obj.as_string())));
        return true;
      }
      break;
    case Value::Kind::kRange:
      if (command) {
        int64_t lo = obj.range_first(), hi = obj.range_last();
        if (prop == P::kSize) {
          *out = Value::Int(RangeCount(lo, hi));
          return true;
        }
        if (prop == P::kFirst) {
          *out = Value::Int(lo);
          return true;
        }
        if (prop == P::kLast) {
          *out = Value::Int(hi);
          return true;
        }
      }
      break;
    case Value::Kind::kInt:
      if (command && prop == P::kSize) {
        *out = Value::Int(8);
        return true;
      }
      break;
    case Value::Kind::kLoop: {
      const LoopState& l = obj.as_loop();
      *out = Value();
      if (prop == P::kIndex)
        *out = Value::Int(l.index0 + 1);
      else if (prop == P::kIndex0)
        *out = Value::Int(l.index0);
      else if (prop == P::kRindex)
        *out = Value::Int(l.length - l.index0);
      else if (prop == P::kRindex0)
        *out = Value::Int(l.length - l.index0 - 1);
      else if (prop == P::kFirst)
        *out = Value::Bool(l.index0 == 0);
      else if (prop == P::kLast)
        *out = Value::Bool(l.index0 == l.length - 1);
      else if (prop == P::kLength)
        *out = Value::Int(l.length);
      else if (!l.tablerow && prop == P::kName)
        *out = Value::String(l.name);
      else if (!l.tablerow && prop == P::kParentloop) {
        if (l.parent) *out = Value::Loop(l.parent);
      } else if (l.tablerow) {
        if (prop == P::kCol)
          *out = Value::Int(l.col);
        else if (prop == P::kCol0)
          *out = Value::Int(l.col - 1);
        else if (prop == P::kColFirst)
          *out = Value::Bool(l.col == 1);
        else if (prop == P::kColLast)
          *out = Value::Bool(l.col == l.cols);
        else if (prop == P::kRow)
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

bool Evaluator::LookupIndex(const Value& obj, const Value& key, Value* out) {
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
    PropertyId prop = obj.kind() == Value::Kind::kLoop ? PropertyIdOf(key.as_string()) : PropertyId::kOther;
    return Lookup(obj, key.as_string(), prop, false, nullptr, out, &found);
  }
  return true;
}

bool Evaluator::Eval(const Expr& e, Value* out) {
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
          *r = ValueToI(v);
          return true;
        }
        return ToInteger(v, r);
      };
      if (!conv(lo, &a) || !conv(hi, &b)) {
        return st_.Fail(e.pos, ErrorCode::kInvalid, "Liquid error: invalid integer");
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
      if (st_.options.strict) {
        return st_.Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable");
      }
      *out = Value();
      return true;
    }
    root = k.as_string();
  }
  found = e.root_expr ? st_.scope->Find(root, &cur) : st_.scope->Find(root, &cur, e.root_hint);
  if (!found && st_.options.strict) {
    return st_.Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable " + std::string(root));
  }
  for (const PathItem& item : e.path) {
    if (item.index) {
      Value k;
      if (!Eval(*item.index, &k)) return false;
      bool ok_key = (cur.is_array() && k.is_int()) ||
                    (cur.is_object() && k.is_string() && cur.as_object().Find(k.as_string()));
      if (cur.kind() == Value::Kind::kLoop) ok_key = true;
      if (!ok_key) {
        if (st_.options.strict) {
          std::string ks;
          AppendValue(ks, k);
          return st_.Fail(e.pos, ErrorCode::kInvalid, "Liquid error: undefined variable " + ks);
        }
        *out = Value();
        return true;
      }
      Value next;
      LookupIndex(cur, k, &next);
      cur = next;
    } else {
      Value next;
      Lookup(cur, item.name, item.property, item.is_command, &item.hint, &next, &found);
      if (!found) {
        if (st_.options.strict) {
          return st_.Fail(e.pos, ErrorCode::kInvalid,
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

bool Evaluator::ToInteger(const Value& v, int64_t* out) {
  if (v.is_int()) {
    *out = v.as_int();
    return true;
  }
  if (v.is_string()) return ParseRubyInteger(v.as_string(), out);
  std::string s;
  AppendToS(s, v);  // Integer(num.to_s): an array is its #inspect, so never an integer
  if (v.is_nil()) s.clear();
  return ParseRubyInteger(s, out);
}

bool Evaluator::EvalCondition(const Condition& first, bool* result) {
  const Condition* c = &first;
  while (true) {
    Value l, r, v;
    if (!Eval(c->left, &l)) return false;
    if (c->op != Condition::Op::kTruthy && !Eval(c->right, &r)) return false;
    Result<Value> cmp = CompareValues(c->op, l, r);
    if (!cmp.ok()) return st_.Fail(c->pos, std::move(cmp).error());
    v = *cmp;
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

}  // namespace rapport::liquid
