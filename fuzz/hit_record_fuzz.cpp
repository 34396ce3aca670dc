// The tracking hit log's reader (tracking/hit_record.h) on arbitrary file contents: it must never
// crash, never read past the data, and every record it accepts must encode back to the same bytes
// (a version 1 record, which encodes as version 2, to a frame that decodes to the same record).
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
        const bool current = in[last + rapport::tracking::kHitFrameHeader] == 2;
        if (current && in.substr(last, end - last) != again) std::abort();
        if (!current) {
          auto back = rapport::tracking::DecodeHitPayload(
              std::string_view(again).substr(rapport::tracking::kHitFrameHeader));
          // The same record, unless the v1 frame was within 4 bytes of the limit (the added
          // string's length then cuts the longest string).
          const bool fits =
              end - last + 4 <= rapport::tracking::kHitFrameHeader + rapport::tracking::kMaxHitPayload;
          if (!back.ok() || (fits && !(*back == r))) std::abort();
        }
        last = end;
        (void)rapport::tracking::HitRecordEvent(r);
      });
  if (scan.valid_end != last || scan.valid_end > size || scan.clean != (scan.valid_end == size)) std::abort();
  return 0;
}
