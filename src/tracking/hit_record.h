// One open or click as the tracking hit log keeps it (http/hit_log.h): the facts of the hit that
// its "email_opened" / "email_clicked" event carries, already classified and with the client's
// address already truncated, so the full address never reaches a file. Pure: encoding, decoding
// and the event are functions of the bytes and nothing else.
//
// A record on disk is a frame: payload length (u32, little endian, 1..kMaxHitPayload), CRC-32C
// of the payload (u32 LE), then the payload: version (2; 1 is still read), kind (0 open, 1
// click, 2 web view: version 2 only), flags (bit 0: machine; no other bit may be set), workspace, contact,
// message (i64 LE each), the hit's time (i64 LE, unix microseconds), the link index (i32 LE; 0 for an open),
// then eight strings (seven in version 1), each a u32 LE length and its bytes: template, message class, url,
// user agent, ip, method, machine reason, and (version 2) the message's source (OutboxMessage::source).
// Nothing may follow the last string. A frame that is cut short, too long, fails its CRC or does not decode
// ends the readable part of a file (ScanHitRecords).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "tracking/machine_classifier.h"

namespace rapport::tracking {

inline constexpr size_t kHitFrameHeader = 8;
inline constexpr size_t kMaxHitPayload = 64 * 1024;

struct HitRecord {
  HitKind kind = HitKind::kOpen;
  int64_t workspace_id = 0;
  int64_t contact_id = 0;
  int64_t message_id = 0;
  Timestamp at{};
  int32_t link_index = 0;
  std::string template_name;  // empty: none
  std::string message_class;  // "marketing", "transactional"
  std::string url;            // a click's target; empty for an open
  std::string user_agent;     // at most 512 bytes kept
  std::string ip;             // truncated (/24, /48 by default)
  std::string method;         // "GET", "HEAD"
  bool machine = false;
  std::string machine_reason;  // empty for a person
  std::string source;          // the message's OutboxMessage::source ("campaign:7"); may be empty
  bool operator==(const HitRecord&) const = default;
};

// Appends r's frame to `out`. Strings longer than the frame allows are cut (the user agent to 512
// bytes first; a frame never exceeds kMaxHitPayload).
void EncodeHitRecord(const HitRecord& r, std::string& out);

// The payload of one frame (without its header) as a record; kInvalid when it does not decode.
Result<HitRecord> DecodeHitPayload(std::string_view payload);

struct HitScan {
  size_t valid_end = 0;  // offset after the last whole, valid frame
  bool clean = true;     // false: bytes follow valid_end that are not a whole valid frame
};
// Reads the frames of `data` in order, calling on_record(record, end) with the offset after each;
// stops at the first frame that is cut short or invalid.
HitScan ScanHitRecords(std::string_view data, const std::function<void(HitRecord&&, size_t end)>& on_record);

// The record's event: "email_opened" or "email_clicked" for its contact (never creating one),
// occurred at the hit's time, with the properties docs/events.md lists.
NewEvent HitRecordEvent(const HitRecord& r);

uint32_t Crc32c(std::string_view data);
// The same by table, a byte at a time (what Crc32c does on a processor without SSE 4.2).
uint32_t Crc32cPortable(std::string_view data);

}  // namespace rapport::tracking
