// The fast lane's request-head parser (http/request_head.h) on arbitrary bytes: never reads past
// the input, and what it calls complete is consistent (its length within the input, its fields
// inside it, no CR or LF in a name or value); the response writer never writes CR or LF from a
// field it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_head.h"

using rapport::http::HeadParse;
using rapport::http::RequestHead;
using rapport::http::Response;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  RequestHead head;
  HeadParse p = rapport::http::ParseRequestHead(in, head);
  if (p == HeadParse::kComplete) {
    if (head.size > in.size() || in.substr(head.size - 4, 4) != "\r\n\r\n") std::abort();
    if (head.target.empty() || head.target[0] != '/') std::abort();
    for (const auto& [name, value] : head.fields)
      if (name.find_first_of("\r\n:") != std::string_view::npos ||
          value.find_first_of("\r\n") != std::string_view::npos)
        std::abort();
  }
  // The input as a response's field value and body: written only when it holds no CR, LF or NUL.
  Response r;
  r.status = size > 0 ? 100 + data[0] * 4 : 200;
  r.headers.emplace_back("Location", std::string(in.substr(0, in.size() / 2)));
  r.body = std::string(in.substr(in.size() / 2));
  std::string out;
  bool written = rapport::http::AppendResponse(r, size % 2, size % 3 == 0, size % 5 == 0, out);
  bool clean = r.headers[0].second.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
  if (written != clean) std::abort();
  if (written && out.rfind("HTTP/1.", 0) != 0) std::abort();
  if (!written && !out.empty()) std::abort();
  return 0;
}
