// The compiled form of a Liquid template: a tree of nodes made by the parser and walked by the
// renderer. Every string_view points into the source text owned by the Template.
//
// Thread-safety: immutable after parsing; shared freely across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "template/value.h"

namespace rapport::liquid {

struct FilterEntry;

struct SourcePos {
  uint32_t line = 1;
  uint32_t col = 1;
};

struct Expr;

// The names a lookup step may mean besides a hash key, resolved once at parse time: the commands
// size/first/last and the properties of forloop and tablerowloop.
enum class PropertyId : uint8_t {
  kOther,
  kSize,
  kFirst,
  kLast,
  kIndex,
  kIndex0,
  kRindex,
  kRindex0,
  kLength,
  kName,
  kParentloop,
  kCol,
  kCol0,
  kColFirst,
  kColLast,
  kRow
};
PropertyId PropertyIdOf(std::string_view name);

// One step of a variable lookup: `.name` (is_command when name is size/first/last) or `[expr]`.
struct PathItem {
  std::string_view name;
  std::unique_ptr<Expr> index;
  bool is_command = false;
  PropertyId property = PropertyId::kOther;
  mutable LookupHint hint;  // where `.name` was last found in an object
};

struct Expr {
  enum class Kind : uint8_t { kLiteral, kVariable, kRange };
  Kind kind = Kind::kLiteral;
  Value literal;
  std::string_view root;            // kVariable: the first name, empty when root_expr is set
  std::unique_ptr<Expr> root_expr;  // kVariable: `[expr]` as the first step
  std::vector<PathItem> path;
  std::unique_ptr<Expr> lo, hi;  // kRange
  SourcePos pos;
  mutable LookupHint root_hint;  // where `root` was last found in the render's data
};

struct FilterCall {
  const FilterEntry* entry = nullptr;  // null: unknown filter (error in strict mode)
  std::string_view name;
  bool marks_html = false;  // raw, escape, escape_once, h: automatic escaping leaves the result alone
  std::vector<Expr> args;
  std::vector<std::pair<std::string_view, Expr>> kwargs;
  SourcePos pos;
};

// An expression followed by filters: the body of {{ }}, echo and assign.
struct Pipeline {
  Expr expr;
  bool empty = false;  // `{{ }}`
  std::vector<FilterCall> filters;
};

struct Condition {
  enum class Op : uint8_t { kTruthy, kEq, kNe, kLt, kGt, kLe, kGe, kContains };
  enum class Rel : uint8_t { kNone, kAnd, kOr };
  Expr left;
  Op op = Op::kTruthy;
  Expr right;
  Rel rel = Rel::kNone;
  std::unique_ptr<Condition> child;
  SourcePos pos;
};

enum class NodeKind : uint8_t {
  kText,
  kOutput,
  kIf,
  kCase,
  kFor,
  kTablerow,
  kCycle,
  kAssign,
  kCapture,
  kCounter,
  kBreak,
  kContinue,
  kInclude,
  kIfchanged
};

struct Node {
  explicit Node(NodeKind k) : kind(k) {}
  virtual ~Node() = default;
  NodeKind kind;
  SourcePos pos;
};

using Block = std::vector<std::unique_ptr<Node>>;

struct TextNode : Node {
  TextNode() : Node(NodeKind::kText) {}
  std::string_view text;
};

struct OutputNode : Node {
  OutputNode() : Node(NodeKind::kOutput) {}
  Pipeline pipeline;
};

struct IfNode : Node {
  IfNode() : Node(NodeKind::kIf) {}
  struct Branch {
    std::unique_ptr<Condition> cond;  // null for else
    bool negate = false;              // unless
    Block body;
  };
  std::vector<Branch> branches;
};

struct CaseNode : Node {
  CaseNode() : Node(NodeKind::kCase) {}
  struct Branch {
    std::vector<Expr> values;
    bool is_else = false;
    Block body;
  };
  Expr subject;
  std::vector<Branch> branches;
};

struct ForNode : Node {
  ForNode() : Node(NodeKind::kFor) {}
  std::string_view var;
  Expr collection;
  std::string name;  // "var-collection": the key of offset:continue
  std::unique_ptr<Expr> limit, offset;
  bool offset_continue = false;
  bool reversed = false;
  Block body;
  Block else_body;
};

struct TablerowNode : Node {
  TablerowNode() : Node(NodeKind::kTablerow) {}
  std::string_view var;
  Expr collection;
  std::unique_ptr<Expr> limit, offset, cols;
  Block body;
};

struct CycleNode : Node {
  CycleNode() : Node(NodeKind::kCycle) {}
  std::unique_ptr<Expr> group;
  std::string key;  // the values' markup, when there is no group
  std::vector<Expr> values;
};

struct AssignNode : Node {
  AssignNode() : Node(NodeKind::kAssign) {}
  std::string_view name;
  Pipeline value;
};

struct CaptureNode : Node {
  CaptureNode() : Node(NodeKind::kCapture) {}
  std::string_view name;
  Block body;
};

struct CounterNode : Node {
  CounterNode() : Node(NodeKind::kCounter) {}
  std::string_view name;
  bool increment = true;
};

struct BreakNode : Node {
  BreakNode() : Node(NodeKind::kBreak) {}
};

struct ContinueNode : Node {
  ContinueNode() : Node(NodeKind::kContinue) {}
};

// {% ifchanged %}: renders its body and outputs it only when it differs from what the last
// ifchanged of this render output.
struct IfchangedNode : Node {
  IfchangedNode() : Node(NodeKind::kIfchanged) {}
  Block body;
};

// {% render %} (isolated) and {% include %} (shares the caller's variables).
struct IncludeNode : Node {
  IncludeNode() : Node(NodeKind::kInclude) {}
  bool isolated = false;
  Expr name;
  std::unique_ptr<Expr> with;
  bool is_for = false;
  std::string_view alias;
  std::vector<std::pair<std::string_view, Expr>> attributes;
};

}  // namespace rapport::liquid
