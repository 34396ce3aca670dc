#include "core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "core/encoding.h"

namespace rapport {
namespace {

constexpr std::string_view kMask = "***";

constexpr std::array<std::string_view, 9> kSecretKeys = {
    "password", "pass", "passwd", "pwd", "secret", "token", "sslpassword", "api_key", "apikey"};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsSecretKey(std::string_view key) {
  for (std::string_view k : kSecretKeys) {
    if (k.size() != key.size()) continue;
    size_t i = 0;
    while (i < k.size() && Lower(key[i]) == k[i]) ++i;
    if (i == k.size()) return true;
  }
  return false;
}

// Where the userinfo of `url` is: [begin, end) before its last '@'; false when there is none.
bool FindUserinfo(std::string_view url, size_t& begin, size_t& end) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  begin = scheme + 3;
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < begin) return false;
  end = at;
  return true;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Calls `f(value_begin, value_end)` for every "key=value" whose key names a secret; values end
// at '&', whitespace or the end, or at the closing quote of a quoted conninfo value.
template <typename F>
void ForEachSecretParameter(std::string_view text, F f) {
  for (size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    // conninfo allows spaces around '=': "password = x".
    size_t key_end = eq;
    while (key_end > 0 && text[key_end - 1] == ' ') --key_end;
    size_t k = key_end;
    while (k > 0 && (std::isalnum(static_cast<unsigned char>(text[k - 1])) || text[k - 1] == '_')) --k;
    size_t v = eq + 1;
    if (!IsSecretKey(text.substr(k, key_end - k))) continue;
    while (v < text.size() && text[v] == ' ') ++v;
    size_t end = v;
    if (v < text.size() && text[v] == '\'') {
      end = v + 1;
      while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != '&' && text[end] != ' ' && text[end] != '\t' &&
             text[end] != '\n' && text[end] != '"')
        ++end;
    }
    if (end > v) f(v, end);
  }
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  size_t begin = 0, end = 0;
  if (FindUserinfo(url, begin, end)) {
    std::string_view userinfo = url.substr(begin, end - begin);
    const size_t colon = userinfo.find(':');
    std::string masked = colon == std::string_view::npos
                             ? std::string(kMask)
                             : std::string(userinfo.substr(0, colon + 1)) + std::string(kMask);
    out = std::string(url.substr(0, begin)) + masked + std::string(url.substr(end));
  }
  // Secret parameters, right to left so earlier offsets stay valid.
  std::vector<std::pair<size_t, size_t>> values;
  ForEachSecretParameter(out, [&](size_t b, size_t e) { values.emplace_back(b, e); });
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    out.replace(it->first, it->second - it->first, kMask);
  return out;
}

std::string RedactSecrets(std::string_view text, std::string_view url) {
  std::string out(text);
  if (url.empty()) return out;
  const std::string redacted = RedactUrl(url);
  ReplaceAll(out, url, redacted);
  std::vector<std::string> secrets;
  size_t begin = 0, end = 0;
  if (FindUserinfo(url, begin, end)) {
    std::string_view userinfo = url.substr(begin, end - begin);
    const size_t colon = userinfo.find(':');
    std::string_view password = colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1);
    secrets.emplace_back(userinfo);
    secrets.emplace_back(password);
    secrets.push_back(PercentDecode(password));
  }
  ForEachSecretParameter(url, [&](size_t b, size_t e) {
    std::string_view v = url.substr(b, e - b);
    secrets.emplace_back(v);
    secrets.push_back(PercentDecode(v));
  });
  // Longest first, so a secret that contains another is masked whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& s : secrets) {
    if (s.size() < 3 || s == kMask) continue;  // shorter ones would mask ordinary words
    ReplaceAll(out, s, kMask);
  }
  return out;
}

}  // namespace rapport
