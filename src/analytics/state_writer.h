// StateWriter: builds a fold's entity state (JSON) in a buffer on the stack and appends it to its
// string in few appends (pure, no I/O).
//
// The analytics fold writes a state for every contact and message a batch touched: about one per
// event, a million a second. Appended field by field to a std::string, each key and number was a
// call with a capacity check and a memcpy of a few bytes; those calls were a third of the
// writes' cost (bench/RESULTS.md, "## analytics"). Here a key is a copy of known size (the
// compiler writes it inline) and a number is formatted in place; one check of the room left per
// field, and the buffer goes to the string when full and at the end.
//
// Strings are written as they are: for keys and values that need no JSON escaping (Str), or
// escaped (JsonStr).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/json_write.h"

namespace rapport::analytics {

class StateWriter {
 public:
  explicit StateWriter(std::string& out) : out_(out) {}
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;
  ~StateWriter() { Flush(); }

  // Text that needs no escaping, of a size known at compile time (a key with its quotes).
  template <size_t N>
  StateWriter& Lit(const char (&text)[N]) {
    static_assert(N - 1 <= kRoom);
    Room(N - 1);
    std::memcpy(p_, text, N - 1);
    p_ += N - 1;
    return *this;
  }
  // Text that needs no escaping.
  StateWriter& Str(std::string_view text) {
    if (text.size() > kRoom) {
      Flush();
      out_.append(text);
      return *this;
    }
    Room(text.size());
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
    return *this;
  }
  // A JSON string, quoted and escaped (core/json_write.h).
  StateWriter& JsonStr(std::string_view text) {
    Flush();
    AppendJsonString(out_, text);
    return *this;
  }
  StateWriter& Int(int64_t v) {
    Room(20);
    p_ = std::to_chars(p_, p_ + 20, v).ptr;
    return *this;
  }
  StateWriter& Num(double v) {
    Room(kMaxJsonNumber);
    p_ = WriteJsonNumber(p_, v);
    return *this;
  }
  StateWriter& Bool(bool v) { return v ? Lit("true") : Lit("false"); }
  StateWriter& Char(char c) {
    Room(1);
    *p_++ = c;
    return *this;
  }
  void Flush() {
    out_.append(buf_, p_);
    p_ = buf_;
  }

 private:
  static constexpr size_t kRoom = 256;  // the most one field may need
  void Room(size_t n) {
    if (static_cast<size_t>(buf_ + sizeof buf_ - p_) < n) Flush();
  }
  std::string& out_;
  char buf_[1024];
  char* p_ = buf_;
};

}  // namespace rapport::analytics
