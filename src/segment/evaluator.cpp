#include "segment/evaluator.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "core/hash.h"
#include "core/thread_name.h"
#include "segment/filter_rows.h"

namespace rapport::segment {

namespace {

constexpr int64_t kDayUs = 86'400'000'000;

void Lower(int64_t* next, int64_t t) {
  if (next && t < *next) *next = t;
}

bool Cmp(double a, CmpOp op, double b) {
  switch (op) {
    case CmpOp::kEq: return a == b;
    case CmpOp::kNe: return a != b;
    case CmpOp::kLt: return a < b;
    case CmpOp::kLe: return a <= b;
    case CmpOp::kGt: return a > b;
    case CmpOp::kGe: return a >= b;
  }
  return false;
}

template <typename T>
bool CmpT(const T& a, CmpOp op, const T& b) {
  switch (op) {
    case CmpOp::kEq: return a == b;
    case CmpOp::kNe: return !(a == b);
    case CmpOp::kLt: return a < b;
    case CmpOp::kLe: return !(b < a);
    case CmpOp::kGt: return b < a;
    case CmpOp::kGe: return !(a < b);
  }
  return false;
}

std::optional<int64_t> LiteralDays(const Literal& l) {
  if (IsIsoDate(l.text)) {
    int y = std::stoi(l.text.substr(0, 4));
    unsigned m = static_cast<unsigned>(std::stoi(l.text.substr(5, 2)));
    unsigned d = static_cast<unsigned>(std::stoi(l.text.substr(8, 2)));
    return date::sys_days(date::year(y) / m / d).time_since_epoch().count();
  }
  if (auto t = ParseTimestamp(l.text)) return date::floor<date::days>(*t).time_since_epoch().count();
  return std::nullopt;
}

std::optional<int64_t> LiteralMicros(const Literal& l) {
  if (IsIsoDate(l.text)) return *LiteralDays(l) * kDayUs;
  if (auto t = ParseTimestamp(l.text)) return ToMicros(*t);
  return std::nullopt;
}

bool TextMatch(const std::string& lower_value, Condition::Kind k, const std::string& lower_needle) {
  switch (k) {
    case Condition::Kind::kContains: return lower_value.find(lower_needle) != std::string::npos;
    case Condition::Kind::kStartsWith: return lower_value.rfind(lower_needle, 0) == 0;
    case Condition::Kind::kEndsWith:
      return lower_value.size() >= lower_needle.size() &&
             lower_value.compare(lower_value.size() - lower_needle.size(), lower_needle.size(),
                                 lower_needle) == 0;
    default: return false;
  }
}

// A text value against a condition (=, in, text ops); null for absent.
bool TextCondition(const std::string_view* v, const Condition& c) {
  if (c.kind == Condition::Kind::kExists) return (v != nullptr) != c.negated;
  if (!v) return false;
  switch (c.kind) {
    case Condition::Kind::kCompare:
      if (c.values[0].kind != Literal::Kind::kString && c.values[0].kind != Literal::Kind::kDate)
        return false;
      return CmpT(*v, c.op, std::string_view(c.values[0].text));
    case Condition::Kind::kIn: {
      bool any = false;
      for (const Literal& l : c.values)
        if ((l.kind == Literal::Kind::kString || l.kind == Literal::Kind::kDate) && *v == l.text) any = true;
      return any != c.negated;
    }
    case Condition::Kind::kContains:
    case Condition::Kind::kStartsWith:
    case Condition::Kind::kEndsWith:
      return TextMatch(AsciiLower(*v), c.kind, AsciiLower(c.values[0].text)) != c.negated;
    default: return false;
  }
}

bool NumberCondition(double v, const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return c.values[0].kind == Literal::Kind::kNumber && Cmp(v, c.op, c.values[0].number);
    case Condition::Kind::kIn: {
      bool any = false;
      for (const Literal& l : c.values)
        if (l.kind == Literal::Kind::kNumber && v == l.number) any = true;
      return any != c.negated;
    }
    default: return false;
  }
}

bool BoolCondition(bool v, const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return c.values[0].kind == Literal::Kind::kBool && CmpT(v, c.op, c.values[0].boolean);
    case Condition::Kind::kIn: {
      bool any = false;
      for (const Literal& l : c.values)
        if (l.kind == Literal::Kind::kBool && v == l.boolean) any = true;
      return any != c.negated;
    }
    default: return false;
  }
}

// The first moment (microseconds UTC) of local day `day` in `zone`: its midnight, or the end of
// the gap when a daylight-saving change skips midnight.
int64_t LocalMidnight(const date::time_zone* zone, int64_t day) {
  date::local_days local{date::days(day)};
  auto info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent)
    return ToMicros(Timestamp(std::chrono::duration_cast<Micros>(info.second.begin.time_since_epoch())));
  return ToMicros(zone->to_sys(local, date::choose::earliest));
}

// How far ahead `exactly N days from now` schedules its local midnight directly; a day further
// away wakes the contact at this horizon first (early, never late), which keeps the time zone
// arithmetic within the years the tz database covers.
constexpr int64_t kMidnightHorizonDays = 3660;

}  // namespace

