#include "tracking/hit_record.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/outbox.h"

namespace rapport::tracking {

namespace {

// Version 2 adds the message's source (an eighth string); version 1 records, written before,
// still decode (with no source).
constexpr uint8_t kVersion = 2;
constexpr uint8_t kMachineFlag = 1;
constexpr size_t kFixed = 3 + 4 * 8 + 4;  // version, kind, flags; 4 x i64; link index
constexpr size_t kMaxAgent = 512;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

void PutU32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

void PutI64(std::string& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  out.append(b, 8);
}

uint64_t GetU(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (in_.size() - at_ < 1) return false;
    v = static_cast<uint8_t>(in_[at_++]);
    return true;
  }
  bool I64(int64_t& v) {
    if (in_.size() - at_ < 8) return false;
    v = static_cast<int64_t>(GetU(in_, at_, 8));
    at_ += 8;
    return true;
  }
  bool I32(int32_t& v) {
    if (in_.size() - at_ < 4) return false;
    v = static_cast<int32_t>(static_cast<uint32_t>(GetU(in_, at_, 4)));
    at_ += 4;
    return true;
  }
  bool Str(std::string& s) {
    if (in_.size() - at_ < 4) return false;
    uint64_t n = GetU(in_, at_, 4);
    at_ += 4;
    if (in_.size() - at_ < n) return false;
    s.assign(in_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool AtEnd() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  size_t at_ = 0;
};

}  // namespace

namespace {

uint32_t Crc32cTable(std::string_view data) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xffffffffu;
  for (char ch : data) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C, 8 bytes at a time: a hit's frame is checked on its
// write and on its load, and the table's byte at a time was 3% of the loader's time.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(std::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t c = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
  return c32 ^ 0xffffffffu;
}
#endif

}  // namespace

uint32_t Crc32c(std::string_view data) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return Crc32cSse42(data);
#endif
  return Crc32cTable(data);
}

uint32_t Crc32cPortable(std::string_view data) { return Crc32cTable(data); }

void EncodeHitRecord(const HitRecord& r, std::string& out) {
  std::string_view agent = std::string_view(r.user_agent).substr(0, kMaxAgent);
  std::string_view strings[] = {r.template_name, r.message_class,  r.url,   agent, r.ip,
                                r.method,        r.machine_reason, r.source};
  // Keep the frame within kMaxHitPayload: the longest string (a URL, in practice) is cut first.
  const size_t budget = kMaxHitPayload - kFixed - 4 * std::size(strings);
  size_t total = 0;
  for (std::string_view v : strings) total += v.size();
  while (total > budget) {
    std::string_view* longest = &strings[0];
    for (auto& v : strings)
      if (v.size() > longest->size()) longest = &v;
    size_t cut = std::min(longest->size(), total - budget);
    *longest = longest->substr(0, longest->size() - cut);
    total -= cut;
  }
  size_t header_at = out.size();
  out.append(kHitFrameHeader, '\0');
  size_t payload_at = out.size();
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(r.kind == HitKind::kClick ? 1 : r.kind == HitKind::kView ? 2 : 0));
  out.push_back(static_cast<char>(r.machine ? kMachineFlag : 0));
  PutI64(out, r.workspace_id);
  PutI64(out, r.contact_id);
  PutI64(out, r.message_id);
  PutI64(out, ToMicros(r.at));
  PutU32(out, static_cast<uint32_t>(r.link_index));
  for (std::string_view s : strings) {
    PutU32(out, static_cast<uint32_t>(s.size()));
    out.append(s);
  }
  std::string_view payload(out.data() + payload_at, out.size() - payload_at);
  std::string header;
  PutU32(header, static_cast<uint32_t>(payload.size()));
  PutU32(header, Crc32c(payload));
  std::memcpy(out.data() + header_at, header.data(), kHitFrameHeader);
}

Result<HitRecord> DecodeHitPayload(std::string_view payload) {
  Reader in(payload);
  HitRecord r;
  uint8_t version = 0, kind = 0, flags = 0;
  int64_t at = 0;
  if (!in.U8(version) || version < 1 || version > kVersion)
    return Error::Invalid("hit", "unknown hit record version");
  if (!in.U8(kind) || kind > 2 || (kind == 2 && version < 2))
    return Error::Invalid("hit", "unknown hit kind");
  if (!in.U8(flags) || (flags & ~kMachineFlag) != 0) return Error::Invalid("hit", "unknown hit flags");
  r.kind = kind == 1 ? HitKind::kClick : kind == 2 ? HitKind::kView : HitKind::kOpen;
  r.machine = (flags & kMachineFlag) != 0;
  if (!in.I64(r.workspace_id) || !in.I64(r.contact_id) || !in.I64(r.message_id) || !in.I64(at) ||
      !in.I32(r.link_index))
    return Error::Invalid("hit", "hit record cut short");
  r.at = FromMicros(at);
  for (std::string* s :
       {&r.template_name, &r.message_class, &r.url, &r.user_agent, &r.ip, &r.method, &r.machine_reason})
    if (!in.Str(*s)) return Error::Invalid("hit", "hit record cut short");
  if (version >= 2 && !in.Str(r.source)) return Error::Invalid("hit", "hit record cut short");
  if (!in.AtEnd()) return Error::Invalid("hit", "bytes after the hit record");
  if (r.user_agent.size() > kMaxAgent)
    return Error::Invalid("hit", "a hit record's user agent is at most 512 bytes");
  return r;
}

HitScan ScanHitRecords(std::string_view data, const std::function<void(HitRecord&&, size_t end)>& on_record) {
  HitScan scan;
  size_t at = 0;
  while (at < data.size()) {
    if (data.size() - at < kHitFrameHeader) break;
    uint64_t len = GetU(data, at, 4);
    auto crc = static_cast<uint32_t>(GetU(data, at + 4, 4));
    if (len == 0 || len > kMaxHitPayload || data.size() - at - kHitFrameHeader < len) break;
    std::string_view payload = data.substr(at + kHitFrameHeader, len);
    if (Crc32c(payload) != crc) break;
    auto record = DecodeHitPayload(payload);
    if (!record.ok()) break;
    at += kHitFrameHeader + len;
    on_record(std::move(record).value(), at);
  }
  scan.valid_end = at;
  scan.clean = at == data.size();
  return scan;
}

NewEvent HitRecordEvent(const HitRecord& r) {
  NewEvent e;
  e.contact.id = r.contact_id;
  e.contact.create_contact = false;
  e.name = r.kind == HitKind::kOpen    ? "email_opened"
           : r.kind == HitKind::kClick ? "email_clicked"
                                       : "email_viewed";
  e.occurred_at = r.at;
  json::object p(15);  // room for every property below: no rehash while it is filled
  p["message_id"] = r.message_id;
  if (!r.template_name.empty()) p["template"] = r.template_name;
  p["class"] = r.message_class;
  if (r.kind == HitKind::kClick) {
    p["link_index"] = r.link_index;
    p["url"] = r.url;
  }
  p["user_agent"] = std::string_view(r.user_agent).substr(0, kMaxAgent);
  p["ip"] = r.ip;
  p["method"] = r.method;
  p["machine"] = r.machine;
  if (r.machine) p["machine_reason"] = r.machine_reason;
  AddSourceProperties(r.source, p);  // the campaign or journey that sent the message
  e.properties = std::move(p);
  return e;
}

}  // namespace rapport::tracking
