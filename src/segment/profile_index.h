// ProfileIndex: every contact's profile in memory, laid out for scans, kept current from the feed.
//
// Rows: each contact gets a dense row number (uint32) in the order the index first sees it; a
// row is never reused (an erased contact's row leaves `live`). Contact ids grow with time, so
// rows are in id order and RowOf is a binary search.
// Columns: the contact's fields (status as one bitmap per status, workspace as one bitmap per
// workspace, timezone and locale dictionary-encoded, times as int64 microseconds) and one typed
// column per custom attribute (AttributeColumn: numbers as a NumberColumn, int8/16/32 codes while
// every value is a small integer, doubles otherwise; text dictionary-encoded as 1-4 byte codes,
// dates as days, timestamps as microseconds, booleans as a bitmap, lists as codes; a value whose
// type differs from its column's is kept aside, exactly).
// Topics: one bitmap of subscribed rows per topic key.
// Behavior: one EventStream per event name (every event's time, 8 bytes an event) and, where a
// segment asks, one per (event name, property filters, aggregated property) holding the times
// (and values) of the events that pass the filters.
//
// Apply() takes the feed's events in order: contact.* and topic.* events change the profile
// (docs/events.md), and every event adds to the streams of its name. Pure: no I/O, no clock.
// Thread-safety: none inside; the owner (SegmentService) guards it with a shared mutex.
#pragma once

#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model.h"
#include "segment/ast.h"
#include "segment/bitmap.h"
#include "segment/checker.h"
#include "segment/code_column.h"
#include "segment/number_column.h"
#include "segment/string_column.h"

namespace rapport::segment {

using Row = uint32_t;

// Strings to dense codes, with each string's lower case kept for case-insensitive matching.
class Dictionary {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  const std::string& At(uint32_t code) const { return values_[code]; }
  const std::string& LowerAt(uint32_t code) const { return lower_[code]; }
  size_t size() const { return values_.size(); }
  size_t Bytes() const;

 private:
  std::vector<std::string> values_;
  std::vector<std::string> lower_;
  std::unordered_map<std::string, uint32_t> codes_;
};

std::string AsciiLower(std::string_view s);

// One custom attribute over all rows.
struct AttributeColumn {
  ValueType type = ValueType::kUnknown;        // the type of the first value seen
  Bitmap present;                              // rows holding a value of `type`
  NumberColumn numbers;                        // kNumber (int codes while the values allow)
  CodeColumn codes;                            // kString (uint8/16/32 by the dictionary's size)
  std::vector<int64_t> times;                  // kDate: days since 1970-01-01; kTimestamp: microseconds
  Bitmap truth;                                // kBool: rows whose value is true
  std::vector<std::vector<uint32_t>> lists;    // kList: codes of the items (as text)
  Dictionary dict;                             // kString, kList
  std::unordered_map<Row, json::value> other;  // rows whose value has another type
  // kString with few distinct values (up to kMaxCodeBitmaps): the rows holding each code, so
  // that `=` and `in` are a union of bitmaps instead of a pass over `codes`. Dropped for good
  // when the dictionary outgrows the limit (a bitmap per value would cost more than it saves).
  static constexpr size_t kMaxCodeBitmaps = 4096;
  std::vector<Bitmap> code_rows;
  bool has_code_rows = true;
  void Unindex(Row r);  // takes r's current value out of code_rows
  void Index(Row r);    // puts r's current value into code_rows
  size_t Bytes() const;
};

// What events a stream keeps: all of one name, or those passing property filters; with the
// value of `property` when a sum, min or max needs it.
struct StreamSpec {
  std::string event;
  std::vector<PropertyFilter> filters;
  std::string property;
  std::string Key() const;
};

struct EventStream {
  StreamSpec spec;
  Bitmap rows;                 // rows with at least one event
  std::vector<uint32_t> slot;  // row -> 1 + index into entries; 0: none
  // One row's events: times ascending (microseconds) and, when spec.property is set, a value per
  // time (NaN: absent), in one allocation of `cap` times then `cap` values. 16 bytes and no
  // allocation at all for a row with one event in a stream without values (the time is kept in
  // place of the pointer).
  class Entries {
   public:
    Entries() = default;
    ~Entries() { Free(); }
    Entries(Entries&& o) noexcept : u_(o.u_), size_(o.size_), cap_(o.cap_) { o.Reset(); }
    Entries& operator=(Entries&& o) noexcept {
      if (this != &o) {
        Free();
        u_ = o.u_;
        size_ = o.size_;
        cap_ = o.cap_;
        o.Reset();
      }
      return *this;
    }
    Entries(const Entries&) = delete;
    Entries& operator=(const Entries&) = delete;