int RandomBucket(ContactId id, std::string_view salt) {
  // FNV-1a of the salt, then splitmix64 with the id (docs/segments.md).
  const uint64_t z = SplitMix64Finalize(Fnv1a64(salt) ^ (static_cast<uint64_t>(id) + kSplitMix64Gamma));
  return static_cast<int>(z % 100);
}

std::vector<int> BindStreams(Expr& e, ProfileIndex& index) {
  std::vector<int> fresh;
  if (e.kind == Expr::Kind::kBehavior) {
    Behavior& b = e.behavior;
    StreamSpec spec{b.event, b.filters,
                    b.measure == Behavior::Measure::kSum || b.measure == Behavior::Measure::kMin ||
                            b.measure == Behavior::Measure::kMax || b.measure == Behavior::Measure::kLastValue
                        ? b.property
                        : std::string()};
    auto [id, created] = index.EnsureStream(spec);
    b.stream = id;
    if (b.measure == Behavior::Measure::kCount && b.window) index.EnableDays(id);
    if (created) fresh.push_back(id);
  }
  for (auto& c : e.children) {
    auto more = BindStreams(*c, index);
    fresh.insert(fresh.end(), more.begin(), more.end());
  }
  return fresh;
}

Evaluator::Evaluator(const ProfileIndex& index, EvalContext ctx) : index_(index), ctx_(std::move(ctx)) {}

const Evaluator::TzDay& Evaluator::Day(Row r) {
  uint16_t code = index_.TimezoneCode(r);
  if (tz_days_.size() <= code) tz_days_.resize(code + 1);
  if (!tz_days_[code]) {
    std::string name = index_.TimezoneName(code);
    if (name.empty()) name = ctx_.default_timezone;
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(name);
    } catch (const std::exception&) {
      zone = date::locate_zone("UTC");
    }
    Timestamp now = FromMicros(ctx_.now);
    auto local = zone->to_local(now);
    auto local_day = date::floor<date::days>(local);
    TzDay d;
    d.today = local_day.time_since_epoch().count();
    d.next_midnight = std::max(LocalMidnight(zone, d.today + 1), ctx_.now + 1);
    d.zone = zone;
    tz_days_[code] = d;
  }
  return *tz_days_[code];
}

int64_t Evaluator::LocalDay(int64_t micros, Row r) {
  auto local = Day(r).zone->to_local(FromMicros(micros));
  return date::floor<date::days>(local).time_since_epoch().count();
}

bool Evaluator::IsToday(int64_t day, Row r, int64_t* next) {
  const TzDay& d = Day(r);
  if (day < d.today) return false;  // a day gone: it never holds again
  if (day == d.today) {
    Lower(next, d.next_midnight);  // leaves when today ends
    return true;
  }
  if (next) {
    // Enters at the local midnight that starts `day`.
    int64_t at = LocalMidnight(d.zone, std::min(day, d.today + kMidnightHorizonDays));
    Lower(next, std::max(at, ctx_.now + 1));
  }
  return false;
}

bool Evaluator::TimeCondition(const Condition& c, int64_t v, Row r, int64_t* next) {
  int64_t now = ctx_.now;
  switch (c.kind) {
    case Condition::Kind::kExists: return !c.negated;
    case Condition::Kind::kCompare: {
      auto lit = LiteralMicros(c.values[0]);
      return lit && CmpT(v, c.op, *lit);
    }
    case Condition::Kind::kIn: {
      bool any = false;
      for (const Literal& l : c.values)
        if (auto lit = LiteralMicros(l); lit && *lit == v) any = true;
      return any != c.negated;
    }
    case Condition::Kind::kWithinLast: {
      int64_t p = c.period.Micros();
      if (v > now) {
        Lower(next, v);
        return false;
      }
      if (v >= now - p) {
        Lower(next, v + p + 1);
        return true;
      }
      return false;
    }
    case Condition::Kind::kWithinNext: {
      int64_t p = c.period.Micros();
      if (v < now) return false;
      if (v <= now + p) {
        Lower(next, v + 1);
        return true;
      }
      Lower(next, v - p);
      return false;
    }
    case Condition::Kind::kMoreThanAgo: {
      int64_t p = c.period.Micros();
      if (v < now - p) return true;
      Lower(next, v + p + 1);
      return false;
    }
    case Condition::Kind::kBefore: {
      auto lit = LiteralMicros(c.values[0]);
      return lit && v < *lit;
    }
    case Condition::Kind::kAfter: {
      auto lit = LiteralMicros(c.values[0]);
      if (!lit) return false;
      // A date after D means after the whole day D.
      int64_t bound = IsIsoDate(c.values[0].text) ? *lit + kDayUs - 1 : *lit;
      return v > bound;
    }
    case Condition::Kind::kAnniversary: {
      date::sys_days d{date::days(date::floor<date::days>(FromMicros(v)).time_since_epoch().count())};
      return DateCondition(c, d.time_since_epoch().count(), r, next);
    }
    case Condition::Kind::kDaysAgo:
    case Condition::Kind::kDaysFromNow:
      // The time's calendar day in the contact's timezone, then as a date.
      return DateCondition(c, LocalDay(v, r), r, next);
    default: return false;
  }
}

