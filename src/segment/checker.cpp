#include "segment/checker.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/clock.h"
#include "segment/parser.h"

namespace rapport::segment {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Damerau-Levenshtein (optimal string alignment), case-insensitive.
  std::string x = Lower(a), y = Lower(b);
  std::vector<std::vector<size_t>> d(x.size() + 1, std::vector<size_t>(y.size() + 1));
  for (size_t i = 0; i <= x.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= y.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= x.size(); ++i)
    for (size_t j = 1; j <= y.size(); ++j) {
      size_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[x.size()][y.size()];
}

struct Builtin {
  const char* name;
  FieldKind kind;
  ValueType type;
};
constexpr Builtin kBuiltins[] = {
    {"email", FieldKind::kEmail, ValueType::kString},
    {"external_id", FieldKind::kExternalId, ValueType::kString},
    {"status", FieldKind::kStatus, ValueType::kString},
    {"timezone", FieldKind::kTimezone, ValueType::kString},
    {"locale", FieldKind::kLocale, ValueType::kString},
    {"created_at", FieldKind::kCreatedAt, ValueType::kTimestamp},
    {"updated_at", FieldKind::kUpdatedAt, ValueType::kTimestamp},
    {"random_bucket", FieldKind::kRandomBucket, ValueType::kNumber},
};

bool IsTimeCondition(Condition::Kind k) {
  switch (k) {
    case Condition::Kind::kWithinLast:
    case Condition::Kind::kWithinNext:
    case Condition::Kind::kMoreThanAgo:
    case Condition::Kind::kBefore:
    case Condition::Kind::kAfter:
    case Condition::Kind::kAnniversary:
    case Condition::Kind::kDaysAgo:
    case Condition::Kind::kDaysFromNow: return true;
    default: return false;
  }
}

// At most 100000 years, in any unit, so that a period's microseconds fit in 64 bits.
bool PeriodTooLong(const Period& p) {
  constexpr int64_t kMaxDays = 100000 * 365LL;
  switch (p.unit) {
    case Period::Unit::kMinute: return p.amount / (24 * 60) > kMaxDays;
    case Period::Unit::kHour: return p.amount / 24 > kMaxDays;
    case Period::Unit::kDay: return p.amount > kMaxDays;
    case Period::Unit::kWeek: return p.amount > kMaxDays / 7;
  }
  return false;
}

const char* LiteralTypeName(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString: return "text";
    case Literal::Kind::kNumber: return "a number";
    case Literal::Kind::kBool: return "a boolean";
    case Literal::Kind::kDate: return "a date";
  }
  return "a value";
}

class Checker {
 public:
  explicit Checker(const Schema& s) : s_(s) {}

