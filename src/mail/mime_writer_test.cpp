#include "mail/mime_writer.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <random>

#include "mail/body_encoding.h"
#include "mail/gmime_test_util.h"

namespace rapport::mail {
namespace {

using testing::CheckLines;

struct ParsedPart {
  std::string mime_type;
  std::string charset;
  std::string encoding;
  std::string content;  // transfer-decoded
};

struct Parsed {
  bool ok = false;
  std::string subject;
  std::string top_type;
  std::vector<ParsedPart> parts;
  std::string from_name, from_addr;
  std::string Header(const char* name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<absent>") : it->second;
  }
  std::map<std::string, std::string> headers;
};

ParsedPart ReadPart(GMimeObject* obj) {
  ParsedPart p;
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  char* type = g_mime_content_type_get_mime_type(ct);
  p.mime_type = type;
  g_free(type);
  const char* cs = g_mime_object_get_content_type_parameter(obj, "charset");
  p.charset = cs ? cs : "";
  const char* cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
  p.encoding = cte ? cte : "";
  GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(w, out);
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  p.content.assign(reinterpret_cast<const char*>(arr->data), arr->len);
  g_object_unref(out);
  return p;
}

Parsed ParseWithGMime(const std::string& mime) {
  testing::InitGMime();
  Parsed r;
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(mime.data(), mime.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  g_object_unref(stream);
  if (!msg) return r;
  const char* subject = g_mime_message_get_subject(msg);
  r.subject = subject ? subject : "";
  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
  for (int i = 0; i < g_mime_header_list_get_count(headers); ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
    const char* v = g_mime_header_get_value(h);
    r.headers[g_mime_header_get_name(h)] = v ? v : "";
  }
  InternetAddressList* from = g_mime_message_get_from(msg);
  if (from && internet_address_list_length(from) > 0) {
    InternetAddress* ia = internet_address_list_get_address(from, 0);
    const char* n = internet_address_get_name(ia);
    r.from_name = n ? n : "";
    r.from_addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
  }
  GMimeObject* body = g_mime_message_get_mime_part(msg);
  char* type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(body));
  r.top_type = type;
  g_free(type);
  if (GMIME_IS_MULTIPART(body)) {
    GMimeMultipart* mp = GMIME_MULTIPART(body);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i)
      r.parts.push_back(ReadPart(g_mime_multipart_get_part(mp, i)));
  } else if (GMIME_IS_PART(body)) {
    r.parts.push_back(ReadPart(body));
  }
  g_object_unref(msg);
  r.ok = true;
  return r;
}

MimeMessage Sample() {
  MimeMessage m;
  m.from = {"Café Müller", {"news", "example.com"}};
  m.to = {{"Ada Lovelace", {"ada", "example.org"}}};
  m.subject = "Nouveautés de la semaine ☕";
  m.text = "Bonjour Ada,\n\nVoici les nouveautés.\n";
  m.html = "<html><body><p>Bonjour Ada,</p><p>Voici les nouveautés.</p></body></html>\n";
  m.date = FromMicros(1795428907LL * 1000000);
  m.list_unsubscribe_url = "https://mail.example.com/u/abc123";
  m.list_unsubscribe_mailto = "mailto:unsubscribe@example.com?subject=unsubscribe";
  m.list_id = "weekly.example.com";
  m.list_name = "Weekly news";
  m.feedback_id = "c42:weekly:marketing:rapport";
  return m;
}

TEST(MimeWriterTest, MultipartAlternativeParsesBack) {
  MimeMessage m = Sample();
  m.message_class = MessageClass::kMarketing;
  auto mime = BuildMime(m);
  ASSERT_TRUE(mime.ok()) << mime.error().message;
  EXPECT_EQ(CheckLines(*mime), "");
  Parsed p = ParseWithGMime(*mime);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.subject, m.subject);
  EXPECT_EQ(p.from_name, "Café Müller");
  EXPECT_EQ(p.from_addr, "news@example.com");
  EXPECT_EQ(p.top_type, "multipart/alternative");
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].mime_type, "text/plain");
  EXPECT_EQ(p.parts[1].mime_type, "text/html");
  EXPECT_EQ(p.parts[0].charset, "utf-8");
  EXPECT_EQ(p.parts[0].content, CanonicalizeLineEnds(m.text));
  EXPECT_EQ(p.parts[1].content, CanonicalizeLineEnds(m.html));
  EXPECT_EQ(p.Header("Date"), "Mon, 23 Nov 2026 10:15:07 +0000");
  EXPECT_EQ(p.Header("MIME-Version"), "1.0");
  EXPECT_NE(p.Header("Message-ID").find("@example.com>"), std::string::npos);
}