bool Evaluator::DateCondition(const Condition& c, int64_t days, Row r, int64_t* next) {
  switch (c.kind) {
    case Condition::Kind::kExists: return !c.negated;
    case Condition::Kind::kCompare: {
      auto lit = LiteralDays(c.values[0]);
      return lit && CmpT(days, c.op, *lit);
    }
    case Condition::Kind::kIn: {
      bool any = false;
      for (const Literal& l : c.values)
        if (auto lit = LiteralDays(l); lit && *lit == days) any = true;
      return any != c.negated;
    }
    case Condition::Kind::kBefore: {
      auto lit = LiteralDays(c.values[0]);
      return lit && days < *lit;
    }
    case Condition::Kind::kAfter: {
      auto lit = LiteralDays(c.values[0]);
      return lit && days > *lit;
    }
    // One calendar day: only the midnights at which it starts and stops holding are moments of
    // change (not every midnight, as for the ranges below).
    case Condition::Kind::kDaysAgo: return IsToday(days + c.period.Days(), r, next);
    case Condition::Kind::kDaysFromNow: return IsToday(days - c.period.Days(), r, next);
    default: break;
  }
  const TzDay& day = Day(r);
  Lower(next, day.next_midnight);  // every relative date condition may change at local midnight
  int64_t n = c.period.Days();
  switch (c.kind) {
    case Condition::Kind::kWithinLast: return days <= day.today && days >= day.today - n;
    case Condition::Kind::kWithinNext: return days >= day.today && days <= day.today + n;
    case Condition::Kind::kMoreThanAgo: return days < day.today - n;
    case Condition::Kind::kAnniversary: {
      // The month and day fall on one of today .. today + n - 1 (at least today), year ignored;
      // 29 February falls on 28 February in other years.
      date::year_month_day v{date::sys_days(date::days(days))};
      int64_t span = std::max<int64_t>(n, 1);
      for (int64_t k = 0; k < span && k < 366; ++k) {
        date::year_month_day t{date::sys_days(date::days(day.today + k))};
        unsigned vm = static_cast<unsigned>(v.month()), vd = static_cast<unsigned>(v.day());
        if (vm == 2 && vd == 29 && !t.year().is_leap()) vd = 28;
        if (static_cast<unsigned>(t.month()) == vm && static_cast<unsigned>(t.day()) == vd) return true;
      }
      return false;
    }
    default: return false;
  }
}

bool Evaluator::FieldRow(const Expr& e, Row r, int64_t* next) {
  const Field& f = e.field;
  const Condition& c = e.condition;
  switch (f.kind) {
    case FieldKind::kEmail: {
      std::string_view v = index_.Email(r);
      return TextCondition(v.empty() ? nullptr : &v, c);
    }
    case FieldKind::kExternalId: {
      std::optional<std::string_view> v = index_.ExternalId(r);
      return TextCondition(v ? &*v : nullptr, c);
    }
    case FieldKind::kStatus: {
      std::string_view v = ContactStatusName(index_.Status(r));
      return TextCondition(&v, c);
    }
    case FieldKind::kTimezone: {
      std::string_view v = index_.Timezone(r);
      return TextCondition(v.empty() ? nullptr : &v, c);
    }
    case FieldKind::kLocale: {
      std::string_view v = index_.Locale(r);
      return TextCondition(v.empty() ? nullptr : &v, c);
    }
    case FieldKind::kCreatedAt: return TimeCondition(c, index_.CreatedAt(r), r, next);
    case FieldKind::kUpdatedAt: return TimeCondition(c, index_.UpdatedAt(r), r, next);
    case FieldKind::kRandomBucket: return NumberCondition(RandomBucket(index_.IdOf(r), f.salt), c);
    case FieldKind::kAttribute:
    case FieldKind::kUnresolved: break;
  }
  const AttributeColumn* col = index_.Attribute(f.name);
  if (!col) return c.kind == Condition::Kind::kExists && c.negated;
  auto other = col->other.find(r);
  if (other != col->other.end()) {
    // A value of another type than its column's: compared as JSON.
    const json::value& v = other->second;
    if (c.kind == Condition::Kind::kExists) return !c.negated;
    if (v.is_string()) {
      std::string s(v.get_string());
      if (IsIsoDate(s) && (c.kind != Condition::Kind::kCompare || c.values[0].kind == Literal::Kind::kDate))
        if (c.kind != Condition::Kind::kContains && c.kind != Condition::Kind::kStartsWith &&
            c.kind != Condition::Kind::kEndsWith && c.kind != Condition::Kind::kIn &&
            c.kind != Condition::Kind::kCompare)
          return DateCondition(c, *LiteralDays(Literal{Literal::Kind::kDate, s, 0, false, {}}), r, next);
      if (auto t = ParseTimestamp(s);
          t && !IsIsoDate(s) && c.kind != Condition::Kind::kCompare && c.kind != Condition::Kind::kIn &&
          c.kind != Condition::Kind::kContains && c.kind != Condition::Kind::kStartsWith &&
          c.kind != Condition::Kind::kEndsWith)
        return TimeCondition(c, ToMicros(*t), r, next);
      std::string_view sv = s;
      return TextCondition(&sv, c);
    }
    if (v.is_number()) return NumberCondition(v.to_number<double>(), c);
    if (v.is_bool()) return BoolCondition(v.get_bool(), c);
    if (v.is_array() && c.kind == Condition::Kind::kContains) {
      std::string needle = AsciiLower(c.values[0].text);
      bool any = false;
      for (const json::value& item : v.get_array()) {
        std::string s = item.is_string() ? std::string(item.get_string()) : json::serialize(item);
        if (AsciiLower(s) == needle) any = true;
      }
      return any != c.negated;
    }
    return false;
  }
  if (!col->present.Contains(r)) return c.kind == Condition::Kind::kExists && c.negated;
  switch (col->type) {
    case ValueType::kString: {
      std::string_view v = col->dict.At(col->codes.Get(r));
      return TextCondition(&v, c);
    }
    case ValueType::kNumber:
      if (c.kind == Condition::Kind::kExists) return !c.negated;
      return NumberCondition(col->numbers.Get(r), c);
    case ValueType::kBool:
      if (c.kind == Condition::Kind::kExists) return !c.negated;
      return BoolCondition(col->truth.Contains(r), c);
    case ValueType::kDate: return DateCondition(c, col->times[r], r, next);
    case ValueType::kTimestamp: return TimeCondition(c, col->times[r], r, next);
    case ValueType::kList: {
      if (c.kind == Condition::Kind::kExists) return !c.negated;
      if (c.kind != Condition::Kind::kContains) return false;
      std::string needle = AsciiLower(c.values[0].text);
      bool any = false;
      for (uint32_t code : col->lists[r])
        if (col->dict.LowerAt(code) == needle) any = true;
      return any != c.negated;
    }
    case ValueType::kUnknown: break;
  }
  return false;
}

