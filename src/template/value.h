// Value: the data a Liquid template reads, and Arena: the memory those values live in.
//
// A Value is a small trivially-copyable view (24 bytes): nil, bool, int64, double, string, array,
// object, range (a..b), the empty/blank literals, or a loop object (forloop / tablerowloop).
// Strings, arrays and objects point into storage owned elsewhere: the caller's
// boost::json::value (FromJson keeps string_views into it), the compiled template (literals), or
// an Arena (values made while rendering). A Value is valid as long as that storage is.
//
// Objects keep insertion order (like Ruby hashes) and look keys up linearly when small and by
// binary search over a sorted index when large.
//
// Thread-safety: Values are immutable views; an Arena is single-threaded.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace rapport::liquid {

class Value;
struct ArrayData;
struct ObjectData;
struct LoopState;

// A bump allocator for values made while rendering or converting data. Memory is released when
// the arena is destroyed or Reset (Reset keeps the largest block for reuse).
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* Allocate(size_t bytes, size_t align = alignof(std::max_align_t));
  template <typename T>
  T* AllocateArray(size_t n) {
    return static_cast<T*>(Allocate(sizeof(T) * (n == 0 ? 1 : n), alignof(T)));
  }
  char* AllocateChars(size_t n) { return static_cast<char*>(Allocate(n == 0 ? 1 : n, 1)); }
  std::string_view Copy(std::string_view s);
  // Gives back the unused end of the latest allocation: `p` was allocated with `allocated` bytes
  // and only `used` are kept. Does nothing when something was allocated after p.
  void TrimLast(const char* p, size_t allocated, size_t used) {
    if (p + allocated == cur_ && used <= allocated) {
      cur_ -= allocated - used;
      left_ += allocated - used;
      used_total_ -= allocated - used;
    }
  }
  void Reset();
  size_t bytes_used() const { return used_total_; }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t used_total_ = 0;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kNil,
    kBool,
    kInt,
    kDouble,
    kString,
    kArray,
    kObject,
    kRange,
    kEmpty,
    kBlank,
    kLoop
  };

  constexpr Value() : kind_(Kind::kNil), a_(0), b_(0) {}
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.a_ = b;
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.kind_ = Kind::kInt;
    v.a_ = i;
    return v;
  }
  static Value Double(double d) {
    Value v;
    v.kind_ = Kind::kDouble;
    std::memcpy(&v.a_, &d, sizeof d);
    return v;
  }
  static Value String(std::string_view s) {
    Value v;
    v.kind_ = Kind::kString;
    v.a_ = reinterpret_cast<intptr_t>(s.data());
    v.b_ = static_cast<int64_t>(s.size());
    return v;
  }
  static Value Array(const ArrayData* a) {
    Value v;
    v.kind_ = Kind::kArray;
    v.a_ = reinterpret_cast<intptr_t>(a);
    return v;
  }
  static Value Object(const ObjectData* o) {
    Value v;
    v.kind_ = Kind::kObject;
    v.a_ = reinterpret_cast<intptr_t>(o);
    return v;
  }
  static Value Range(int64_t lo, int64_t hi) {
    Value v;
    v.kind_ = Kind::kRange;
    v.a_ = lo;
    v.b_ = hi;
    return v;
  }
  static Value Empty() {
    Value v;
    v.kind_ = Kind::kEmpty;
    return v;
  }
  static Value Blank() {
    Value v;
    v.kind_ = Kind::kBlank;
    return v;
  }
  static Value Loop(const LoopState* l) {
    Value v;
    v.kind_ = Kind::kLoop;
    v.a_ = reinterpret_cast<intptr_t>(l);
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_double() const { return kind_ == Kind::kDouble; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_range() const { return kind_ == Kind::kRange; }

  bool as_bool() const { return a_ != 0; }
  int64_t as_int() const { return a_; }
  double as_double() const {
    double d;
    std::memcpy(&d, &a_, sizeof d);
    return d;
  }
  double as_number() const { return is_int() ? static_cast<double>(a_) : as_double(); }
  std::string_view as_string() const { return {reinterpret_cast<const char*>(a_), static_cast<size_t>(b_)}; }
  const ArrayData& as_array() const { return *reinterpret_cast<const ArrayData*>(a_); }
  const ObjectData& as_object() const { return *reinterpret_cast<const ObjectData*>(a_); }
  const LoopState& as_loop() const { return *reinterpret_cast<const LoopState*>(a_); }
  int64_t range_first() const { return a_; }
  int64_t range_last() const { return b_; }

  // Liquid truthiness: only nil and false are falsy.
  bool Truthy() const { return !(kind_ == Kind::kNil || (kind_ == Kind::kBool && a_ == 0)); }

 private:
  Kind kind_;
  int64_t a_;
  int64_t b_;
};

// Key and variable-name equality, rejecting on length and first byte before comparing the rest:
// most comparisons in a lookup are misses.
inline bool SameKey(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  if (a[0] != b[0]) return false;
  return std::memcmp(a.data() + 1, b.data() + 1, a.size() - 1) == 0;
}

struct ArrayData {
  const Value* items = nullptr;
  size_t size = 0;
  const Value* begin() const { return items; }
  const Value* end() const { return items + size; }
};

struct Member {
  std::string_view key;
  Value value;
};

// A lookup site's guess of where a key sits in the objects it sees: objects made from data of
// one shape keep their keys at the same index, so the guess is usually right and a lookup costs
// one key comparison. A template's lookup sites are shared by the threads rendering it, hence
// the relaxed atomic; a guess is always checked before it is used.
class LookupHint {
 public:
  LookupHint() = default;
  LookupHint(const LookupHint& other) : index_(other.get()) {}
  LookupHint& operator=(const LookupHint& other) {
    set(other.get());
    return *this;
  }
  uint32_t get() const { return index_.load(std::memory_order_relaxed); }
  void set(uint32_t i) { index_.store(i, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> index_{0};
};

struct ObjectData {
  const Member* members = nullptr;
  size_t size = 0;
  const uint32_t* sorted = nullptr;  // member indexes sorted by key; null when size is small
  bool unique_keys = false;          // no key appears twice, so a hinted index can be trusted
  const Value* Find(std::string_view key) const {
    size_t i = FindIndex(key);
    return i == kNone ? nullptr : &members[i].value;
  }
  // As Find, trying the hinted index first and remembering where the key was found.
  const Value* Find(std::string_view key, LookupHint& hint) const {
    uint32_t h = hint.get();
    if (unique_keys && h < size && SameKey(members[h].key, key)) return &members[h].value;
    size_t i = FindIndex(key);
    if (i == kNone) return nullptr;
    if (unique_keys) hint.set(static_cast<uint32_t>(i));
    return &members[i].value;
  }
  // The index of the last member named `key`, or kNone.
  static constexpr size_t kNone = static_cast<size_t>(-1);
  size_t FindIndex(std::string_view key) const;
};

// Builds arrays and objects in an arena.
const ArrayData* MakeArray(Arena& arena, const Value* items, size_t n);
// Members are copied; keys must outlive the object. Duplicate keys: the last one wins on lookup.
const ObjectData* MakeObject(Arena& arena, const Member* members, size_t n);

// Converts a JSON tree. Strings and keys are views into `json`, which must outlive the result;
// arrays and objects are allocated in `arena`.
Value FromJson(const boost::json::value& json, Arena& arena);

// Ruby's Float#to_s ("1.0", "0.30000000000000004", "1.0e+20").
void AppendRubyFloat(std::string& out, double d);
// The same into `buf` (at least kRubyFloatChars bytes); returns the length.
constexpr size_t kRubyFloatChars = 40;
size_t FormatRubyFloat(double d, char* buf);
// Ruby's Integer#to_s.
void AppendInt(std::string& out, int64_t i);
// How Liquid prints a value into output: nil and empty -> "", arrays joined recursively,
// objects as Ruby's Hash#inspect.
void AppendValue(std::string& out, const Value& v);
// Ruby's #inspect (used inside printed hashes and arrays in hashes).
void AppendInspect(std::string& out, const Value& v);
// Ruby ==, with int/float comparing numerically.
bool ValueEquals(const Value& a, const Value& b);
// Ruby's #to_s: like AppendValue except that arrays print as Ruby's Array#inspect.
void AppendToS(std::string& out, const Value& v);
// The value's #to_s, without allocating when it already is a string.
std::string_view ToStringView(const Value& v, Arena& arena);

}  // namespace rapport::liquid
