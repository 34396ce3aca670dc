#include "mail/feedback_report.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace rapport::mail {

namespace {

void InitGMimeOnce() {
  static const bool done = [] {
    g_mime_init();
    return true;
  }();
  (void)done;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Bounded(std::string_view s) { return std::string(s.substr(0, kMaxFieldLength)); }

// The address in a header value: what is inside <...> when there is one, else the first
// whitespace-free token holding '@'. Empty when there is none.
std::string ExtractAddress(std::string_view value) {
  size_t lt = value.find('<');
  if (lt != std::string_view::npos) {
    size_t gt = value.find('>', lt);
    if (gt != std::string_view::npos) {
      std::string_view inner = Trim(value.substr(lt + 1, gt - lt - 1));
      if (inner.find('@') != std::string_view::npos) return Bounded(inner);
      return {};
    }
  }
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
    size_t start = i;
    while (i < value.size() && value[i] != ' ' && value[i] != '\t' && value[i] != ',') ++i;
    std::string_view token = value.substr(start, i - start);
    if (token.find('@') != std::string_view::npos) return Bounded(token);
  }
  return {};
}

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

// The decoded content of a leaf part (transfer encoding undone), at most kMaxReportBytes.
std::string LeafContent(GMimeObject* obj) {
  if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (!inner) return {};
    GPtr<GMimeStream> out(g_mime_stream_mem_new());
    g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, out.get());
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    return std::string(reinterpret_cast<const char*>(arr->data), std::min<size_t>(arr->len, kMaxReportBytes));
  }
  if (!GMIME_IS_PART(obj)) return {};
  GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
  if (!w) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(w, out.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(arr->data), std::min<size_t>(arr->len, kMaxReportBytes));
}

bool TypeIs(GMimeObject* obj, const char* type, const char* subtype) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  return ct && g_mime_content_type_is_type(ct, type, subtype);
}

std::string ReportType(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return {};
  const char* t = g_mime_content_type_get_parameter(ct, "report-type");
  return t ? Lower(t) : std::string();
}

// The first multipart/report at most `depth` levels down (a report forwarded inside another
// message is still found, within reason).
GMimeObject* FindReport(GMimeObject* obj, int depth) {
  if (!obj || depth < 0) return nullptr;
  if (GMIME_IS_MULTIPART(obj)) {
    if (TypeIs(obj, "multipart", "report")) return obj;
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n && i < 50; ++i)
      if (GMimeObject* r = FindReport(g_mime_multipart_get_part(mp, i), depth - 1)) return r;
    return nullptr;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner) return FindReport(g_mime_message_get_mime_part(inner), depth - 1);
  }
  return nullptr;
}

std::string FieldValue(const std::vector<Field>& block, std::string_view name) {
  for (const Field& f : block)
    if (f.name == name) return f.value;
  return {};
}

void ReadDeliveryStatus(std::string_view body, FeedbackReport& out) {
  auto blocks = ParseFieldBlocks(body);
  if (blocks.empty()) return;
  out.reporting_mta = StripAddressType(FieldValue(blocks[0], "reporting-mta"));
  for (size_t i = 1; i < blocks.size() && out.recipients.size() < kMaxRecipients; ++i) {
    const auto& b = blocks[i];
    DsnRecipient r;
    r.final_recipient = StripAddressType(FieldValue(b, "final-recipient"));
    r.original_recipient = StripAddressType(FieldValue(b, "original-recipient"));
    r.action = Lower(Trim(FieldValue(b, "action")));
    std::string status(Trim(FieldValue(b, "status")));
    // "5.1.1 (Remote host said: ...)": the code is the first token.
    r.status = status.substr(0, status.find_first_of(" \t("));
    std::string diag = FieldValue(b, "diagnostic-code");
    size_t semi = diag.find(';');
    if (semi != std::string::npos) {
      r.diagnostic_type = Lower(Trim(std::string_view(diag).substr(0, semi)));
      r.diagnostic = std::string(Trim(std::string_view(diag).substr(semi + 1)));
    } else {
      r.diagnostic = diag;
    }
    // An SMTP reply code is three digits, the first 2 to 5 (RFC 5321 4.2): "018" is not one.
    if (r.diagnostic_type == "smtp" && r.diagnostic.size() >= 3 && r.diagnostic[0] >= '2' &&
        r.diagnostic[0] <= '5' &&
        std::all_of(r.diagnostic.begin(), r.diagnostic.begin() + 3,
                    [](char c) { return c >= '0' && c <= '9'; }) &&
        (r.diagnostic.size() == 3 || r.diagnostic[3] == ' ' || r.diagnostic[3] == '-'))
      r.smtp_code = std::stoi(r.diagnostic.substr(0, 3));
    r.remote_mta = StripAddressType(FieldValue(b, "remote-mta"));
    if (r.final_recipient.empty() && r.action.empty() && r.status.empty()) continue;
    out.recipients.push_back(std::move(r));
  }
}

void ReadFeedbackFields(std::string_view body, FeedbackReport& out) {
  auto blocks = ParseFieldBlocks(body);
  if (blocks.empty()) return;
  // RFC 5965 puts every field in one block; tolerate reports that split them.
  std::vector<Field> all;
  for (auto& b : blocks) all.insert(all.end(), b.begin(), b.end());
  ComplaintFields& c = out.complaint;
  c.feedback_type = Lower(Trim(FieldValue(all, "feedback-type")));
  c.user_agent = FieldValue(all, "user-agent");
  c.original_mail_from = ExtractAddress(FieldValue(all, "original-mail-from"));
  c.original_rcpt_to = ExtractAddress(FieldValue(all, "original-rcpt-to"));
  c.source_ip = FieldValue(all, "source-ip");
  c.arrival_date = FieldValue(all, "arrival-date");
  c.reported_domain = FieldValue(all, "reported-domain");
  out.reporting_mta = StripAddressType(FieldValue(all, "reporting-mta"));
}