bool Evaluator::BehaviorRow(const Behavior& b, Row r, int64_t* next, json::value* shown) {
  const EventStream& s = index_.stream(b.stream);
  const EventStream::Entries* en = s.For(r);
  int64_t now = ctx_.now;
  size_t lo = 0, hi = 0;
  std::span<const int64_t> times;
  if (en) {
    times = en->times();
    hi = static_cast<size_t>(std::upper_bound(times.begin(), times.end(), now) - times.begin());
    if (hi < times.size()) Lower(next, times[hi]);  // a future event enters at its time
    if (b.window) {
      int64_t from = now - b.window->Micros();
      lo = static_cast<size_t>(
          std::lower_bound(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(hi), from) -
          times.begin());
      if (lo < hi) Lower(next, times[lo] + b.window->Micros() + 1);  // the oldest leaves the window
    }
  }
  switch (b.measure) {
    case Behavior::Measure::kCount: {
      double count = static_cast<double>(hi - lo);
      if (shown) *shown = static_cast<int64_t>(hi - lo);
      return Cmp(count, b.op, b.value);
    }
    case Behavior::Measure::kSum:
    case Behavior::Measure::kMin:
    case Behavior::Measure::kMax: {
      double acc = b.measure == Behavior::Measure::kSum ? 0 : std::numeric_limits<double>::quiet_NaN();
      for (size_t i = lo; i < hi; ++i) {
        double v = en->value(i);
        if (std::isnan(v)) continue;
        if (b.measure == Behavior::Measure::kSum)
          acc += v;
        else if (std::isnan(acc))
          acc = v;
        else
          acc = b.measure == Behavior::Measure::kMin ? std::min(acc, v) : std::max(acc, v);
      }
      if (std::isnan(acc)) {
        if (shown) *shown = nullptr;
        return false;  // min/max of nothing: no value to compare
      }
      if (shown) *shown = acc;
      return Cmp(acc, b.op, b.value);
    }
    case Behavior::Measure::kLastValue: {
      // The latest event in the window that has the property (events without it are skipped).
      for (size_t i = hi; i > lo; --i) {
        double v = en->value(i - 1);
        if (std::isnan(v)) continue;
        if (shown) *shown = v;
        return Cmp(v, b.op, b.value);
      }
      if (shown) *shown = nullptr;
      return false;  // no such event: no value to compare
    }
    case Behavior::Measure::kFirstTime:
    case Behavior::Measure::kLastTime: {
      if (hi == 0) {
        if (shown) *shown = nullptr;
        return false;
      }
      int64_t t = b.measure == Behavior::Measure::kFirstTime ? times[0] : times[hi - 1];
      if (shown) *shown = json::string(FormatTimestamp(FromMicros(t)));
      return TimeCondition(b.time, t, r, next);
    }
  }
  return false;
}

bool Evaluator::Leaf(const Expr& e, Row r, int64_t* next) {
  switch (e.kind) {
    case Expr::Kind::kField: return FieldRow(e, r, next);
    case Expr::Kind::kBehavior: return BehaviorRow(e.behavior, r, next, nullptr);
    case Expr::Kind::kTopic: {
      const Bitmap* b = index_.TopicRows(e.name);
      return b && b->Contains(r);
    }
    case Expr::Kind::kSegment: {
      const Bitmap* b = ctx_.segments ? ctx_.segments(e.name) : nullptr;
      return b && b->Contains(r);
    }
    default: return false;
  }
}

