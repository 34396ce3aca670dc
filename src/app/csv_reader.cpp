#include "app/csv_reader.h"

#include <cstring>

namespace rapport::app {

namespace {

enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

constexpr std::string_view kAfterQuote =
    "a character follows a closing quote (quote the whole field and double the quotes inside)";
constexpr std::string_view kUnterminated = "a quoted field is not closed before the end of the file";

}  // namespace

CsvReader::CsvReader(std::istream& in, char separator, size_t chunk_size)
    : in_(in), separator_(separator), buffer_(chunk_size < 16 ? 16 : chunk_size) {}

bool CsvReader::Refill() {
  if (eof_) return false;
  in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  size_t n = static_cast<size_t>(in_.gcount());
  if (!in_) {
    eof_ = true;
    if (in_.bad()) failed_ = true;
  }
  bytes_read_ += n;
  pos_ = 0;
  end_ = n;
  if (first_chunk_) {
    first_chunk_ = false;
    if (n >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  }
  return n > 0;
}

bool CsvReader::Next(CsvRecord& record) {
  data_.clear();
  spans_.clear();
  record.error = {};
  State state = State::kFieldStart;
  size_t field_begin = 0;
  bool has_content = false;  // any byte of this record consumed (blank lines have none)
  record.line = line_;
  raw_.clear();
  size_t raw_begin = pos_;  // the first byte of buffer_ not yet copied to raw_
  auto take_raw = [&](size_t upto) {
    raw_.append(buffer_.data() + raw_begin, upto - raw_begin);
    raw_begin = upto;
  };

  auto end_field = [&] {
    spans_.emplace_back(field_begin, data_.size());
    field_begin = data_.size();
  };
  auto finish = [&] {
    record.fields.clear();
    record.fields.reserve(spans_.size());
    for (auto [b, e] : spans_) record.fields.emplace_back(data_.data() + b, e - b);
    record.raw = raw_;
    return true;
  };

  for (;;) {
    if (pos_ == end_) {
      take_raw(end_);
      if (Refill()) {
        raw_begin = pos_;
        continue;  // (a chunk may hold only a BOM)
      }
      if (!has_content) return false;
      if (state == State::kQuoted) record.error = kUnterminated;
      end_field();
      return finish();
    }
    const char* buf = buffer_.data();
    char c = buf[pos_];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') {
        ++pos_;
        raw_.clear();  // the line end of the previous record
        raw_begin = pos_;
        continue;
      }
    }
    switch (state) {
      case State::kFieldStart:
      case State::kUnquoted:
        if (state == State::kFieldStart && c == '"') {
          has_content = true;
          state = State::kQuoted;
          ++pos_;
          break;
        }
        if (c == separator_) {
          has_content = true;
          end_field();
          state = State::kFieldStart;
          ++pos_;
          break;
        }
        if (c == '\n' || c == '\r') {
          if (has_content) take_raw(pos_);
          ++pos_;
          ++line_;
          skip_lf_ = (c == '\r');
          if (!has_content) {  // an empty line: skip it
            record.line = line_;
            raw_.clear();
            raw_begin = pos_;
            break;
          }
          end_field();
          return finish();
        }
        {
          // A run of ordinary bytes (a quote inside an unquoted field is kept as it is).
          has_content = true;
          state = State::kUnquoted;
          size_t p = pos_;
          while (p < end_ && buf[p] != separator_ && buf[p] != '\n' && buf[p] != '\r') ++p;
          data_.append(buf + pos_, p - pos_);
          pos_ = p;
        }
        break;
      case State::kQuoted: {
        size_t p = pos_;
        while (p < end_ && buf[p] != '"') {
          if (buf[p] == '\n') ++line_;
          ++p;
        }
        data_.append(buf + pos_, p - pos_);
        pos_ = p;
        if (p < end_) {  // the quote
          state = State::kQuoteInQuoted;
          ++pos_;
        }
        break;
      }
      case State::kQuoteInQuoted:
        if (c == '"') {  // a doubled quote
          data_.push_back('"');
          state = State::kQuoted;
          ++pos_;
        } else if (c == separator_ || c == '\n' || c == '\r') {
          state = State::kUnquoted;  // handled as the end of an unquoted field
        } else {
          if (record.error.empty()) record.error = kAfterQuote;
          state = State::kUnquoted;
        }
        break;
    }
  }
}

void AppendCsvField(std::string& out, std::string_view field, char separator) {
  bool quote = !field.empty() && (field.front() == ' ' || field.back() == ' ');
  for (char c : field) {
    if (c == separator || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRow(std::string& out, const std::vector<std::string_view>& fields, char separator) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(separator);
    AppendCsvField(out, fields[i], separator);
  }
}

}  // namespace rapport::app
