#include "segment/profile_index.h"

#include <date/date.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rapport::segment {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

uint32_t Dictionary::Intern(std::string_view s) {
  auto it = codes_.find(std::string(s));
  if (it != codes_.end()) return it->second;
  uint32_t code = static_cast<uint32_t>(values_.size());
  values_.emplace_back(s);
  lower_.push_back(AsciiLower(s));
  codes_.emplace(std::string(s), code);
  return code;
}

std::optional<uint32_t> Dictionary::Find(std::string_view s) const {
  auto it = codes_.find(std::string(s));
  if (it == codes_.end()) return std::nullopt;
  return it->second;
}

size_t Dictionary::Bytes() const {
  size_t b = 0;
  for (const auto& v : values_) b += 2 * (sizeof(std::string) + (v.size() > 15 ? v.size() : 0)) + 48;
  return b;
}

void AttributeColumn::Unindex(Row r) {
  if (type != ValueType::kString || !has_code_rows || r >= codes.size() || !present.Contains(r)) return;
  if (uint32_t code = codes.Get(r); code < code_rows.size()) code_rows[code].Remove(r);
}

void AttributeColumn::Index(Row r) {
  if (type != ValueType::kString || !has_code_rows) return;
  uint32_t code = codes.Get(r);
  if (dict.size() > kMaxCodeBitmaps) {
    has_code_rows = false;
    code_rows = {};
    return;
  }
  if (code_rows.size() <= code) code_rows.resize(code + 1);
  code_rows[code].Add(r);
}

size_t AttributeColumn::Bytes() const {
  size_t b = present.Bytes() + truth.Bytes() + numbers.Bytes() + codes.Bytes() + times.capacity() * 8 +
             dict.Bytes() + other.size() * 64;
  for (const Bitmap& rows : code_rows) b += sizeof(rows) + rows.Bytes();
  for (const auto& l : lists) b += sizeof(l) + l.capacity() * 4;
  return b;
}

std::string StreamSpec::Key() const {
  std::string k = event;
  k.push_back('\x1f');
  k += property;
  for (const PropertyFilter& f : filters) {
    k.push_back('\x1f');
    Expr tmp;
    tmp.kind = Expr::Kind::kField;
    tmp.field.name = "p";
    tmp.condition = f.condition;
    k += f.property + " " + Format(tmp);
  }
  return k;
}

void EventStream::Add(Row r, int64_t time, double value) {
  if (slot.size() <= r) slot.resize(r + 1, 0);
  if (!slot[r]) {
    entries.emplace_back();
    slot[r] = static_cast<uint32_t>(entries.size());
    rows.Add(r);
  }
  entries[slot[r] - 1].Insert(time, value, !spec.property.empty());
  if (days_on) Day(DayOf(time)).Add(r);
  ++events;
}

int64_t EventStream::DayOf(int64_t micros) {
  constexpr int64_t kDayUs = 86'400'000'000;
  int64_t d = micros / kDayUs;
  return micros % kDayUs < 0 ? d - 1 : d;
}

void EventStream::EnableDays() {
  if (days_on) return;
  days_on = true;
  rows.ForEach([&](uint32_t r) {
    for (int64_t t : entries[slot[r] - 1].times()) Day(DayOf(t)).Add(r);
  });
}

Bitmap& EventStream::Day(int64_t day) {
  // Events mostly arrive in time order: the last day first.
  if (!day_keys.empty() && day_keys.back() == day) return day_rows.back();
  auto it = std::lower_bound(day_keys.begin(), day_keys.end(), day);
  size_t i = static_cast<size_t>(it - day_keys.begin());
  if (it == day_keys.end() || *it != day) {
    day_keys.insert(it, day);
    day_rows.insert(day_rows.begin() + static_cast<std::ptrdiff_t>(i), Bitmap());
  }
  return day_rows[i];
}

Bitmap* EventStream::FindDay(int64_t day) {
  auto it = std::lower_bound(day_keys.begin(), day_keys.end(), day);
  if (it == day_keys.end() || *it != day) return nullptr;
  return &day_rows[static_cast<size_t>(it - day_keys.begin())];
}