bool Evaluator::Matches(const Expr& e, Row r, int64_t* next) {
  switch (e.kind) {
    case Expr::Kind::kAnd: {
      bool all = true;
      for (const auto& c : e.children) all = Matches(*c, r, next) && all;  // every child, for `next`
      return all;
    }
    case Expr::Kind::kOr: {
      bool any = false;
      for (const auto& c : e.children) any = Matches(*c, r, next) || any;
      return any;
    }
    case Expr::Kind::kNot: return !Matches(*e.children[0], r, next);
    default: return Leaf(e, r, next);
  }
}

Bitmap Evaluator::Candidates(const Expr& e, const Bitmap& universe, bool* outside) {
  *outside = false;
  Bitmap cand;
  if (e.kind == Expr::Kind::kField && e.field.kind == FieldKind::kAttribute) {
    const AttributeColumn* col = index_.Attribute(e.field.name);
    *outside = e.condition.kind == Condition::Kind::kExists && e.condition.negated;  // absent rows
    if (!col) return cand;
    cand = col->present;
    for (const auto& [row, v] : col->other) cand.Add(row);
    cand &= universe;
    return cand;
  }
  if (e.kind == Expr::Kind::kBehavior) {
    const Behavior& b = e.behavior;
    const EventStream& s = index_.stream(b.stream);
    // A row without events: count 0, sum 0, no min/max/first/last.
    if (b.measure == Behavior::Measure::kCount)
      *outside = Cmp(0, b.op, b.value);
    else if (b.measure == Behavior::Measure::kSum)
      *outside = Cmp(0, b.op, b.value);
    cand = s.rows;
    cand &= universe;
    return cand;
  }
  cand = universe;
  return cand;
}

namespace {

// A stored code (code + 1, 0 for none) passes when its entry is set.
template <class T>
struct PassTable {
  std::vector<uint8_t> pass;
  bool operator()(T v) const { return pass[v] != 0; }
};

// A stored code passes when it is one of `codes` + 1 (for columns too wide for a table).
template <class T>
struct AnyCode {
  std::vector<uint32_t> codes;
  bool operator()(T v) const {
    bool any = false;
    for (uint32_t code : codes) any |= v == code + 1;
    return any;
  }
};

// The rows whose stored code is one of `codes` + 1.
template <class T>
std::unique_ptr<RowFilter> CodeFilter(const T* values, const std::vector<uint32_t>& codes) {
  if constexpr (sizeof(T) <= 2) {
    // A pass table indexed by the stored code (256 or 65,536 entries): one load a row.
    PassTable<T> table{std::vector<uint8_t>(size_t{1} << (8 * sizeof(T)), 0)};
    for (uint32_t code : codes) table.pass[code + 1] = 1;
    return MakeColumnFilter(values, std::move(table));
  } else {
    return MakeColumnFilter(values, AnyCode<T>{codes});
  }
}

// `=` or `in` of text values over a text column that holds nothing else.
bool StringEqualityOverCodes(const Expr& e, const AttributeColumn* col) {
  if (!col || !col->other.empty() || col->type != ValueType::kString) return false;
  const Condition& c = e.condition;
  if (!((c.kind == Condition::Kind::kCompare && c.op == CmpOp::kEq) ||
        (c.kind == Condition::Kind::kIn && !c.negated)))
    return false;
  for (const Literal& l : c.values)
    if (l.kind != Literal::Kind::kString) return false;
  return true;
}

// The dictionary codes of a condition's text literals (those the column has seen).
std::vector<uint32_t> LiteralCodes(const AttributeColumn& col, const Condition& c) {
  std::vector<uint32_t> codes;
  for (const Literal& l : c.values)
    if (l.kind == Literal::Kind::kString)
      if (auto code = col.dict.Find(l.text)) codes.push_back(*code);
  return codes;
}

// How many rows hold one of `codes`, by the value bitmaps (col.has_code_rows).
uint64_t CodeRowsCount(const AttributeColumn& col, const std::vector<uint32_t>& codes) {
  uint64_t n = 0;
  for (uint32_t code : codes)
    if (code < col.code_rows.size()) n += col.code_rows[code].Cardinality();
  return n;
}

}  // namespace

bool Evaluator::FromBitmaps(const Expr& e) const {
  switch (e.kind) {
    case Expr::Kind::kTopic:
    case Expr::Kind::kSegment: return true;
    case Expr::Kind::kField:
      if (e.field.kind == FieldKind::kStatus && e.condition.kind == Condition::Kind::kCompare &&
          e.condition.op == CmpOp::kEq)
        return true;
      if (e.field.kind == FieldKind::kAttribute) {
        const AttributeColumn* col = index_.Attribute(e.field.name);
        return StringEqualityOverCodes(e, col) && col->has_code_rows;
      }
      return false;
    default: return false;
  }
}

