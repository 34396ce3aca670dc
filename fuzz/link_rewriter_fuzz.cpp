// Fuzzes the link rewriter (tracking/link_rewriter.h) on arbitrary HTML: no crash; every kept
// target is an http(s) URL without control characters; the output holds one click URL per kept
// link; with no link kept, the output is the input; the pixel always lands in the output.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tracking/link_rewriter.h"

using namespace rapport::tracking;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  RewriteOptions o;
  o.click_url = [](size_t i) { return "https://t.example/c/TOKEN" + std::to_string(i) + "Z"; };
  o.keep_prefixes = {"https://t.example/u/"};
  o.max_links = 64;
  RewrittenHtml r = RewriteLinks(input, o);
  if (r.links.size() > o.max_links) abort();
  for (const std::string& l : r.links) {
    std::string lower;
    for (char c : l.substr(0, 8)) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    if (lower.compare(0, 7, "http://") != 0 && lower.compare(0, 8, "https://") != 0) {
      fprintf(stderr, "a kept target is not http(s)\n");
      abort();
    }
    for (char c : l)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        fprintf(stderr, "a control character in a kept target\n");
        abort();
      }
  }
  for (size_t i = 0; i < r.links.size(); ++i) {
    std::string url = "\"https://t.example/c/TOKEN" + std::to_string(i) + "Z\"";
    if (r.html.find(url) == std::string::npos) {
      fprintf(stderr, "link %zu was not rewritten\n", i);
      abort();
    }
  }
  if (r.links.empty() && r.html != input) {
    fprintf(stderr, "no link kept, yet the HTML changed\n");
    abort();
  }
  std::string with_pixel = AddOpenPixel(r.html, "https://t.example/o/P");
  if (with_pixel.size() <= r.html.size() || with_pixel.find("https://t.example/o/P") == std::string::npos)
    abort();
  (void)DecodeHtmlAttribute(input);
  return 0;
}
