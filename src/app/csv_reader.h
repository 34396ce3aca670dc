// A streaming RFC 4180 CSV reader and the matching field writer.
//
// CsvReader reads records from an std::istream in 1 MiB chunks: quoted fields with embedded
// separators, doubled quotes and line breaks; CRLF, LF or CR line ends; a leading UTF-8 BOM is
// skipped; empty lines are skipped. Each record carries the physical line (1-based) where it
// starts. A malformed record (a character after a closing quote, a quote left open at the end
// of the input) is still returned, with `error` set and the fields as far as they could be read,
// so that the caller can report it and go on. Each record also carries its raw bytes as they
// were in the input (quotes, separators and embedded line breaks included, its own line end
// excluded), so that a rejected row can be written back unchanged. Fields are views into the reader's buffer,
// valid until the next call to Next(); a record costs no allocation once the buffers have grown. Not
// thread-safe (one reader per stream).
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::app {

struct CsvRecord {
  std::vector<std::string_view> fields;  // valid until the next CsvReader::Next()
  int64_t line = 0;                      // physical line where the record starts (1-based)
  std::string_view error;                // not empty: the record is malformed, and why
  std::string_view raw;                  // the record's bytes exactly as in the input, without its line end
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, char separator = ',', size_t chunk_size = 1 << 20);

  // Reads the next record into `record`; false at the end of the input (or a read error: see
  // failed()).
  bool Next(CsvRecord& record);
  // Bytes read from the stream so far (for progress).
  uint64_t bytes_read() const { return bytes_read_; }
  // True when the stream failed for another reason than its end.
  bool failed() const { return failed_; }

 private:
  bool Refill();

  std::istream& in_;
  const char separator_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool failed_ = false;
  bool first_chunk_ = true;
  bool skip_lf_ = false;  // a CR ended the last line; a following LF belongs to it
  int64_t line_ = 1;      // the physical line of buffer_[pos_]
  uint64_t bytes_read_ = 0;
  std::string data_;                              // the current record's field bytes, unescaped
  std::vector<std::pair<size_t, size_t>> spans_;  // [begin, end) of each field in data_
  std::string raw_;                               // the current record's input bytes
};

// Appends `field` to `out`, quoted when it holds a separator, a quote, CR or LF, or starts or
// ends with a space.
void AppendCsvField(std::string& out, std::string_view field, char separator = ',');
// Appends the fields joined by `separator` (no line end).
void AppendCsvRow(std::string& out, const std::vector<std::string_view>& fields, char separator = ',');

}  // namespace rapport::app