namespace {

// A count of events in a window: do all counts from 1 up pass `op value`, and does none?
bool AllPositiveCountsPass(CmpOp op, double v) {
  switch (op) {
    case CmpOp::kGe: return v <= 1;
    case CmpOp::kGt: return v < 1;
    case CmpOp::kNe: return v < 1 || v != std::floor(v);
    default: return false;
  }
}

bool NoPositiveCountPasses(CmpOp op, double v) {
  switch (op) {
    case CmpOp::kEq: return v < 1 || v != std::floor(v);
    case CmpOp::kLt: return v <= 1;
    case CmpOp::kLe: return v < 1;
    default: return false;
  }
}

// A count in a window over a stream that keeps its day bitmaps (BindStreams enables them).
bool WindowedCount(const ProfileIndex& index, const Expr& e) {
  return e.kind == Expr::Kind::kBehavior && e.behavior.measure == Behavior::Measure::kCount &&
         e.behavior.window && e.behavior.stream >= 0 && index.stream(e.behavior.stream).days_on;
}

}  // namespace

int Evaluator::Rank(const Expr& e) const {
  if (FromBitmaps(e)) return 0;
  if (WindowedCount(index_, e)) return 1;
  if (e.kind == Expr::Kind::kNot) return std::max(1, Rank(*e.children[0]));
  if (e.kind == Expr::Kind::kAnd || e.kind == Expr::Kind::kOr) {
    int worst = 1;
    for (const auto& c : e.children) worst = std::max(worst, Rank(*c));
    return worst;
  }
  return 2;
}

std::optional<ColumnTest> Evaluator::ColumnTestFor(const Expr& e, uint64_t rows) const {
  if (e.kind != Expr::Kind::kField || e.field.kind != FieldKind::kAttribute) return std::nullopt;
  const AttributeColumn* col = index_.Attribute(e.field.name);
  if (!col || !col->other.empty()) return std::nullopt;
  const Condition& c = e.condition;
  if (col->type == ValueType::kString && ((c.kind == Condition::Kind::kCompare && c.op == CmpOp::kEq) ||
                                          (c.kind == Condition::Kind::kIn && !c.negated))) {
    std::vector<uint32_t> codes = LiteralCodes(*col, c);
    ColumnTest t;
    t.size = col->codes.size();
    if (codes.empty()) return t;  // no row can pass
    if (col->has_code_rows) {
      // The union of the values' row bitmaps costs about a row of the smaller side per bitmap:
      // cheaper while those bitmaps hold fewer rows than `rows`; past that, one look at each
      // row's code costs less (`plan in ("pro", "team")` within the 200k rows of one city: 2 x
      // 200k probes and a union of bitmaps of 3.3M rows each, or 200k codes read once).
      if (CodeRowsCount(*col, codes) <= rows) return std::nullopt;
    }
    // The column holds code + 1, 0 for rows without a value: no look at `present`.
    t.filter = col->codes.Visit([&](const auto* values) { return CodeFilter(values, codes); });
    return t;
  }
  if (col->type == ValueType::kNumber && c.kind == Condition::Kind::kCompare &&
      c.values[0].kind == Literal::Kind::kNumber) {
    // Rows without a value hold a code no comparison passes: no look at `present`.
    ColumnTest t;
    t.size = col->numbers.size();
    t.filter = col->numbers.Filter(c.op, c.values[0].number);
    return t;
  }
  return std::nullopt;
}

uint64_t Evaluator::Estimate(const Expr& e) const {
  if (e.kind == Expr::Kind::kTopic) {
    const Bitmap* b = index_.TopicRows(e.name);
    return b ? b->Cardinality() : 0;
  }
  if (e.kind == Expr::Kind::kField && e.field.kind == FieldKind::kStatus) {
    auto s = ParseContactStatus(e.condition.values[0].text);
    return s ? index_.StatusRows(*s).Cardinality() : 0;
  }
  if (e.kind == Expr::Kind::kField && e.field.kind == FieldKind::kAttribute) {
    const AttributeColumn* col = index_.Attribute(e.field.name);
    if (StringEqualityOverCodes(e, col) && col->has_code_rows)
      return CodeRowsCount(*col, LiteralCodes(*col, e.condition));
  }
  return UINT64_MAX;
}

std::vector<ColumnTest> Evaluator::ColumnTests(const std::vector<const Expr*>& order, size_t* i,
                                               uint64_t rows) const {
  std::vector<ColumnTest> run;
  for (; *i < order.size(); ++*i) {
    std::optional<ColumnTest> t = ColumnTestFor(*order[*i], rows);
    if (!t) break;
    run.push_back(std::move(*t));
  }
  return run;
}