TEST(MimeWriterTest, MarketingCarriesBulkHeaders) {
  MimeMessage m = Sample();
  m.message_class = MessageClass::kMarketing;
  auto mime = BuildMime(m);
  ASSERT_TRUE(mime.ok());
  EXPECT_NE(mime->find("List-Unsubscribe: <https://mail.example.com/u/abc123>,"), std::string::npos) << *mime;
  EXPECT_NE(mime->find("<mailto:unsubscribe@example.com?subject=unsubscribe>\r\n"), std::string::npos);
  EXPECT_NE(mime->find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  EXPECT_NE(mime->find("\r\nList-Id: Weekly news <weekly.example.com>\r\n"), std::string::npos);
  EXPECT_NE(mime->find("\r\nFeedback-ID: c42:weekly:marketing:rapport\r\n"), std::string::npos);
  Parsed p = ParseWithGMime(*mime);
  EXPECT_EQ(p.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
}

TEST(MimeWriterTest, TransactionalHasNoBulkHeaders) {
  MimeMessage m = Sample();  // the bulk fields are set, yet must not appear
  m.message_class = MessageClass::kTransactional;
  auto mime = BuildMime(m);
  ASSERT_TRUE(mime.ok());
  for (const char* h : {"List-Unsubscribe", "List-Id", "Feedback-ID", "Precedence"})
    EXPECT_EQ(mime->find(h), std::string::npos) << h;
}

TEST(MimeWriterTest, MarketingNeedsHttpsUnsubscribe) {
  MimeMessage m = Sample();
  m.message_class = MessageClass::kMarketing;
  m.list_unsubscribe_url = "";
  auto r = BuildMime(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "list_unsubscribe_url");
  m.list_unsubscribe_url = "http://insecure.example.com/u";
  EXPECT_FALSE(BuildMime(m).ok());
  m.list_unsubscribe_url = "https://x.example.com/u>\r\nBcc: a@b.c";
  EXPECT_FALSE(BuildMime(m).ok());
}

TEST(MimeWriterTest, InjectionAttemptsAreRejected) {
  struct Case {
    const char* field;
    std::function<void(MimeMessage&)> mutate;
  };
  std::vector<Case> cases = {
      {"subject", [](MimeMessage& m) { m.subject = "Hi\r\nBcc: victim@example.com"; }},
      {"subject", [](MimeMessage& m) { m.subject = "Hi\nX"; }},
      {"from", [](MimeMessage& m) { m.from.display_name = "Shop\r\nReply-To: evil@example.com"; }},
      {"to", [](MimeMessage& m) { m.to[0].address.local = "ada\r\nBcc: x"; }},
      {"reply-to",
       [](MimeMessage& m) {
         m.reply_to = Mailbox{"", {"a", "exa\nmple.com"}};
       }},
      {"x-campaign",
       [](MimeMessage& m) {
         m.extra_headers.push_back({"X-Campaign", "a\rb"});
       }},
      {"headers",
       [](MimeMessage& m) {
         m.extra_headers.push_back({"Bcc", "victim@example.com"});
       }},
      {"headers",
       [](MimeMessage& m) {
         m.extra_headers.push_back({"content-type", "text/evil"});
       }},
      {"header",
       [](MimeMessage& m) {
         m.extra_headers.push_back({"X-A\r\nBcc", "v"});
       }},
      {"message_id", [](MimeMessage& m) { m.message_id = "<a@b>\r\nBcc: x"; }},
      {"list_id", [](MimeMessage& m) { m.list_id = "a.b\r\nBcc: x"; }},
      {"feedback-id", [](MimeMessage& m) { m.feedback_id = "a\nb"; }},
      {"body",
       [](MimeMessage& m) {
         m.text.clear();
         m.html.clear();
       }},
  };
  for (const Case& c : cases) {
    MimeMessage m = Sample();
    m.message_class = MessageClass::kMarketing;
    c.mutate(m);
    std::string out = "prefix";
    Status s = WriteMime(m, out);
    ASSERT_FALSE(s.ok()) << c.field;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalid) << c.field;
    EXPECT_EQ(s.error().field, c.field);
    EXPECT_EQ(out, "prefix");
  }
}

TEST(MimeWriterTest, ExtraHeadersAreEncoded) {
  MimeMessage m = Sample();
  m.extra_headers = {{"X-Campaign", "Été 2026"}, {"X-Plain", "ok"}};
  auto mime = BuildMime(m);
  ASSERT_TRUE(mime.ok());
  EXPECT_NE(mime->find("\r\nX-Plain: ok\r\n"), std::string::npos);
  Parsed p = ParseWithGMime(*mime);
  char* decoded = g_mime_utils_header_decode_text(nullptr, p.Header("X-Campaign").c_str());
  EXPECT_STREQ(decoded, "Été 2026");
  g_free(decoded);
}

TEST(MimeWriterTest, SinglePartMessages) {
  MimeMessage m = Sample();
  m.html.clear();
  auto text_only = BuildMime(m);
  ASSERT_TRUE(text_only.ok());
  Parsed p = ParseWithGMime(*text_only);
  EXPECT_EQ(p.top_type, "text/plain");
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].content, CanonicalizeLineEnds(m.text));
  m = Sample();
  m.text.clear();
  auto html_only = BuildMime(m);
  ASSERT_TRUE(html_only.ok());
  p = ParseWithGMime(*html_only);
  EXPECT_EQ(p.top_type, "text/html");
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].content, CanonicalizeLineEnds(m.html));
}

