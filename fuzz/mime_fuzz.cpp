// Fuzzes the MIME writer's bodies: arbitrary bytes split into a text and an HTML body.
// Invariants: CRLF only, no line over 998 octets, and GMime parses two parts whose decoded
// content is the canonicalized input.
#include <gmime/gmime.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "mail/body_encoding.h"
#include "mail/gmime_test_util.h"
#include "mail/mime_writer.h"

using namespace rapport;
using namespace rapport::mail;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "mime_fuzz: %s\n", what);
    abort();
  }
}

std::string Decode(GMimeObject* obj) {
  GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(w, out);
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  std::string s(reinterpret_cast<const char*>(arr->data), arr->len);
  g_object_unref(out);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t split = in.find('\0');
  if (split == std::string_view::npos) split = in.size() / 2;
  MimeMessage m;
  m.from = {"Sender", {"news", "example.com"}};
  m.to = {{"", {"ada", "example.org"}}};
  m.subject = "fuzz";
  m.text = std::string(in.substr(0, split));
  m.html = std::string(in.substr(std::min(split + 1, in.size())));
  if (m.text.empty()) m.text = "x";
  if (m.html.empty()) m.html = "y";
  auto mime = BuildMime(m);
  Check(mime.ok(), "a message with valid headers must build");
  Check(testing::CheckLines(*mime).empty(), "line rules");

  testing::InitGMime();
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(mime->data(), mime->size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  Check(msg != nullptr, "GMime parses the message");
  GMimeObject* body = g_mime_message_get_mime_part(msg);
  Check(GMIME_IS_MULTIPART(body) && g_mime_multipart_get_count(GMIME_MULTIPART(body)) == 2, "two parts");
  Check(Decode(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0)) == CanonicalizeLineEnds(m.text),
        "text part round trip");
  Check(Decode(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1)) == CanonicalizeLineEnds(m.html),
        "html part round trip");
  g_object_unref(msg);
  g_object_unref(parser);
  g_object_unref(stream);
  return 0;
}
