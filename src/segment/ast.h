// The segment language's syntax tree (grammar in docs/segments.md).
//
// The parser builds it; the checker resolves names and types in place (Field::kind, the
// attribute's type, Behavior::stream); the evaluator and the explainer walk it. Every node keeps
// the position of its first token so errors and explanations can point at it.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rapport::segment {

struct Position {
  int line = 1;
  int column = 1;
  size_t offset = 0;  // byte offset in the source
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
const char* CmpOpText(CmpOp op);

// A literal as written: "text", 12.5, true/false, or a bare date 2026-01-31.
struct Literal {
  enum class Kind { kString, kNumber, kBool, kDate };
  Kind kind = Kind::kString;
  std::string text;   // kString, kDate ("YYYY-MM-DD")
  double number = 0;  // kNumber
  bool boolean = false;
  Position pos;
};

// What a field names once the checker resolved it.
enum class FieldKind {
  kUnresolved,
  kEmail,
  kExternalId,
  kStatus,
  kTimezone,
  kLocale,
  kCreatedAt,
  kUpdatedAt,
  kRandomBucket,  // random_bucket or random_bucket("salt"): 0..99, stable per contact and salt
  kAttribute,     // a custom attribute
};

// The type a field's values have (the checker's view).
enum class ValueType { kUnknown, kString, kNumber, kBool, kDate, kTimestamp, kList };
const char* ValueTypeName(ValueType t);

struct Field {
  std::string name;  // as written, without "attributes." for attributes
  std::string salt;  // random_bucket("salt")
  FieldKind kind = FieldKind::kUnresolved;
  ValueType type = ValueType::kUnknown;
  Position pos;
};

// A span of time: 30 days, 12 hours.
struct Period {
  int64_t amount = 0;
  enum class Unit { kMinute, kHour, kDay, kWeek } unit = Unit::kDay;
  int64_t Micros() const;
  int64_t Days() const;  // whole days, rounded up (for date attributes)
};

// A condition on a field's value.
struct Condition {
  enum class Kind {
    kCompare,      // field op literal
    kIn,           // field in (a, b, ...)
    kContains,     // string: substring, case-insensitive; list: an element equal, case-insensitive
    kStartsWith,   // case-insensitive
    kEndsWith,     // case-insensitive
    kExists,       // field exists / is not null
    kWithinLast,   // now - period <= value <= now
    kWithinNext,   // now <= value <= now + period
    kMoreThanAgo,  // value < now - period
    kBefore,       // value < literal date/time
    kAfter,        // value > literal date/time
    kAnniversary,  // month and day fall in the next `period` days (today included), year ignored
    kDaysAgo,      // the value's calendar day (contact's timezone) is today - period (days or weeks)
    kDaysFromNow,  // the value's calendar day (contact's timezone) is today + period (days or weeks)
  };
  Kind kind = Kind::kCompare;
  bool negated = false;  // not in / not contains / is null
  CmpOp op = CmpOp::kEq;
  std::vector<Literal> values;  // kCompare, kBefore, kAfter: one; kIn: several; text ops: one
  Period period;
};

// A property filter of a behavior: `where total > 50 and currency = "EUR"`.
struct PropertyFilter {
  std::string property;
  Condition condition;
  Position pos;
};

// Behavior over the event log: how often / how much / when a named event happened.
struct Behavior {
  // kLastValue: the numeric property of the latest event that has it (`last(total) of order_placed`).
  enum class Measure { kCount, kSum, kMin, kMax, kLastValue, kFirstTime, kLastTime };
  Measure measure = Measure::kCount;
  std::string event;     // event name
  std::string property;  // kSum/kMin/kMax/kLastValue: the numeric property aggregated
  std::vector<PropertyFilter> filters;
  std::optional<Period> window;  // in the last N units; none: ever
  // kCount/kSum/kMin/kMax: compared with `op value`; kFirstTime/kLastTime: `time` condition.
  CmpOp op = CmpOp::kGe;
  double value = 1;
  Condition time;
  Position pos;
  Position event_pos;
  int stream = -1;  // set by the evaluator's binding: the index's stream id
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind { kAnd, kOr, kNot, kField, kBehavior, kTopic, kSegment };
  Kind kind = Kind::kField;
  Position pos;
  std::vector<ExprPtr> children;  // kAnd, kOr (two or more), kNot (one)
  Field field;                    // kField
  Condition condition;            // kField
  Behavior behavior;              // kBehavior
  std::string name;               // kTopic: topic key; kSegment: segment name
  std::string source;             // the predicate's text as written (for explain)
};

// Returns the expression as canonical text (keywords lower case, literals re-quoted); parsing it
// again yields the same tree.
std::string Format(const Expr& e);

}  // namespace rapport::segment