    size_t size() const { return size_; }
    std::span<const int64_t> times() const {
      return cap_ == 0 ? std::span<const int64_t>(&u_.time, size_) : std::span<const int64_t>(u_.data, size_);
    }
    // The value of the i-th event (streams with values only).
    double value(size_t i) const { return std::bit_cast<double>(u_.data[cap_ + i]); }
    // Inserts after the events at the same time (so equal times keep their arrival order).
    void Insert(int64_t time, double value, bool with_values);
    void Clear() {
      Free();
      Reset();
    }
    size_t HeapBytes(bool with_values) const { return size_t{cap_} * 8 * (with_values ? 2 : 1); }

   private:
    void Free() {
      if (cap_) delete[] u_.data;
    }
    void Reset() {
      u_.data = nullptr;
      size_ = cap_ = 0;
    }
    union {
      int64_t* data;
      int64_t time;  // cap_ == 0 and size_ == 1
    } u_{nullptr};
    uint32_t size_ = 0;
    uint32_t cap_ = 0;
  };
  std::vector<Entries> entries;
  // False while the log is replayed into a stream made for a new expression (SegmentService's
  // backfill: MarkFilling, then MarkFilled once it completes). A stream whose fill failed (a store
  // error, a stop) stays unfilled, and EnsureStream empties it and hands it out as new again, so
  // that no count ever reads a half-filled stream as complete.
  bool filled = true;
  // Takes every event out (every row's, the day bitmaps' contents), keeping the spec and days_on.
  void Reset();
  const Entries* For(Row r) const { return r < slot.size() && slot[r] ? &entries[slot[r] - 1] : nullptr; }
  void Add(Row r, int64_t time, double value);
  // Takes every event of row r out (its entries, its bit in `rows` and in `days`).
  void ClearRow(Row r);
  size_t events = 0;

  // By UTC day (microseconds / 86,400,000,000, rounded down): the rows with at least one event
  // that day. A window of D days is then the union of the days inside it and an exact look at
  // the rows of its two edge days, instead of a binary search in every row's times. Kept only
  // for streams a count in a window reads (EnableDays, from BindStreams): a few bytes an event.
  bool days_on = false;
  void EnableDays();
  // Flat and sorted by day (a lookup is a binary search in one array, not a walk down a tree).
  std::vector<int64_t> day_keys;
  std::vector<Bitmap> day_rows;
  Bitmap& Day(int64_t day);                 // created when new
  Bitmap* FindDay(int64_t day);             // null when none
  size_t FirstDayAfter(int64_t day) const;  // index into day_keys
  // Rows with at least one event at a time in [from, to].
  Bitmap RowsWithEventIn(int64_t from, int64_t to) const;
  static int64_t DayOf(int64_t micros);
};

// Does an event's property satisfy a filter? (shared by the index and the SQL oracle's tests)
bool MatchProperty(const json::object& properties, const PropertyFilter& f);

struct IndexStats {
  size_t contacts = 0;  // live rows
  size_t rows = 0;
  size_t events = 0;  // events kept in streams (each counted once per stream)
  size_t bytes = 0;   // approximate heap bytes of the whole index
};

class ProfileIndex {
 public:
  ProfileIndex();

  // Applies one event of the feed (in feed order). Returns false when the event names a contact
  // the index has not seen created (the caller may fetch it from the store and SetContact).
  bool Apply(const Event& e);
  // Sets a contact's whole profile (after a merge, or to fill in one the feed did not create).
  void SetContact(const Contact& c);
  // Replaces a contact's topic subscriptions (key, subscribed).
  void SetSubscriptions(ContactId id, const std::vector<std::pair<std::string, bool>>& subs);
  // Moves every event of `from` onto `into` (a merge moved them in the store).
  void MoveEvents(ContactId from, ContactId into);

  // Registers the stream a behavior needs. Returns its id and whether the caller must fill it by
  // replaying the log through ApplyToStream: true for a stream created just now, and for one
  // whose earlier fill never completed (MarkFilling without MarkFilled), emptied first.
  std::pair<int, bool> EnsureStream(const StreamSpec& spec);
  void MarkFilling(int stream) { streams_[stream]->filled = false; }
  void MarkFilled(int stream) { streams_[stream]->filled = true; }
  void ApplyToStream(int stream, const Event& e);
  void EnableDays(int stream) { streams_[stream]->EnableDays(); }
  const EventStream& stream(int id) const { return *streams_[id]; }
  // The stream of every event of that name, or -1.
  int NameStream(std::string_view event) const;