TEST(MimeWriterTest, EncodingChosenByContent) {
  EXPECT_EQ(ChooseTransferEncoding("Hello\r\nplain ascii\r\n"), TransferEncoding::k7bit);
  EXPECT_EQ(ChooseTransferEncoding(std::string(200, 'a')), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ChooseTransferEncoding("From here\r\n"), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ChooseTransferEncoding("a\r\n--=_rp00\r\n"), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ChooseTransferEncoding("Voici les nouveautés de la semaine.\r\n"),
            TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ChooseTransferEncoding("ご注文の商品を発送しました。\r\n"), TransferEncoding::kBase64);
}

TEST(MimeWriterTest, RandomBodiesRoundTrip) {
  std::mt19937 rng(4242);
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < 400; ++i) {
    MimeMessage m = Sample();
    m.message_class = i % 2 ? MessageClass::kMarketing : MessageClass::kTransactional;
    m.subject = testing::RandomUtf8(rng, 30, false);
    m.text = testing::RandomUtf8(rng, 400, true);
    m.html = testing::RandomUtf8(rng, 400, true);
    if (i % 7 == 0) {  // mostly CJK: base64
      m.html.clear();
      for (int k = 0; k < 100; ++k) m.html += "日本語のテキスト";
      m.html += "\n. \nFrom me\n";
    }
    if (m.text.empty()) m.text = "x";
    if (i % 5 == 0) m.html.clear();
    seen[static_cast<int>(ChooseTransferEncoding(m.text))]++;
    auto mime = BuildMime(m);
    ASSERT_TRUE(mime.ok()) << mime.error().message;
    ASSERT_EQ(CheckLines(*mime), "") << *mime;
    // No body line starts with "From " or "." (mbox and SMTP safety) except 7bit text that
    // had none.
    EXPECT_EQ(mime->find("\r\nFrom "), std::string::npos);
    Parsed p = ParseWithGMime(*mime);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.subject, m.subject);
    const size_t want = m.html.empty() ? 1 : 2;
    ASSERT_EQ(p.parts.size(), want) << *mime;
    EXPECT_EQ(p.parts[0].content, CanonicalizeLineEnds(m.text)) << *mime;
    EXPECT_EQ(p.parts[0].charset, "utf-8");
    if (want == 2) {
      EXPECT_EQ(p.parts[1].content, CanonicalizeLineEnds(m.html)) << *mime;
    }
  }
  EXPECT_GT(seen[1], 0);  // quoted-printable exercised
}