std::vector<const Expr*> Evaluator::Order(const Expr& e) const {
  std::vector<std::pair<std::pair<int, uint64_t>, const Expr*>> keyed;
  for (const auto& c : e.children) {
    int rank = Rank(*c);
    keyed.push_back({{rank, rank == 0 ? Estimate(*c) : 0}, c.get()});
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Expr*> order;
  for (const auto& [key, c] : keyed) order.push_back(c);
  return order;
}

Bitmap Evaluator::Scan(const Expr& e, const Bitmap& universe) {
  switch (e.kind) {
    case Expr::Kind::kAnd: {
      // Operands answered from bitmaps first (the smallest first), then counts in a window: the
      // others then scan only the rows those leave. Scan's rows are within its universe: each
      // operand's are the conjunction's so far.
      // Consecutive operands answered from their columns' values run as one pass over the rows.
      const std::vector<const Expr*> order = Order(e);
      const Bitmap* rows = &universe;
      Bitmap acc;
      for (size_t i = 0; i < order.size() && (i == 0 || !acc.Empty());) {
        std::vector<ColumnTest> run = ColumnTests(order, &i, rows->Cardinality());
        acc = run.empty() ? Scan(*order[i++], *rows) : PassAll(*rows, run);
        rows = &acc;
      }
      return acc;
    }
    case Expr::Kind::kOr: {
      Bitmap acc;
      for (const auto& c : e.children) acc |= Scan(*c, universe);
      return acc;
    }
    case Expr::Kind::kNot: {
      Bitmap acc = universe;
      acc -= Scan(*e.children[0], universe);
      return acc;
    }
    case Expr::Kind::kTopic: {
      Bitmap acc = universe;
      const Bitmap* b = index_.TopicRows(e.name);
      if (!b) return Bitmap();
      acc &= *b;
      return acc;
    }
    case Expr::Kind::kSegment: {
      Bitmap acc = universe;
      const Bitmap* b = ctx_.segments ? ctx_.segments(e.name) : nullptr;
      if (!b) return Bitmap();
      acc &= *b;
      return acc;
    }
    case Expr::Kind::kField:
      if (e.field.kind == FieldKind::kStatus && e.condition.kind == Condition::Kind::kCompare &&
          e.condition.op == CmpOp::kEq) {
        Bitmap acc = universe;
        auto s = ParseContactStatus(e.condition.values[0].text);
        if (!s) return Bitmap();
        acc &= index_.StatusRows(*s);
        return acc;
      }
      break;
    default: break;
  }
  if (e.kind == Expr::Kind::kField && e.field.kind == FieldKind::kAttribute) {
    // Fast paths over a typed column: the test is built once (the matching codes, a number's
    // interval), then the rows are a loop over a plain array; or a union of value bitmaps.
    if (std::optional<ColumnTest> t = ColumnTestFor(e, universe.Cardinality())) {
      std::vector<ColumnTest> one;
      one.push_back(std::move(*t));
      return PassAll(universe, one);
    }
    const AttributeColumn* col = index_.Attribute(e.field.name);
    if (StringEqualityOverCodes(e, col) && col->has_code_rows) {
      // The union of the matching values' row bitmaps (ProfileIndex keeps one per value), each
      // taken within the universe: a dense value's bitmap is never copied whole.
      Bitmap out;
      for (uint32_t code : LiteralCodes(*col, e.condition)) {
        if (code >= col->code_rows.size()) continue;
        if (out.Empty())
          out = Bitmap::And(universe, col->code_rows[code]);
        else
          out |= Bitmap::And(universe, col->code_rows[code]);
      }
      return out;
    }
  }
  if (WindowedCount(index_, e)) {
    // The rows with an event in the window come from the stream's day bitmaps; only those are
    // counted one by one, and only when the comparison needs the exact count.
    const Behavior& b = e.behavior;
    const EventStream& s = index_.stream(b.stream);
    Bitmap any = s.RowsWithEventIn(ctx_.now - b.window->Micros(), ctx_.now);
    any &= universe;
    Bitmap out;
    if (AllPositiveCountsPass(b.op, b.value)) {
      out = any;
    } else if (!NoPositiveCountPasses(b.op, b.value)) {
      std::vector<uint32_t> buf;
      any.ForEach([&](uint32_t r) {
        if (BehaviorRow(b, r, nullptr, nullptr)) buf.push_back(r);
      });
      out.AddMany(buf.data(), buf.size());
    }
    if (Cmp(0, b.op, b.value)) {  // rows without an event in the window
      Bitmap rest = universe;
      rest -= any;
      out |= rest;
    }
    return out;
  }
  bool outside = false;
  Bitmap cand = Candidates(e, universe, &outside);
  Bitmap out;
  std::vector<uint32_t> buf;
  buf.reserve(4096);
  cand.ForEach([&](uint32_t r) {
    if (Leaf(e, r, nullptr)) {
      buf.push_back(r);
      if (buf.size() == 4096) {
        out.AddMany(buf.data(), buf.size());
        buf.clear();
      }
    }
  });
  out.AddMany(buf.data(), buf.size());
  if (outside) {
    Bitmap rest = universe;
    rest -= cand;
    out |= rest;
  }
  return out;
}

json::value Evaluator::Shown(const Expr& e, Row r) {
  switch (e.kind) {
    case Expr::Kind::kField:
      switch (e.field.kind) {
        case FieldKind::kEmail: return json::string(index_.Email(r));
        case FieldKind::kExternalId: {
          std::optional<std::string_view> id = index_.ExternalId(r);
          return id ? json::value(json::string(*id)) : json::value(nullptr);
        }
        case FieldKind::kStatus: return json::string(ContactStatusName(index_.Status(r)));
        case FieldKind::kTimezone: return json::string(index_.Timezone(r));
        case FieldKind::kLocale: return json::string(index_.Locale(r));
        case FieldKind::kCreatedAt: return json::string(FormatTimestamp(FromMicros(index_.CreatedAt(r))));
        case FieldKind::kUpdatedAt: return json::string(FormatTimestamp(FromMicros(index_.UpdatedAt(r))));
        case FieldKind::kRandomBucket: return RandomBucket(index_.IdOf(r), e.field.salt);
        default: {
          const AttributeColumn* col = index_.Attribute(e.field.name);
          return col ? index_.AttributeValue(*col, r) : json::value(nullptr);
        }
      }
    case Expr::Kind::kBehavior: {
      json::value v;
      BehaviorRow(e.behavior, r, nullptr, &v);
      return v;
    }
    case Expr::Kind::kTopic:
    case Expr::Kind::kSegment: return Leaf(e, r, nullptr);
    default: return nullptr;
  }
}

std::vector<Evaluator::Step> Evaluator::Explain(const Expr& e, Row r) {
  std::vector<Step> out;
  std::function<void(const Expr&, int)> walk = [&](const Expr& x, int depth) {
    Step s;
    s.depth = depth;
    s.result = Matches(x, r, nullptr);
    if (x.kind == Expr::Kind::kAnd || x.kind == Expr::Kind::kOr || x.kind == Expr::Kind::kNot) {
      s.op = x.kind == Expr::Kind::kAnd ? "and" : x.kind == Expr::Kind::kOr ? "or" : "not";
      s.predicate = Format(x);
      out.push_back(std::move(s));
      for (const auto& c : x.children) walk(*c, depth + 1);
      return;
    }
    s.predicate = x.source.empty() ? Format(x) : x.source;
    s.value = Shown(x, r);
    out.push_back(std::move(s));
  };
  walk(e, 0);
  return out;
}

unsigned ScanThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return std::clamp(n, 1u, 8u);
}

