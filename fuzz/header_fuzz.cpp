// Fuzzes header writing (mail/header.h): arbitrary bytes as a Subject and as a display name.
// Invariants: a value is written iff it passes ValidateHeaderValue; what is written has CRLF
// line ends only, no line over 998 octets, every encoded word within 75 characters, and GMime
// decodes it back to the input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mail/gmime_test_util.h"
#include "mail/header.h"

using namespace rapport;
using namespace rapport::mail;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "header_fuzz: %s\n", what);
    abort();
  }
}

void CheckEncodedWords(const std::string& s) {
  size_t pos = 0;
  while ((pos = s.find("=?UTF-8?", pos)) != std::string::npos) {
    size_t end = s.find("?=", pos + 10);
    Check(end != std::string::npos, "unterminated encoded word");
    Check(end + 2 - pos <= 75, "encoded word over 75 characters");
    pos = end + 2;
  }
}

std::string Squash(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == ' ' && (r.empty() || r.back() == ' ')) continue;
    r.push_back(c);
  }
  while (!r.empty() && r.back() == ' ') r.pop_back();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool as_name = data[0] & 1;
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool valid = ValidateHeaderValue("subject", value).ok();

  if (!as_name) {
    std::string out = "X: y\r\n";
    Status s = AppendUnstructuredHeader(out, "Subject", value);
    Check(s.ok() == valid, "written iff valid");
    if (!s.ok()) {
      Check(out == "X: y\r\n", "output touched on error");
      Check(s.error().field == "subject", "error names the header");
      return 0;
    }
    std::string header = out.substr(6);
    Check(testing::CheckLines(header).empty(), testing::CheckLines(header).c_str());
    CheckEncodedWords(header);
    Check(testing::GMimeDecodeHeader(header) == value, "GMime does not decode back the input");
    return 0;
  }

  std::string out;
  Mailbox m{std::string(value), EmailAddress{"news", "example.com"}};
  Status s = AppendAddressHeader(out, "From", m);
  Check(s.ok() == valid, "address written iff valid");
  if (!s.ok()) return 0;
  Check(testing::CheckLines(out).empty(), "address header line rules");
  CheckEncodedWords(out);
  std::string unfolded;
  for (char c : out.substr(5))
    if (c != '\r' && c != '\n') unfolded.push_back(c);
  testing::InitGMime();
  InternetAddressList* list = internet_address_list_parse(nullptr, unfolded.c_str());
  Check(list != nullptr && internet_address_list_length(list) == 1, "GMime finds one address");
  InternetAddress* ia = internet_address_list_get_address(list, 0);
  const char* name = internet_address_get_name(ia);
  Check(Squash(name ? name : "") == Squash(std::string(value)), "display name round trip");
  Check(std::string(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))) == "news@example.com",
        "address round trip");
  g_object_unref(list);
  return 0;
}
