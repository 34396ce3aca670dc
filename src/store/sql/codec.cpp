#include "store/sql/codec.h"
#include "core/json_parse.h"

#include <openssl/evp.h>

#include <charconv>

namespace rapport::sql {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

std::string EncodeCursor(int64_t last_id) {
  // "v1:<id>" hex-encoded: opaque to clients, versioned for us.
  std::string plain = "v1:" + std::to_string(last_id);
  std::string out;
  out.reserve(plain.size() * 2);
  for (unsigned char c : plain) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Result<int64_t> DecodeCursor(std::string_view cursor) {
  if (cursor.empty()) return int64_t{0};
  auto bad = [] { return Error::BadRequest("the cursor is not one this listing returned", "cursor"); };
  if (cursor.size() % 2 != 0 || cursor.size() > 64) return bad();
  std::string plain;
  for (size_t i = 0; i < cursor.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(cursor[i]), lo = nibble(cursor[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    plain.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (plain.rfind("v1:", 0) != 0 || plain.size() == 3) return bad();
  int64_t id = 0;
  auto [p, ec] = std::from_chars(plain.data() + 3, plain.data() + plain.size(), id);
  if (ec != std::errc() || p != plain.data() + plain.size() || id <= 0) return bad();
  return id;
}

Status CheckLimit(int limit) {
  if (limit < 1 || limit > 1000) return Error::Invalid("limit", "limit is 1 to 1000");
  return {};
}

json::object ParseObject(std::string_view text) {
  if (text.empty()) return {};
  boost::system::error_code ec;
  json::value v = ParseJsonExact(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

std::string SerializeObject(const json::object& object) { return json::serialize(object); }

void MergeAttributes(json::object& base, const json::object& patch) {
  for (const auto& [key, value] : patch) {
    if (value.is_null())
      base.erase(key);
    else
      base[key] = value;
  }
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Contact ReadContact(const Row& row) {
  Contact c;
  c.id = row.Int(0);
  c.workspace_id = row.Int(1);
  c.email = std::string(OptText(row, 2));
  if (!row.IsNull(3)) c.external_id = std::string(row.Text(3));
  c.status = ParseContactStatus(row.Text(4)).value_or(ContactStatus::kActive);
  c.attributes = ParseObject(row.Text(5));
  c.timezone = std::string(row.Text(6));
  c.locale = std::string(row.Text(7));
  c.created_at = FromMicros(row.Int(8));
  c.updated_at = FromMicros(row.Int(9));
  return c;
}

Event ReadEvent(const Row& row) {
  Event e;
  e.id = row.Int(0);
  e.workspace_id = row.Int(1);
  e.contact_id = row.Int(2);
  e.name = std::string(row.Text(3));
  e.properties = ParseObject(row.Text(4));
  e.occurred_at = FromMicros(row.Int(5));
  e.received_at = FromMicros(row.Int(6));
  return e;
}

OutboxMessage ReadMessage(const Row& row, MessageExtra extra) {
  OutboxMessage m;
  m.id = row.Int(0);
  m.workspace_id = row.Int(1);
  m.contact_id = row.Int(2);
  m.message_class = ParseMessageClass(row.Text(3)).value_or(MessageClass::kTransactional);
  m.state = ParseMessageState(row.Text(4)).value_or(MessageState::kQueued);
  m.template_name = std::string(row.Text(5));
  m.mail_from = std::string(row.Text(6));
  m.rcpt_to = std::string(row.Text(7));
  m.subject = std::string(row.Text(8));
  if (!row.IsNull(9)) m.idempotency_key = std::string(row.Text(9));
  m.attempts = static_cast<int>(row.Int(10));
  m.next_attempt_at = FromMicros(row.Int(11));
  m.created_at = FromMicros(row.Int(12));
  m.updated_at = FromMicros(row.Int(13));
  m.last_reply = std::string(row.Text(14));
  m.lease_owner = std::string(row.Text(15));
  m.lease_until = FromMicros(row.Int(16));
  if (!row.IsNull(17)) m.topic = std::string(row.Text(17));
  m.source = std::string(row.Text(18));
  if (extra == MessageExtra::kMime) {
    m.mime = row.Bytes(19);
    m.size = static_cast<int64_t>(m.mime.size());
  } else if (extra == MessageExtra::kSize) {
    m.size = row.Int(19);
  }
  return m;
}

}  // namespace rapport::sql