size_t EventStream::FirstDayAfter(int64_t day) const {
  return static_cast<size_t>(std::upper_bound(day_keys.begin(), day_keys.end(), day) - day_keys.begin());
}

void EventStream::Reset() {
  rows = Bitmap();
  slot.clear();
  entries.clear();
  events = 0;
  day_keys.clear();
  day_rows.clear();
}

void EventStream::ClearRow(Row r) {
  if (r >= slot.size() || !slot[r]) return;
  Entries& e = entries[slot[r] - 1];
  for (int64_t t : days_on ? e.times() : std::span<const int64_t>())
    if (Bitmap* day = FindDay(DayOf(t))) day->Remove(r);  // an emptied day stays, as a key
  events -= e.size();
  e.Clear();
  rows.Remove(r);
}

Bitmap EventStream::RowsWithEventIn(int64_t from, int64_t to) const {
  Bitmap out;
  if (from > to) return out;
  const int64_t d0 = DayOf(from), d1 = DayOf(to);
  std::vector<const Bitmap*> inside;
  for (size_t i = FirstDayAfter(d0); i < day_keys.size() && day_keys[i] < d1; ++i)
    inside.push_back(&day_rows[i]);
  out = Bitmap::Union(inside);
  // The edge days hold rows whose events may fall outside [from, to]: look at their times.
  std::vector<uint32_t> buf;
  for (int64_t d : {d0, d1}) {
    auto it = std::lower_bound(day_keys.begin(), day_keys.end(), d);
    if (it == day_keys.end() || *it != d) continue;
    Bitmap edge = day_rows[static_cast<size_t>(it - day_keys.begin())];
    edge -= out;
    edge.ForEach([&](uint32_t r) {
      std::span<const int64_t> t = entries[slot[r] - 1].times();
      auto at = std::lower_bound(t.begin(), t.end(), from);
      if (at != t.end() && *at <= to) buf.push_back(r);
    });
    if (d0 == d1) break;
  }
  out.AddMany(buf.data(), buf.size());
  return out;
}

void EventStream::Entries::Insert(int64_t time, double value, bool with_values) {
  if (size_ == 0 && cap_ == 0 && !with_values) {
    u_.time = time;
    size_ = 1;
    return;
  }
  std::span<const int64_t> old = times();
  const size_t i = static_cast<size_t>(std::upper_bound(old.begin(), old.end(), time) - old.begin());
  const int64_t bits = std::bit_cast<int64_t>(value);
  if (size_ + 1 > cap_) {
    // Grow by half (at least to 2): ~25% slack on average, few copies for a busy contact.
    uint32_t ncap = std::max<uint32_t>({2, cap_ + cap_ / 2, size_ + 1});
    int64_t* nd = new int64_t[size_t{ncap} * (with_values ? 2 : 1)];
    std::copy(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(i), nd);
    nd[i] = time;
    std::copy(old.begin() + static_cast<std::ptrdiff_t>(i), old.end(), nd + i + 1);
    if (with_values) {
      const int64_t* ov = cap_ ? u_.data + cap_ : nullptr;
      if (ov) std::copy(ov, ov + i, nd + ncap);
      nd[ncap + i] = bits;
      if (ov) std::copy(ov + i, ov + size_, nd + ncap + i + 1);
    }
    Free();
    u_.data = nd;
    cap_ = ncap;
  } else {
    int64_t* t = u_.data;
    std::copy_backward(t + i, t + size_, t + size_ + 1);
    t[i] = time;
    if (with_values) {
      int64_t* v = u_.data + cap_;
      std::copy_backward(v + i, v + size_, v + size_ + 1);
      v[i] = bits;
    }
  }
  ++size_;
}