namespace {

// scan(evaluator, part) over `universe` split into ranges of rows, one per thread (the caller's
// included), each with an Evaluator of its own; the union of the parts' results.
template <class ScanFn>
Bitmap SplitScan(const ProfileIndex& index, const EvalContext& ctx, const Bitmap& universe, unsigned threads,
                 ScanFn scan) {
  const uint64_t rows = index.rows();
  // Ranges of whole 65,536-row chunks (CRoaring's containers), so that the parts split cheaply;
  // of rows when there are too few chunks.
  const uint64_t unit = rows >= uint64_t{threads} * 65536 ? 65536 : 1;
  const uint64_t chunks = (rows + unit - 1) / unit;
  threads = static_cast<unsigned>(std::min<uint64_t>(threads, chunks));
  if (threads <= 1) {
    Evaluator ev(index, ctx);
    return scan(ev, universe);
  }
  std::vector<Bitmap> parts(threads), out(threads);
  for (unsigned t = 0; t < threads; ++t) {
    uint64_t lo = chunks * t / threads * unit,
             hi = std::min<uint64_t>(chunks * (t + 1) / threads * unit, rows);
    parts[t].AddRange(lo, hi);
    parts[t] &= universe;
  }
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      NameThisThread("segment-scan");
      Evaluator ev(index, ctx);
      out[t] = scan(ev, parts[t]);
    });
  {
    Evaluator ev(index, ctx);
    out[0] = scan(ev, parts[0]);
  }
  for (auto& th : pool) th.join();
  for (unsigned t = 1; t < threads; ++t) out[0] |= out[t];
  return std::move(out[0]);
}

}  // namespace

Bitmap ParallelScan(const ProfileIndex& index, const EvalContext& ctx, const Expr& e, const Bitmap& universe,
                    unsigned threads, uint64_t min_rows) {
  if (threads <= 1 || universe.Cardinality() < min_rows) return Evaluator(index, ctx).Scan(e, universe);
  Evaluator here(index, ctx);
  if (here.Rank(e) < 2) return here.Scan(e, universe);  // bitmap operations: nothing to split
  if (e.kind == Expr::Kind::kAnd) {
    // In Scan's order: operands answered from bitmaps and windows narrow the rows here; the
    // others are split over the threads while enough rows are left to pay for them, a run of
    // operands answered from their columns as one pass (one set of threads for the run).
    const std::vector<const Expr*> order = here.Order(e);
    Bitmap acc = universe;
    for (size_t i = 0; i < order.size() && !acc.Empty();) {
      const uint64_t n = acc.Cardinality();
      std::vector<ColumnTest> run = here.ColumnTests(order, &i, n);
      if (!run.empty()) {
        acc = n < min_rows ? PassAll(acc, run)
                           : SplitScan(index, ctx, acc, threads,
                                       [&](Evaluator&, const Bitmap& part) { return PassAll(part, run); });
        continue;
      }
      const Expr* c = order[i++];
      acc = here.Rank(*c) < 2 ? here.Scan(*c, acc) : ParallelScan(index, ctx, *c, acc, threads, min_rows);
    }
    return acc;
  }
  return SplitScan(index, ctx, universe, threads,
                   [&](Evaluator& ev, const Bitmap& part) { return ev.Scan(e, part); });
}

}  // namespace rapport::segment