// The original's headers, from a text/rfc822-headers part or a returned message/rfc822.
void ReadOriginalHeaders(std::string_view headers, FeedbackReport& out, std::string& return_path) {
  auto blocks = ParseFieldBlocks(headers);
  if (blocks.empty()) return;
  const auto& h = blocks[0];
  if (return_path.empty()) return_path = ExtractAddress(FieldValue(h, "return-path"));
  if (out.original_message_id.empty()) {
    std::string id(Trim(FieldValue(h, "message-id")));
    out.original_message_id = id;
  }
  if (out.original_to.empty()) out.original_to = ExtractAddress(FieldValue(h, "to"));
}

}  // namespace

std::string StripAddressType(std::string_view value) {
  size_t semi = value.find(';');
  std::string_view v = Trim(semi == std::string_view::npos ? value : value.substr(semi + 1));
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = Trim(v.substr(1, v.size() - 2));
  return Bounded(v);
}

std::vector<std::vector<Field>> ParseFieldBlocks(std::string_view body) {
  std::vector<std::vector<Field>> blocks;
  std::vector<Field> current;
  size_t pos = 0;
  size_t total_fields = 0;
  while (pos < body.size()) {
    size_t eol = body.find('\n', pos);
    std::string_view line =
        body.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) {
      if (!current.empty()) blocks.push_back(std::move(current));
      current.clear();
      if (blocks.size() > kMaxRecipients + 1) break;
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t')) {
      // A folded continuation of the previous field.
      if (!current.empty() && current.back().value.size() < kMaxFieldLength) {
        std::string& v = current.back().value;
        if (!v.empty()) v.push_back(' ');
        v += Trim(line);
        if (v.size() > kMaxFieldLength) v.resize(kMaxFieldLength);
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // not a field: skipped
    std::string_view name = Trim(line.substr(0, colon));
    if (name.empty() || name.size() > 100) continue;
    if (++total_fields > 20 * (kMaxRecipients + 1)) break;
    current.push_back(Field{Lower(name), Bounded(Trim(line.substr(colon + 1)))});
  }
  if (!current.empty()) blocks.push_back(std::move(current));
  return blocks;
}

Result<FeedbackReport> ParseFeedbackReport(std::string_view raw) {
  if (raw.size() > kMaxReportBytes) return Error::Invalid("report", "the report is larger than 4 MiB");
  InitGMimeOnce();
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return Error::Invalid("report", "not a MIME message");

  GMimeObject* report = FindReport(g_mime_message_get_mime_part(message.get()), 3);
  if (!report) return Error::Invalid("report", "not a multipart/report");
  std::string type = ReportType(report);
  FeedbackReport out;
  if (type == "delivery-status" || type == "global-delivery-status") {
    out.kind = ReportKind::kDeliveryStatus;
  } else if (type == "feedback-report") {
    out.kind = ReportKind::kComplaint;
  } else {
    return Error::Invalid("report",
                          "a multipart/report of type '" + Bounded(type) + "', not a DSN or ARF report");
  }

  std::string return_path;
  GMimeMultipart* mp = GMIME_MULTIPART(report);
  int n = g_mime_multipart_get_count(mp);
  for (int i = 0; i < n && i < 20; ++i) {
    GMimeObject* part = g_mime_multipart_get_part(mp, i);
    if (out.kind == ReportKind::kDeliveryStatus &&
        (TypeIs(part, "message", "delivery-status") || TypeIs(part, "message", "global-delivery-status"))) {
      ReadDeliveryStatus(LeafContent(part), out);
    } else if (out.kind == ReportKind::kComplaint && TypeIs(part, "message", "feedback-report")) {
      ReadFeedbackFields(LeafContent(part), out);
    } else if (TypeIs(part, "text", "rfc822-headers") || TypeIs(part, "message", "rfc822-headers")) {
      ReadOriginalHeaders(LeafContent(part), out, return_path);
    } else if (GMIME_IS_MESSAGE_PART(part)) {
      GMimeMessage* orig = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
      if (orig) {
        GPtr<GMimeStream> hs(g_mime_stream_mem_new());
        GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(orig));
        g_mime_header_list_write_to_stream(headers, nullptr, hs.get());
        GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(hs.get()));
        ReadOriginalHeaders(std::string_view(reinterpret_cast<const char*>(arr->data), arr->len), out,
                            return_path);
      }
    }
  }

  if (out.kind == ReportKind::kDeliveryStatus && out.recipients.empty())
    return Error::Invalid("report", "a delivery status notification without any recipient");
  if (out.kind == ReportKind::kComplaint && out.complaint.feedback_type.empty())
    return Error::Invalid("report", "a feedback report without Feedback-Type");

  // Where the report was delivered: the envelope recipient as the local MTA recorded it, then To.
  for (const char* name : {"Delivered-To", "X-Original-To", "Envelope-To", "To"}) {
    const char* value = g_mime_object_get_header(GMIME_OBJECT(message.get()), name);
    if (!value) continue;
    std::string a = ExtractAddress(value);
    if (!a.empty()) out.verp_candidates.push_back(std::move(a));
  }
  if (!return_path.empty()) out.verp_candidates.push_back(return_path);
  if (!out.complaint.original_mail_from.empty())
    out.verp_candidates.push_back(out.complaint.original_mail_from);
  return out;
}

}  // namespace rapport::mail
