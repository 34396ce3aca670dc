// The tracking hit log's reader (tracking/hit_record.h) on arbitrary file contents: it must never
// crash, never read past the data, and every record it accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tracking/hit_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t last = 0;
  rapport::tracking::HitScan scan =
      rapport::tracking::ScanHitRecords(in, [&](rapport::tracking::HitRecord&& r, size_t end) {
        std::string again;
        rapport::tracking::EncodeHitRecord(r, again);
        if (in.substr(last, end - last) != again) std::abort();
        last = end;
        (void)rapport::tracking::HitRecordEvent(r);
      });
  if (scan.valid_end != last || scan.valid_end > size || scan.clean != (scan.valid_end == size)) std::abort();
  return 0;
}