TEST(MimeWriterTest, AllEncodingsRoundTripTrickyLines) {
  const std::string tricky =
      ".\r\n..leading dots\r\nFrom the start\r\ntrailing spaces   \r\ntrailing tab\t\r\n"
      "bare\rCR and bare\nLF\r\n" +
      std::string(2000, 'L') +
      "\r\n=3D not an escape\r\n"
      "--=_rp0000 boundary lookalike\r\nno final newline";
  for (TransferEncoding e :
       {TransferEncoding::k7bit, TransferEncoding::kQuotedPrintable, TransferEncoding::kBase64}) {
    std::string body;
    AppendEncodedBody(body, tricky, e);
    if (e != TransferEncoding::k7bit) {
      EXPECT_EQ(CheckLines(body, 76), "");
      EXPECT_EQ(body.find("=_"), std::string::npos);
      EXPECT_EQ(body.find("\r\n."), std::string::npos);
      EXPECT_EQ(body.find("\r\nFrom "), std::string::npos);
    }
    MimeMessage m = Sample();
    m.html.clear();
    m.text = tricky;
    auto mime = BuildMime(m);
    ASSERT_TRUE(mime.ok());
    Parsed p = ParseWithGMime(*mime);
    ASSERT_EQ(p.parts.size(), 1u);
    EXPECT_EQ(p.parts[0].content, CanonicalizeLineEnds(tricky));
  }
}

TEST(MimeWriterTest, QuotedPrintableDecodesExactly) {
  std::mt19937 rng(99);
  for (int i = 0; i < 300; ++i) {
    std::string text = testing::RandomUtf8(rng, 300, true);
    std::string body;
    AppendEncodedBody(body, text, TransferEncoding::kQuotedPrintable);
    ASSERT_EQ(CheckLines(body.empty() ? "" : body, 76), "") << body;
    // Decode with GMime's quoted-printable decoder.
    std::string decoded(body.size() + 16, '\0');
    int state = 0;
    guint32 save = 0;
    size_t n =
        g_mime_encoding_quoted_decode_step(reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                                           reinterpret_cast<unsigned char*>(decoded.data()), &state, &save);
    decoded.resize(n);
    EXPECT_EQ(decoded, CanonicalizeLineEnds(text)) << body;
  }
}

TEST(OneClickUrl, HttpsEverywhereAndPlainHttpOnlyOnLoopback) {
  EXPECT_TRUE(OneClickUrlAllowed("https://mail.shop.example"));
  EXPECT_TRUE(OneClickUrlAllowed("http://127.0.0.1:8080"));
  EXPECT_TRUE(OneClickUrlAllowed("http://127.1.2.3"));
  EXPECT_TRUE(OneClickUrlAllowed("http://localhost:8080/rapport"));
  EXPECT_TRUE(OneClickUrlAllowed("http://[::1]:8080"));
  EXPECT_FALSE(OneClickUrlAllowed("http://mail.shop.example"));
  EXPECT_FALSE(OneClickUrlAllowed("http://127.0.0.1.evil.example"));
  EXPECT_FALSE(OneClickUrlAllowed("http://localhost.evil.example"));
  EXPECT_FALSE(OneClickUrlAllowed("http://127.0.0.1@evil.example"));
  EXPECT_FALSE(OneClickUrlAllowed("http://[::2]:8080"));
  EXPECT_FALSE(OneClickUrlAllowed("http://128.0.0.1"));
  EXPECT_FALSE(OneClickUrlAllowed("http://127.0.0.256"));
  EXPECT_FALSE(OneClickUrlAllowed("ftp://127.0.0.1"));
  EXPECT_FALSE(OneClickUrlAllowed(""));
}

}  // namespace
}  // namespace rapport::mail