namespace {

std::optional<int64_t> DaysOf(std::string_view iso) {
  if (!IsIsoDate(iso)) return std::nullopt;
  int y = std::stoi(std::string(iso.substr(0, 4)));
  unsigned m = static_cast<unsigned>(std::stoi(std::string(iso.substr(5, 2))));
  unsigned d = static_cast<unsigned>(std::stoi(std::string(iso.substr(8, 2))));
  return date::sys_days(date::year(y) / m / d).time_since_epoch().count();
}

bool LiteralMatchesJson(const json::value& v, const Literal& l, CmpOp op, bool& comparable) {
  comparable = true;
  int cmp = 0;
  if (l.kind == Literal::Kind::kNumber && v.is_number()) {
    double x = v.to_number<double>();
    cmp = x < l.number ? -1 : x > l.number ? 1 : 0;
  } else if ((l.kind == Literal::Kind::kString || l.kind == Literal::Kind::kDate) && v.is_string()) {
    std::string_view s = v.get_string();
    int c = s.compare(l.text);
    cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else if (l.kind == Literal::Kind::kBool && v.is_bool()) {
    cmp = v.get_bool() == l.boolean ? 0 : (v.get_bool() ? 1 : -1);
  } else {
    comparable = false;
    return false;
  }
  switch (op) {
    case CmpOp::kEq: return cmp == 0;
    case CmpOp::kNe: return cmp != 0;
    case CmpOp::kLt: return cmp < 0;
    case CmpOp::kLe: return cmp <= 0;
    case CmpOp::kGt: return cmp > 0;
    case CmpOp::kGe: return cmp >= 0;
  }
  return false;
}

}  // namespace

bool MatchProperty(const json::object& properties, const PropertyFilter& f) {
  const json::value* v = properties.if_contains(f.property);
  const Condition& c = f.condition;
  bool present = v && !v->is_null();
  switch (c.kind) {
    case Condition::Kind::kExists: return present != c.negated;
    case Condition::Kind::kCompare: {
      if (!present) return false;
      bool comparable;
      return LiteralMatchesJson(*v, c.values[0], c.op, comparable);
    }
    case Condition::Kind::kIn: {
      if (!present) return false;
      bool any = false;
      for (const Literal& l : c.values) {
        bool comparable;
        if (LiteralMatchesJson(*v, l, CmpOp::kEq, comparable)) any = true;
      }
      return any != c.negated;
    }
    case Condition::Kind::kContains:
    case Condition::Kind::kStartsWith:
    case Condition::Kind::kEndsWith: {
      if (!present || !v->is_string()) return false;
      std::string s = AsciiLower(v->get_string());
      std::string needle = AsciiLower(c.values[0].text);
      bool hit =
          c.kind == Condition::Kind::kContains ? s.find(needle) != std::string::npos
          : c.kind == Condition::Kind::kStartsWith
              ? s.rfind(needle, 0) == 0
              : s.size() >= needle.size() && s.compare(s.size() - needle.size(), needle.size(), needle) == 0;
      return hit != c.negated;
    }
    default: return false;
  }
}

ProfileIndex::ProfileIndex() {
  timezones_.Intern("");
  locales_.Intern("");
}

std::optional<Row> ProfileIndex::RowOf(ContactId id) const {
  auto it = std::lower_bound(search_ids_.begin(), search_ids_.end(), id);
  if (it != search_ids_.end() && *it == id) {
    Row r = static_cast<Row>(it - search_ids_.begin());
    if (ids_[r] == id) return r;
  }
  auto late = late_rows_.find(id);
  if (late != late_rows_.end()) return late->second;
  return std::nullopt;
}

Row ProfileIndex::RowFor(ContactId id, WorkspaceId ws) {
  if (auto r = RowOf(id)) return *r;
  Row r = static_cast<Row>(ids_.size());
  // Rows are in id order except for a contact the index meets after a later one (a fill-in):
  // search_ids_ stays non-decreasing (a late row repeats the previous key) and the late row is
  // found through late_rows_.
  bool late = !search_ids_.empty() && id < search_ids_.back();
  if (late) late_rows_[id] = r;
  search_ids_.push_back(late ? search_ids_.back() : id);
  ids_.push_back(id);
  workspace_.push_back(ws);
  email_.Resize(ids_.size());
  external_id_.Resize(ids_.size());
  status_.push_back(static_cast<uint8_t>(ContactStatus::kActive));
  timezone_.push_back(0);
  locale_.push_back(0);
  created_at_.push_back(0);
  updated_at_.push_back(0);
  live_.Add(r);
  workspace_rows_[ws].Add(r);
  status_rows_[0].Add(r);
  if ((r + 1) % kChunkRows == 0) CompactBitmaps();
  return r;
}

void ProfileIndex::CompactBitmaps() {
  live_.Optimize();
  for (auto& [ws, rows] : workspace_rows_) rows.Optimize();
  for (auto& rows : status_rows_) rows.Optimize();
  for (auto& [name, col] : attributes_) {
    col->present.Optimize();
    col->truth.Optimize();
    for (auto& rows : col->code_rows) rows.Optimize();
  }
  for (auto& [key, rows] : topics_) rows.Optimize();
  for (auto& s : streams_) s->rows.Optimize();
}

const Bitmap& ProfileIndex::Workspace(WorkspaceId ws) const {
  auto it = workspace_rows_.find(ws);
  return it == workspace_rows_.end() ? empty_ : it->second;
}

const AttributeColumn* ProfileIndex::Attribute(std::string_view name) const {
  auto it = attributes_.find(name);
  return it == attributes_.end() ? nullptr : it->second.get();
}

const Bitmap* ProfileIndex::TopicRows(std::string_view key) const {
  auto it = topics_.find(key);
  return it == topics_.end() ? nullptr : &it->second;
}

int ProfileIndex::NameStream(std::string_view event) const {
  auto it = name_streams_.find(std::string(event));
  return it == name_streams_.end() ? -1 : it->second;
}

void ProfileIndex::SetStatus(Row r, ContactStatus s) {
  status_rows_[status_[r]].Remove(r);
  status_[r] = static_cast<uint8_t>(s);
  status_rows_[static_cast<int>(s)].Add(r);
}

namespace {

ValueType TypeOfJson(const json::value& v) {
  auto t = AttributeTypeOf(v);
  if (!t) return ValueType::kUnknown;
  switch (*t) {
    case AttributeType::kString: return ValueType::kString;
    case AttributeType::kNumber: return ValueType::kNumber;
    case AttributeType::kBool: return ValueType::kBool;
    case AttributeType::kDate: return ValueType::kDate;
    case AttributeType::kTimestamp: return ValueType::kTimestamp;
    case AttributeType::kList: return ValueType::kList;
  }
  return ValueType::kUnknown;
}

std::string ItemText(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

}  // namespace

void ProfileIndex::SetAttribute(Row r, const std::string& name, const json::value& v) {
  auto& slot = attributes_[name];
  if (!slot) slot = std::make_unique<AttributeColumn>();
  AttributeColumn& c = *slot;
  c.Unindex(r);
  c.present.Remove(r);
  c.numbers.Clear(r);
  c.codes.Clear(r);
  c.other.erase(r);
  if (c.type == ValueType::kBool) c.truth.Remove(r);
  if (c.type == ValueType::kList && r < c.lists.size()) c.lists[r].clear();
  if (v.is_null()) return;
  ValueType t = TypeOfJson(v);
  if (t == ValueType::kUnknown) return;  // objects are not attribute values (the model refuses them)
  if (c.type == ValueType::kUnknown) c.type = t;
  if (t != c.type) {
    c.other[r] = v;
    return;
  }
  c.present.Add(r);
  switch (t) {
    case ValueType::kNumber: c.numbers.Set(r, v.to_number<double>()); break;
    case ValueType::kString:
      c.codes.Set(r, c.dict.Intern(v.get_string()));
      c.Index(r);
      break;
    case ValueType::kBool: c.truth.Set(r, v.get_bool()); break;
    case ValueType::kDate:
      if (c.times.size() <= r) c.times.resize(r + 1);
      c.times[r] = DaysOf(v.get_string()).value_or(0);
      break;
    case ValueType::kTimestamp:
      if (c.times.size() <= r) c.times.resize(r + 1);
      c.times[r] = ToMicros(*ParseTimestamp(v.get_string()));
      break;
    case ValueType::kList: {
      if (c.lists.size() <= r) c.lists.resize(r + 1);
      auto& items = c.lists[r];
      for (const json::value& item : v.get_array()) items.push_back(c.dict.Intern(ItemText(item)));
      break;
    }
    case ValueType::kUnknown: break;
  }
}

json::value ProfileIndex::AttributeValue(const AttributeColumn& c, Row r) const {
  auto o = c.other.find(r);
  if (o != c.other.end()) return o->second;
  if (c.type == ValueType::kBool) {
    if (!c.present.Contains(r)) return nullptr;
    return c.truth.Contains(r);
  }
  if (!c.present.Contains(r)) return nullptr;
  switch (c.type) {
    case ValueType::kNumber: return c.numbers.Get(r);
    case ValueType::kString: return json::string(c.dict.At(c.codes.Get(r)));
    case ValueType::kDate: {
      date::sys_days d{date::days(c.times[r])};
      return json::string(date::format("%F", d));
    }
    case ValueType::kTimestamp: return json::string(FormatTimestamp(FromMicros(c.times[r])));
    case ValueType::kList: {
      json::array a;
      for (uint32_t code : c.lists[r]) a.emplace_back(c.dict.At(code));
      return a;
    }
    default: return nullptr;
  }
}

void ProfileIndex::ClearRow(Row r) {
  for (auto& [name, col] : attributes_) {
    col->Unindex(r);
    col->present.Remove(r);
    col->numbers.Clear(r);
    col->codes.Clear(r);
    col->truth.Remove(r);
    col->other.erase(r);
    if (r < col->lists.size()) col->lists[r].clear();
  }
  for (auto& [key, rows] : topics_) rows.Remove(r);
  for (auto& s : streams_) s->ClearRow(r);
  email_.Clear(r);
  external_id_.Clear(r);
}

void ProfileIndex::ApplyCreated(Row r, const Event& e) {
  const json::object& p = e.properties;
  if (auto* v = p.if_contains("email"); v && v->is_string()) email_.Set(r, v->get_string());
  if (auto* v = p.if_contains("external_id"); v && v->is_string()) external_id_.Set(r, v->get_string());
  if (auto* v = p.if_contains("status"); v && v->is_string())
    if (auto s = ParseContactStatus(v->get_string())) SetStatus(r, *s);
  if (auto* v = p.if_contains("timezone"); v && v->is_string())
    timezone_[r] = static_cast<uint16_t>(timezones_.Intern(v->get_string()));
  if (auto* v = p.if_contains("locale"); v && v->is_string())
    locale_[r] = static_cast<uint16_t>(locales_.Intern(v->get_string()));
  if (auto* v = p.if_contains("attributes"); v && v->is_object())
    for (const auto& [k, val] : v->get_object()) SetAttribute(r, std::string(k), val);
  created_at_[r] = ToMicros(e.occurred_at);
  updated_at_[r] = ToMicros(e.occurred_at);
  live_.Add(r);
}

void ProfileIndex::ApplyChanged(Row r, const json::object& changes) {
  auto new_of = [](const json::value& change) -> const json::value* {
    if (!change.is_object()) return nullptr;
    return change.get_object().if_contains("new");
  };
  for (const auto& [k, change] : changes) {
    if (k == "attributes") {
      if (!change.is_object()) continue;
      for (const auto& [ak, av] : change.get_object())
        if (const json::value* n = new_of(av)) SetAttribute(r, std::string(ak), *n);
      continue;
    }
    const json::value* n = new_of(change);
    if (!n) continue;
    std::string text = n->is_string() ? std::string(n->get_string()) : std::string();
    if (k == "email")
      email_.Set(r, text);
    else if (k == "external_id")
      n->is_string() ? external_id_.Set(r, text) : external_id_.Clear(r);
    else if (k == "timezone")
      timezone_[r] = static_cast<uint16_t>(timezones_.Intern(text));
    else if (k == "locale")
      locale_[r] = static_cast<uint16_t>(locales_.Intern(text));
  }
}

bool ProfileIndex::Apply(const Event& e) {
  std::optional<Row> known = RowOf(e.contact_id);
  const std::string& n = e.name;
  bool created = n == "contact.created" ||
                 (n == "contact.imported" && e.properties.if_contains("created") &&
                  e.properties.at("created").is_bool() && e.properties.at("created").get_bool());
  if (!known && !created) return false;
  Row r = known ? *known : RowFor(e.contact_id, e.workspace_id);
  if (e.position > position_) position_ = e.position;
  if (created) {
    ApplyCreated(r, e);
  } else if (n == "contact.updated" || n == "contact.imported") {
    if (auto* c = e.properties.if_contains("changes"); c && c->is_object()) ApplyChanged(r, c->get_object());
    updated_at_[r] = ToMicros(e.occurred_at);
  } else if (n == "contact.status_changed") {
    if (auto* v = e.properties.if_contains("new"); v && v->is_string())
      if (auto s = ParseContactStatus(v->get_string())) SetStatus(r, *s);
    updated_at_[r] = ToMicros(e.occurred_at);
  } else if (n == "contact.erased") {
    ClearRow(r);
    SetStatus(r, ContactStatus::kErased);
    live_.Remove(r);
    workspace_rows_[workspace_[r]].Remove(r);
    return true;
  } else if (n == "topic.subscribed" || n == "topic.unsubscribed" || n == "topic.subscription_removed") {
    if (auto* v = e.properties.if_contains("topic"); v && v->is_string())
      topics_[std::string(v->get_string())].Set(r, n == "topic.subscribed");
  } else if (n == "lifecycle_changed") {
    // The analytics consumer's lifecycle stage (docs/analytics.md) as the text field `lifecycle`.
    if (auto* v = e.properties.if_contains("to"); v && v->is_string()) SetAttribute(r, "lifecycle", *v);
  }
  // Every event, the profile's own included, is behavior of its name.
  if (name_streams_.find(n) == name_streams_.end()) EnsureStream(StreamSpec{n, {}, {}});
  auto it = streams_by_event_.find(n);
  if (it != streams_by_event_.end() && live_.Contains(r))
    for (int s : it->second) AddToStream(*streams_[s], r, e);
  return true;
}

void ProfileIndex::ApplyToStream(int id, const Event& e) {
  EventStream& s = *streams_[id];
  if (s.spec.event != e.name) return;
  auto r = RowOf(e.contact_id);
  if (!r || !live_.Contains(*r)) return;
  AddToStream(s, *r, e);
}

void ProfileIndex::AddToStream(EventStream& s, Row r, const Event& e) {
  for (const PropertyFilter& f : s.spec.filters)
    if (!MatchProperty(e.properties, f)) return;
  double value = std::numeric_limits<double>::quiet_NaN();
  if (!s.spec.property.empty()) {
    const json::value* v = e.properties.if_contains(s.spec.property);
    if (v && v->is_number()) value = v->to_number<double>();
  }
  s.Add(r, ToMicros(e.occurred_at), value);
}

std::pair<int, bool> ProfileIndex::EnsureStream(const StreamSpec& spec) {
  std::string key = spec.Key();
  auto it = stream_keys_.find(key);
  if (it != stream_keys_.end()) {
    EventStream& existing = *streams_[it->second];
    if (existing.filled) return {it->second, false};
    existing.Reset();  // a fill that did not complete: from the start again
    return {it->second, true};
  }
  int id = static_cast<int>(streams_.size());
  auto s = std::make_unique<EventStream>();
  s->spec = spec;
  streams_.push_back(std::move(s));
  stream_keys_.emplace(key, id);
  streams_by_event_[spec.event].push_back(id);
  if (spec.filters.empty() && spec.property.empty()) name_streams_.emplace(spec.event, id);
  return {id, true};
}

void ProfileIndex::SetContact(const Contact& c) {
  Row r = RowFor(c.id, c.workspace_id);
  if (workspace_[r] != c.workspace_id) {
    workspace_rows_[workspace_[r]].Remove(r);
    workspace_[r] = c.workspace_id;
  }
  email_.Set(r, c.email);
  c.external_id ? external_id_.Set(r, *c.external_id) : external_id_.Clear(r);
  SetStatus(r, c.status);
  timezone_[r] = static_cast<uint16_t>(timezones_.Intern(c.timezone));
  locale_[r] = static_cast<uint16_t>(locales_.Intern(c.locale));
  created_at_[r] = ToMicros(c.created_at);
  updated_at_[r] = ToMicros(c.updated_at);
  for (auto& [name, col] : attributes_)
    if (!c.attributes.contains(name)) SetAttribute(r, name, nullptr);
  for (const auto& [k, v] : c.attributes) SetAttribute(r, std::string(k), v);
  if (c.status == ContactStatus::kErased) {
    live_.Remove(r);
    workspace_rows_[c.workspace_id].Remove(r);
  } else {
    live_.Add(r);
    workspace_rows_[c.workspace_id].Add(r);
  }
}

void ProfileIndex::SetSubscriptions(ContactId id, const std::vector<std::pair<std::string, bool>>& subs) {
  auto r = RowOf(id);
  if (!r) return;
  for (auto& [key, rows] : topics_) rows.Remove(*r);
  for (const auto& [key, on] : subs) topics_[key].Set(*r, on);
}

void ProfileIndex::MoveEvents(ContactId from, ContactId into) {
  auto rf = RowOf(from);
  auto ri = RowOf(into);
  if (!rf || !ri || *rf == *ri) return;
  for (auto& s : streams_) {
    const EventStream::Entries* src = s->For(*rf);
    if (!src) continue;
    const bool with_values = !s->spec.property.empty();
    std::vector<std::pair<int64_t, double>> moved;
    for (size_t i = 0; i < src->size(); ++i)
      moved.emplace_back(src->times()[i],
                         with_values ? src->value(i) : std::numeric_limits<double>::quiet_NaN());
    s->ClearRow(*rf);
    for (const auto& [time, value] : moved) s->Add(*ri, time, value);
  }
}

Schema ProfileIndex::SchemaFor(WorkspaceId) const {
  Schema s;
  for (const auto& [name, col] : attributes_) s.attributes.emplace(name, col->type);
  for (const auto& [name, id] : name_streams_) s.events.insert(name);
  return s;
}

IndexStats ProfileIndex::Stats() const {
  IndexStats st;
  st.contacts = live_.Cardinality();
  st.rows = ids_.size();
  size_t b = ids_.capacity() * 16 + workspace_.capacity() * 8 + email_.Bytes() + external_id_.Bytes() +
             status_.capacity() + timezone_.capacity() * 2 + locale_.capacity() * 2 +
             created_at_.capacity() * 8 + updated_at_.capacity() * 8 + live_.Bytes();
  for (const auto& bm : status_rows_) b += bm.Bytes();
  for (const auto& [ws, bm] : workspace_rows_) b += bm.Bytes();
  for (const auto& [name, col] : attributes_) b += col->Bytes();
  for (const auto& [key, bm] : topics_) b += bm.Bytes();
  for (const auto& s : streams_) {
    st.events += s->events;
    b += s->rows.Bytes() + s->slot.capacity() * 4 + s->entries.capacity() * sizeof(EventStream::Entries);
    for (const auto& e : s->entries) b += e.HeapBytes(!s->spec.property.empty());
    b += s->day_keys.capacity() * 8 + s->day_rows.capacity() * sizeof(Bitmap);
    for (const auto& bm : s->day_rows) b += bm.Bytes();
  }
  st.bytes = b;
  return st;
}

}  // namespace rapport::segment