  std::optional<Row> RowOf(ContactId id) const;
  ContactId IdOf(Row r) const { return ids_[r]; }
  Row rows() const { return static_cast<Row>(ids_.size()); }
  const Bitmap& live() const { return live_; }
  // Live rows of a workspace (empty bitmap for an unknown one).
  const Bitmap& Workspace(WorkspaceId ws) const;
  WorkspaceId WorkspaceOf(Row r) const { return workspace_[r]; }

  // Contact fields.
  std::string_view Email(Row r) const { return email_.Get(r); }
  std::optional<std::string_view> ExternalId(Row r) const {
    return external_id_.Has(r) ? std::optional<std::string_view>(external_id_.Get(r)) : std::nullopt;
  }
  ContactStatus Status(Row r) const { return static_cast<ContactStatus>(status_[r]); }
  const Bitmap& StatusRows(ContactStatus s) const { return status_rows_[static_cast<int>(s)]; }
  const std::string& Timezone(Row r) const { return timezones_.At(timezone_[r]); }
  uint16_t TimezoneCode(Row r) const { return timezone_[r]; }
  const std::string& TimezoneName(uint16_t code) const { return timezones_.At(code); }
  const std::string& Locale(Row r) const { return locales_.At(locale_[r]); }
  int64_t CreatedAt(Row r) const { return created_at_[r]; }
  int64_t UpdatedAt(Row r) const { return updated_at_[r]; }
  const AttributeColumn* Attribute(std::string_view name) const;
  const Bitmap* TopicRows(std::string_view key) const;
  // The attribute's value for a row as JSON (null when absent).
  json::value AttributeValue(const AttributeColumn& c, Row r) const;

  // What the checker may resolve names against: attributes and their types, event names, topic
  // keys seen in the workspace (segments are added by the caller).
  Schema SchemaFor(WorkspaceId ws) const;
  IndexStats Stats() const;

  // The feed position of the last event applied (kept by the caller).
  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }

 private:
  Row RowFor(ContactId id, WorkspaceId ws);  // creates the row when new
  // Run-length encodes the bitmaps over all rows where that is smaller (a workspace's, a status's
  // or an attribute's rows are mostly whole ranges: 153 runs at 10M rows instead of 1.25 MB of
  // bits, and intersecting with a whole run is a copy). CRoaring keeps containers as they are
  // when rows are added, so RowFor calls this once per kChunkRows new rows.
  void CompactBitmaps();
  static constexpr Row kChunkRows = 65536;  // one CRoaring container's rows
  void SetAttribute(Row r, const std::string& name, const json::value& v);
  void ClearRow(Row r);
  void SetStatus(Row r, ContactStatus s);
  void ApplyCreated(Row r, const Event& e);
  void ApplyChanged(Row r, const json::object& changes);
  void AddToStream(EventStream& s, Row r, const Event& e);  // when it passes the stream's filters

  std::vector<ContactId> ids_;                    // row -> contact id
  std::vector<ContactId> search_ids_;             // non-decreasing keys for RowOf's binary search
  std::unordered_map<ContactId, Row> late_rows_;  // contacts whose id is below an existing row's
  Bitmap live_;
  std::vector<WorkspaceId> workspace_;
  std::map<WorkspaceId, Bitmap> workspace_rows_;
  Bitmap empty_;
  StringColumn email_;
  StringColumn external_id_;
  std::vector<uint8_t> status_;
  Bitmap status_rows_[5];
  Dictionary timezones_;
  Dictionary locales_;
  std::vector<uint16_t> timezone_;
  std::vector<uint16_t> locale_;
  std::vector<int64_t> created_at_;
  std::vector<int64_t> updated_at_;
  std::map<std::string, std::unique_ptr<AttributeColumn>, std::less<>> attributes_;
  std::map<std::string, Bitmap, std::less<>> topics_;
  std::vector<std::unique_ptr<EventStream>> streams_;
  std::unordered_map<std::string, int> stream_keys_;
  std::unordered_map<std::string, std::vector<int>> streams_by_event_;
  std::unordered_map<std::string, int> name_streams_;
  int64_t position_ = 0;
};

}  // namespace rapport::segment
