#include "mail/mime_writer.h"

#include "core/encoding.h"

#include <array>
#include <cstring>

#include "mail/body_encoding.h"
#include "mail/fast_random.h"

namespace rapport::mail {
namespace {

constexpr std::string_view kReserved[] = {
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "dkim-signature",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "feedback-id",
    "return-path",
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A URI inside <...> of List-Unsubscribe: printable ASCII without space, '<', '>', ',' or '"'
// (RFC 2369 asks for literal commas to be escaped), at most 900 octets.
Status ValidateListUri(std::string_view field, std::string_view uri, std::string_view scheme) {
  if (uri.size() <= scheme.size() || uri.substr(0, scheme.size()) != scheme)
    return Error::Invalid(std::string(field), "must start with " + std::string(scheme));
  if (uri.size() > 900) return Error::Invalid(std::string(field), "is longer than 900 characters");
  for (unsigned char c : uri) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == ',' || c == '"')
      return Error::Invalid(std::string(field),
                            "may hold only printable ASCII without spaces, '<', '>', ',' or '\"'");
  }
  return {};
}

Status ValidateMessageId(std::string_view id) {
  if (id.size() < 5 || id.size() > 250 || id.front() != '<' || id.back() != '>' ||
      id.find('@') == std::string_view::npos)
    return Error::Invalid("message_id", "must look like <id@domain>");
  for (unsigned char c : id.substr(1, id.size() - 2)) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>')
      return Error::Invalid("message_id", "may hold only printable ASCII without spaces");
  }
  return {};
}

Status ValidateListId(std::string_view id) {
  if (id.empty() || id.size() > 255) return Error::Invalid("list_id", "must be 1-255 characters");
  for (unsigned char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_'))
      return Error::Invalid("list_id", "may hold only letters, digits, '.', '-' and '_'");
  }
  return {};
}