  std::optional<ParseError> Run(Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot:
        for (auto& c : e.children)
          if (auto err = Run(*c)) return err;
        return std::nullopt;
      case Expr::Kind::kField: return CheckField(e.field, e.condition);
      case Expr::Kind::kBehavior: return CheckBehavior(e.behavior);
      case Expr::Kind::kTopic:
        if (!s_.topics.count(e.name)) {
          std::vector<std::string> c(s_.topics.begin(), s_.topics.end());
          auto near = Closest(e.name, c);
          return ParseError{e.pos, fmt::format("unknown topic '{}'", e.name),
                            near ? fmt::format("did you mean '{}'?", *near)
                                 : std::string("topics are created with PUT /api/v1/topics/{key}")};
        }
        return std::nullopt;
      case Expr::Kind::kSegment:
        if (!s_.segments.count(e.name)) {
          std::vector<std::string> c(s_.segments.begin(), s_.segments.end());
          auto near = Closest(e.name, c);
          return ParseError{e.pos, fmt::format("unknown segment '{}'", e.name),
                            near ? fmt::format("did you mean '{}'?", *near) : std::string()};
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  std::optional<ParseError> CheckField(Field& f, Condition& c) {
    if (f.kind != FieldKind::kAttribute) {
      for (const Builtin& b : kBuiltins)
        if (f.name == b.name) {
          f.kind = b.kind;
          f.type = b.type;
        }
      if (f.kind == FieldKind::kUnresolved) f.kind = FieldKind::kAttribute;
    }
    if (f.kind == FieldKind::kAttribute) {
      auto it = s_.attributes.find(f.name);
      if (it != s_.attributes.end()) {
        f.type = it->second;
      } else {
        std::vector<std::string> names;
        for (const auto& [n, t] : s_.attributes) names.push_back(n);
        for (const Builtin& b : kBuiltins) names.push_back(b.name);
        if (auto near = Closest(f.name, names))
          return ParseError{f.pos, fmt::format("unknown attribute '{}'", f.name),
                            fmt::format("did you mean '{}'?", *near)};
        f.type = ValueType::kUnknown;
      }
    }
    if (f.kind == FieldKind::kRandomBucket && c.kind != Condition::Kind::kCompare &&
        c.kind != Condition::Kind::kIn)
      return ParseError{f.pos, "random_bucket is compared with a number from 0 to 99",
                        "e.g. random_bucket < 10"};
    return CheckCondition(f.name, f.type, c, f.pos, f.kind == FieldKind::kStatus);
  }

  std::optional<ParseError> CheckCondition(const std::string& name, ValueType type, Condition& c,
                                           Position pos, bool status) {
    if (c.kind == Condition::Kind::kExists) return std::nullopt;
    if (IsTimeCondition(c.kind)) {
      if (type != ValueType::kDate && type != ValueType::kTimestamp && type != ValueType::kUnknown)
        return ParseError{pos, fmt::format("'{}' is {}, not a date or a time", name, ValueTypeName(type)),
                          "within, more than ... ago, exactly N days ago, before, after and in next N days "
                          "apply to dates and times"};
      for (const Literal& l : c.values)
        if (auto err = CheckTimeLiteral(l)) return err;
      if (PeriodTooLong(c.period)) return ParseError{pos, "a period is at most 100000 years"};
      return std::nullopt;
    }
    if (c.kind == Condition::Kind::kContains || c.kind == Condition::Kind::kStartsWith ||
        c.kind == Condition::Kind::kEndsWith) {
      if (type == ValueType::kList && c.kind != Condition::Kind::kContains)
        return ParseError{pos, fmt::format("'{}' is a list: use contains", name)};
      if (type != ValueType::kString && type != ValueType::kList && type != ValueType::kUnknown)
        return ParseError{pos, fmt::format("'{}' is {}, not text", name, ValueTypeName(type)),
                          "contains, starts with and ends with apply to text and lists"};
      return std::nullopt;
    }
    // kCompare, kIn
    if (type == ValueType::kList)
      return ParseError{pos, fmt::format("'{}' is a list: compare its items with contains", name),
                        fmt::format("e.g. {} contains \"tea\"", name)};
    for (Literal& l : c.values) {
      if (status) {
        if (l.kind != Literal::Kind::kString)
          return ParseError{l.pos, "a status is text: \"active\", \"unsubscribed\", ..."};
        const auto& names = StatusNames();
        if (std::find(names.begin(), names.end(), l.text) == names.end()) {
          auto near = Closest(l.text, names);
          return ParseError{l.pos, fmt::format("unknown status '{}'", l.text),
                            near
                                ? fmt::format("did you mean '{}'?", *near)
                                : std::string("statuses: active, unsubscribed, bounced, complained, erased")};
        }
        if (c.kind == Condition::Kind::kCompare && c.op != CmpOp::kEq && c.op != CmpOp::kNe)
          return ParseError{pos, "a status is compared with = or !="};
        continue;
      }
      bool ok = true;
      switch (type) {
        case ValueType::kUnknown: break;
        case ValueType::kString: ok = l.kind == Literal::Kind::kString; break;
        case ValueType::kNumber: ok = l.kind == Literal::Kind::kNumber; break;
        case ValueType::kBool:
          ok = l.kind == Literal::Kind::kBool;
          if (ok && c.kind == Condition::Kind::kCompare && c.op != CmpOp::kEq && c.op != CmpOp::kNe)
            return ParseError{pos, "a boolean is compared with = or !="};
          break;
        case ValueType::kDate:
        case ValueType::kTimestamp:
          ok = l.kind == Literal::Kind::kDate || l.kind == Literal::Kind::kString;
          if (ok) {
            if (auto err = CheckTimeLiteral(l)) return err;
          }
          break;
        case ValueType::kList: break;
      }
      if (!ok)
        return ParseError{
            l.pos,
            fmt::format("'{}' is {} but is compared with {}", name, ValueTypeName(type), LiteralTypeName(l)),
            type == ValueType::kString ? "quote text values" : ""};
    }
    return std::nullopt;
  }

  std::optional<ParseError> CheckTimeLiteral(const Literal& l) {
    if (l.kind == Literal::Kind::kDate) {
      if (!IsIsoDate(l.text)) return ParseError{l.pos, fmt::format("'{}' is not a calendar date", l.text)};
      return std::nullopt;
    }
    if (l.kind == Literal::Kind::kString) {
      if (IsIsoDate(l.text) || ParseTimestamp(l.text)) return std::nullopt;
      return ParseError{
          l.pos,
          fmt::format("\"{}\" is neither a date (2026-01-31) nor a time (2026-01-31T09:00:00Z)", l.text)};
    }
    return ParseError{l.pos, "expected a date (2026-01-31) or a time in quotes"};
  }

  std::optional<ParseError> CheckBehavior(Behavior& b) {
    if (!s_.events.count(b.event)) {
      std::vector<std::string> names(s_.events.begin(), s_.events.end());
      if (auto near = Closest(b.event, names))
        return ParseError{b.event_pos, fmt::format("unknown event '{}'", b.event),
                          fmt::format("did you mean '{}'?", *near)};
    }
    if ((b.measure == Behavior::Measure::kCount) && (b.value < 0))
      return ParseError{b.pos, "a count is compared with a number from 0"};
    for (PropertyFilter& f : b.filters) {
      if (f.condition.kind == Condition::Kind::kCompare &&
          f.condition.values.at(0).kind == Literal::Kind::kDate)
        f.condition.values[0].kind = Literal::Kind::kString;  // a property holds dates as text
      if (f.condition.kind == Condition::Kind::kIn)
        for (Literal& l : f.condition.values)
          if (l.kind == Literal::Kind::kDate) l.kind = Literal::Kind::kString;
    }
    if (b.window && PeriodTooLong(*b.window)) return ParseError{b.pos, "a window is at most 100000 years"};
    if (b.measure == Behavior::Measure::kFirstTime || b.measure == Behavior::Measure::kLastTime) {
      for (const Literal& l : b.time.values)
        if (auto err = CheckTimeLiteral(l)) return err;
      if (PeriodTooLong(b.time.period)) return ParseError{b.pos, "a period is at most 100000 years"};
    }
    return std::nullopt;
  }

  const Schema& s_;
};

void CollectSegments(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == Expr::Kind::kSegment) out.push_back(e.name);
  for (const auto& c : e.children) CollectSegments(*c, out);
}

}  // namespace

const std::vector<std::string>& StatusNames() {
  static const std::vector<std::string> kNames = {"active", "unsubscribed", "bounced", "complained",
                                                  "erased"};
  return kNames;
}

std::optional<std::string> Closest(std::string_view name, const std::vector<std::string>& candidates) {
  size_t limit = name.size() >= 9 ? 3 : name.size() >= 5 ? 2 : 1;
  std::optional<std::string> best;
  size_t best_d = limit + 1;
  for (const std::string& c : candidates) {
    if (c == name) continue;
    size_t d = EditDistance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::optional<ParseError> Check(Expr& e, const Schema& schema) { return Checker(schema).Run(e); }

ParseResult<ExprPtr> Compile(std::string_view source, const Schema& schema) {
  auto parsed = Parse(source);
  if (auto* err = std::get_if<ParseError>(&parsed)) return *err;
  ExprPtr e = std::get<ExprPtr>(std::move(parsed));
  if (auto err = Check(*e, schema)) return *err;
  return e;
}

std::vector<std::string> SegmentRefs(const Expr& e) {
  std::vector<std::string> out;
  CollectSegments(e, out);
  return out;
}

}  // namespace rapport::segment
