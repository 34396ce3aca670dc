#include "mail/dkim_canonical.h"

namespace rapport::mail {

SplitMessage SplitHeaders(std::string_view message) {
  SplitMessage result;
  size_t i = 0;
  const size_t n = message.size();
  while (i < n) {
    // An empty line ends the header block.
    if (message.compare(i, 2, "\r\n") == 0) {
      result.body = message.substr(i + 2);
      return result;
    }
    size_t start = i;
    size_t end;
    // The field runs until a line end that is followed by a non-WSP character.
    for (;;) {
      end = message.find("\r\n", i);
      if (end == std::string_view::npos) {
        end = n;
        i = n;
        break;
      }
      i = end + 2;
      if (i < n && (message[i] == ' ' || message[i] == '\t')) continue;
      break;
    }
    std::string_view raw = message.substr(start, end - start);
    size_t colon = raw.find(':');
    if (colon == std::string_view::npos) continue;  // not a header field; ignore it
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    result.headers.push_back({name, raw});
  }
  return result;
}

void AppendRelaxedHeader(std::string& out, std::string_view raw_field, bool crlf) {
  size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) colon = raw_field.size();
  std::string_view name = raw_field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  for (char c : name) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  out.push_back(':');
  bool in_wsp = false;
  bool started = false;  // WSP right after the colon is dropped
  for (size_t k = colon + 1; k < raw_field.size(); ++k) {
    const char c = raw_field[k];
    if (c == '\r' || c == '\n') continue;  // unfold
    if (c == ' ' || c == '\t') {
      in_wsp = true;
      continue;
    }
    if (in_wsp && started) out.push_back(' ');
    in_wsp = false;
    started = true;
    out.push_back(c);
  }
  if (crlf) out.append("\r\n");
}

std::string RelaxedBody(std::string_view body) {
  std::string out;
  RelaxedBodyCanonicalizer::Run(body, [&](std::string_view s) { out.append(s); });
  return out;
}

}  // namespace rapport::mail