std::string MakeBoundary() {
  std::array<unsigned char, 12> bytes{};
  FastRandomBytes(bytes.data(), bytes.size());
  std::string b = "=_rp";
  AppendHex(b, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return b;
}

void AppendPartHeaders(std::string& out, std::string_view type, TransferEncoding enc) {
  out.append("Content-Type: ");
  out.append(type);
  out.append("; charset=utf-8\r\nContent-Transfer-Encoding: ");
  out.append(TransferEncodingName(enc));
  out.append("\r\n");
}

Status WriteHeaders(const MimeMessage& m, std::string& out) {
  out.append("Date: ");
  out.append(FormatRfc5322Date(m.date));
  out.append("\r\n");
  RAPPORT_TRY(AppendAddressHeader(out, "From", m.from));
  if (m.reply_to) RAPPORT_TRY(AppendAddressHeader(out, "Reply-To", *m.reply_to));
  RAPPORT_TRY(AppendAddressHeader(out, "To", m.to));
  out.append("Message-ID: ");
  if (m.message_id.empty()) {
    out.append(GenerateMessageId(m.from.address.domain));
  } else {
    RAPPORT_TRY(ValidateMessageId(m.message_id));
    out.append(m.message_id);
  }
  out.append("\r\n");
  RAPPORT_TRY(AppendUnstructuredHeader(out, "Subject", m.subject));
  out.append("MIME-Version: 1.0\r\n");

  if (m.message_class == MessageClass::kMarketing) {
    if (m.list_unsubscribe_url.empty())
      return Error::Invalid("list_unsubscribe_url",
                            "marketing mail needs an https one-click unsubscribe URL");
    if (!OneClickUrlAllowed(m.list_unsubscribe_url))
      return Error::Invalid("list_unsubscribe_url",
                            "must start with https:// (http:// only on a loopback host)");
    RAPPORT_TRY(ValidateListUri("list_unsubscribe_url", m.list_unsubscribe_url, "http"));
    out.append("List-Unsubscribe: <");
    out.append(m.list_unsubscribe_url);
    out.push_back('>');
    if (!m.list_unsubscribe_mailto.empty()) {
      RAPPORT_TRY(ValidateListUri("list_unsubscribe_mailto", m.list_unsubscribe_mailto, "mailto:"));
      if (m.list_unsubscribe_url.size() + m.list_unsubscribe_mailto.size() + 24 > 78)
        out.append(",\r\n <");
      else
        out.append(", <");
      out.append(m.list_unsubscribe_mailto);
      out.push_back('>');
    }
    out.append("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    if (!m.list_id.empty()) {
      RAPPORT_TRY(ValidateListId(m.list_id));
      out.append("List-Id:");
      size_t column = 8;
      if (!m.list_name.empty()) {
        RAPPORT_TRY(ValidateHeaderValue("list_name", m.list_name));
        AppendPhrase(out, m.list_name, column, /*fold_first=*/false);
      }
      if (column + 3 + m.list_id.size() > 78 && column > 8) out.append("\r\n");
      out.append(" <");
      out.append(m.list_id);
      out.append(">\r\n");
    }
    if (!m.feedback_id.empty()) RAPPORT_TRY(AppendUnstructuredHeader(out, "Feedback-ID", m.feedback_id));
  }

  for (const HeaderField& h : m.extra_headers) {
    RAPPORT_TRY(ValidateHeaderName(h.name));
    if (IsReservedHeaderName(h.name))
      return Error::Invalid("headers", "the header " + h.name + " is set by rapport itself");
    RAPPORT_TRY(AppendUnstructuredHeader(out, h.name, h.value));
  }
  return {};
}

Status WriteMimeImpl(const MimeMessage& m, std::string& out) {
  if (m.text.empty() && m.html.empty())
    return Error::Invalid("body", "a message needs a text or an HTML body");
  RAPPORT_TRY(WriteHeaders(m, out));

  if (m.text.empty() || m.html.empty()) {
    const bool is_text = !m.text.empty();
    const std::string_view body = is_text ? m.text : m.html;
    const TransferEncoding enc = ChooseTransferEncoding(body);
    AppendPartHeaders(out, is_text ? "text/plain" : "text/html", enc);
    out.append("\r\n");
    AppendEncodedBody(out, body, enc);
    return {};
  }

  const std::string boundary = MakeBoundary();
  out.append("Content-Type: multipart/alternative; boundary=\"");
  out.append(boundary);
  out.append("\"\r\n\r\n");
  const TransferEncoding text_enc = ChooseTransferEncoding(m.text);
  const TransferEncoding html_enc = ChooseTransferEncoding(m.html);
  out.append("--").append(boundary).append("\r\n");
  AppendPartHeaders(out, "text/plain", text_enc);
  out.append("\r\n");
  AppendEncodedBody(out, m.text, text_enc);
  out.append("\r\n--").append(boundary).append("\r\n");
  AppendPartHeaders(out, "text/html", html_enc);
  out.append("\r\n");
  AppendEncodedBody(out, m.html, html_enc);
  out.append("\r\n--").append(boundary).append("--\r\n");
  return {};
}

}  // namespace

bool OneClickUrlAllowed(std::string_view url) {
  if (url.starts_with("https://")) return true;
  if (!url.starts_with("http://")) return false;
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('@') != std::string_view::npos) return false;  // userinfo: not a plain base
  std::string_view host = rest;
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
    return host == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.0.0.0/8 as four decimal octets.
  if (!host.starts_with("127.")) return false;
  int parts = 0;
  for (size_t i = 0; i <= host.size();) {
    size_t end = host.find('.', i);
    if (end == std::string_view::npos) end = host.size();
    std::string_view octet = host.substr(i, end - i);
    if (octet.empty() || octet.size() > 3) return false;
    int v = 0;
    for (char ch : octet) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + (ch - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = end + 1;
  }
  return parts == 4;
}

bool IsReservedHeaderName(std::string_view name) {
  for (std::string_view r : kReserved)
    if (EqualsIgnoreCase(name, r)) return true;
  return false;
}

Status WriteMime(const MimeMessage& message, std::string& out) {
  const size_t start = out.size();
  Status s = WriteMimeImpl(message, out);
  if (!s.ok()) out.resize(start);
  return s;
}

Result<std::string> BuildMime(const MimeMessage& message) {
  std::string out;
  // Headers ~1 KB; quoted-printable or base64 bodies grow by up to ~40%.
  out.reserve(1024 + (message.text.size() + message.html.size()) * 7 / 5);
  RAPPORT_TRY(WriteMime(message, out));
  return out;
}

}  // namespace rapport::mail
