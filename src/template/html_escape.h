// HTML escaping of text: & < > " ' become &amp; &lt; &gt; &quot; &#39; (what Liquid's `escape`
// filter and the HTML part's auto-escaping write, and what rapport's own pages use). Pure.
#pragma once

#include <string>
#include <string_view>

namespace rapport::liquid {

// Appends `s` to `out`, escaped.
void AppendEscapedHtml(std::string& out, std::string_view s);

// `s` escaped.
std::string EscapeHtml(std::string_view s);

// The size of `s` escaped (s.size() when nothing needs escaping).
size_t EscapedHtmlSize(std::string_view s);
// Writes `s` escaped to `out`, which has room for EscapedHtmlSize(s) bytes.
void WriteEscapedHtml(char* out, std::string_view s);

}  // namespace rapport::liquid
