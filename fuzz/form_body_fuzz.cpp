// Fuzzes the form-body decoder of the public endpoints (core/form_body.h: /p/, /u/, /confirm/,
// POST /api/v1/subscribe) and the preference center's reading of it
// (tracking/preference_center.h): every input ends in fields or kInvalid, never a crash; every
// decoded name and value is valid UTF-8 without NUL; a decoded body re-encoded decodes the same.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/form_body.h"
#include "core/utf8.h"
#include "tracking/preference_center.h"

namespace {

std::string Encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto form = rapport::ParseFormBody(input);
  if (!form.ok()) return 0;
  std::string again;
  for (const auto& [k, v] : form->pairs()) {
    if (!rapport::IsValidUtf8(k) || !rapport::IsValidUtf8(v) || k.find('\0') != std::string::npos ||
        v.find('\0') != std::string::npos || k.empty()) {
      fprintf(stderr, "a decoded field is not clean text\n");
      abort();
    }
    if (!again.empty()) again += '&';
    again += Encode(k) + "=" + Encode(v);
  }
  auto back = rapport::ParseFormBody(again);
  if (!back.ok() || back->pairs() != form->pairs()) {
    fprintf(stderr, "a decoded form does not round-trip\n");
    abort();
  }
  auto choice = rapport::tracking::ReadPreferenceForm(*form);
  if (choice.ok() && choice->pause_days && *choice->pause_days != 30 && *choice->pause_days != 90) abort();
  return 0;
}
