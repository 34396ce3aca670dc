#include "segment/ast.h"

#include <fmt/format.h>

namespace rapport::segment {

const char* CmpOpText(CmpOp op) {
  switch (op) {
    case CmpOp::kEq: return "=";
    case CmpOp::kNe: return "!=";
    case CmpOp::kLt: return "<";
    case CmpOp::kLe: return "<=";
    case CmpOp::kGt: return ">";
    case CmpOp::kGe: return ">=";
  }
  return "=";
}

const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kUnknown: return "unknown";
    case ValueType::kString: return "text";
    case ValueType::kNumber: return "number";
    case ValueType::kBool: return "boolean";
    case ValueType::kDate: return "date";
    case ValueType::kTimestamp: return "timestamp";
    case ValueType::kList: return "list";
  }
  return "unknown";
}

int64_t Period::Micros() const {
  int64_t unit_us = 60'000'000;
  switch (unit) {
    case Unit::kMinute: break;
    case Unit::kHour: unit_us *= 60; break;
    case Unit::kDay: unit_us *= 60 * 24; break;
    case Unit::kWeek: unit_us *= 60 * 24 * 7; break;
  }
  return amount * unit_us;
}

int64_t Period::Days() const {
  int64_t day = 86'400'000'000;
  return (Micros() + day - 1) / day;
}

namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string FormatNumber(double v) {
  std::string s = fmt::format("{}", v);
  return s;
}

std::string FormatLiteral(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString: return Quote(l.text);
    case Literal::Kind::kNumber: return FormatNumber(l.number);
    case Literal::Kind::kBool: return l.boolean ? "true" : "false";
    case Literal::Kind::kDate: return l.text;
  }
  return {};
}

std::string FormatPeriod(const Period& p) {
  const char* unit = p.unit == Period::Unit::kMinute ? "minutes"
                     : p.unit == Period::Unit::kHour ? "hours"
                     : p.unit == Period::Unit::kDay  ? "days"
                                                     : "weeks";
  return fmt::format("{} {}", p.amount, unit);
}

std::string FormatCondition(const Condition& c) {
  std::string neg = c.negated ? "not " : "";
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return fmt::format("{} {}", CmpOpText(c.op), FormatLiteral(c.values.at(0)));
    case Condition::Kind::kIn: {
      std::string s = neg + "in (";
      for (size_t i = 0; i < c.values.size(); ++i) s += (i ? ", " : "") + FormatLiteral(c.values[i]);
      return s + ")";
    }
    case Condition::Kind::kContains: return neg + "contains " + FormatLiteral(c.values.at(0));
    case Condition::Kind::kStartsWith: return neg + "starts with " + FormatLiteral(c.values.at(0));
    case Condition::Kind::kEndsWith: return neg + "ends with " + FormatLiteral(c.values.at(0));
    case Condition::Kind::kExists: return c.negated ? "is null" : "exists";
    case Condition::Kind::kWithinLast: return "within the last " + FormatPeriod(c.period);
    case Condition::Kind::kWithinNext: return "within the next " + FormatPeriod(c.period);
    case Condition::Kind::kMoreThanAgo: return "more than " + FormatPeriod(c.period) + " ago";
    case Condition::Kind::kBefore: return "before " + FormatLiteral(c.values.at(0));
    case Condition::Kind::kAfter: return "after " + FormatLiteral(c.values.at(0));
    case Condition::Kind::kAnniversary: return "in next " + FormatPeriod(c.period);
    case Condition::Kind::kDaysAgo: return fmt::format("exactly {} ago", FormatPeriod(c.period));
    case Condition::Kind::kDaysFromNow: return fmt::format("exactly {} from now", FormatPeriod(c.period));
  }
  return {};
}

std::string FormatName(const std::string& n) {
  bool plain = !n.empty() && ((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') || n[0] == '_');
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-' || c == ':'))
      plain = false;
  static const char* kReserved[] = {"and",    "or",       "not",    "in",    "where",  "within", "ever",
                                    "the",    "last",     "true",   "false", "any",    "no",     "is",
                                    "exists", "contains", "starts", "ends",  "exactly"};
  for (const char* r : kReserved)
    if (n == r) plain = false;
  return plain ? n : Quote(n);
}

std::string FormatBehavior(const Behavior& b) {
  std::string event = FormatName(b.event);
  std::string filters;
  if (b.filters.size() == 1) {
    filters = " where " + FormatName(b.filters[0].property) + " " + FormatCondition(b.filters[0].condition);
  } else if (!b.filters.empty()) {
    filters = " where (";
    for (size_t i = 0; i < b.filters.size(); ++i)
      filters += (i ? " and " : "") + FormatName(b.filters[i].property) + " " +
                 FormatCondition(b.filters[i].condition);
    filters += ")";
  }
  std::string window = b.window ? " in the last " + FormatPeriod(*b.window) : "";
  switch (b.measure) {
    case Behavior::Measure::kCount:
      return fmt::format("count of {}{}{} {} {}", event, filters, window, CmpOpText(b.op),
                         FormatNumber(b.value));
    case Behavior::Measure::kSum:
    case Behavior::Measure::kMin:
    case Behavior::Measure::kMax:
    case Behavior::Measure::kLastValue: {
      const char* m = b.measure == Behavior::Measure::kSum   ? "sum"
                      : b.measure == Behavior::Measure::kMin ? "min"
                      : b.measure == Behavior::Measure::kMax ? "max"
                                                             : "last";
      return fmt::format("{}({}) of {}{}{} {} {}", m, FormatName(b.property), event, filters, window,
                         CmpOpText(b.op), FormatNumber(b.value));
    }
    case Behavior::Measure::kFirstTime:
    case Behavior::Measure::kLastTime:
      return fmt::format("{} {}{} {}", b.measure == Behavior::Measure::kFirstTime ? "first" : "last", event,
                         filters, FormatCondition(b.time));
  }
  return {};
}

}  // namespace

std::string Format(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      std::string s = "(";
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i) s += e.kind == Expr::Kind::kAnd ? " and " : " or ";
        s += Format(*e.children[i]);
      }
      return s + ")";
    }
    case Expr::Kind::kNot: {
      std::string s = "not ";  // appended, not `"not " + x` (g++ 12 warns falsely on that form)
      s += Format(*e.children.at(0));
      return s;
    }
    case Expr::Kind::kField: {
      std::string name = e.field.kind == FieldKind::kAttribute ? "attributes." + e.field.name : e.field.name;
      if (!e.field.salt.empty()) {
        name += "(";
        name += Quote(e.field.salt);
        name += ")";
      }
      name += " ";
      name += FormatCondition(e.condition);
      return name;
    }
    case Expr::Kind::kBehavior: return FormatBehavior(e.behavior);
    case Expr::Kind::kTopic: {
      std::string s = "subscribed to ";
      s += FormatName(e.name);
      return s;
    }
    case Expr::Kind::kSegment: {
      std::string s = "in segment ";
      s += FormatName(e.name);
      return s;
    }
  }
  return {};
}

}  // namespace rapport::segment
