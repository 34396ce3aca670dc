// The link rewriter: the composer's last step on a tracked message's HTML part.
//
// Every http(s) link (`href` of <a> and <area>) becomes a click URL for its index, numbered in
// document order from 0; the original targets are returned by index so the message can keep
// them (the click endpoint looks the target up there, never in the token). Left alone: targets
// with control characters (after decoding), other
// schemes (mailto:, tel:, sms:, javascript: ...), anchors (#top), relative links, links whose tag
// carries `data-rapport-notrack`, links that start with one of `keep_prefixes` (rapport's own
// unsubscribe and preference pages), anything inside comments, <script> and <style>, and links
// past `max_links`. Hrefs are HTML-decoded (&amp; -> &) before they are kept, and the new URL is
// written attribute-escaped in double quotes. AddOpenPixel puts the open pixel (a 1x1 <img>) just
// before the last </body>, or at the end when there is none.
//
// Pure; no allocation beyond the output. Any input is accepted (malformed HTML is copied as it
// is, past the point it stops making sense).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::tracking {

struct RewriteOptions {
  std::function<std::string(size_t index)> click_url;  // required
  std::vector<std::string> keep_prefixes;
  size_t max_links = 1000;
};

struct RewrittenHtml {
  std::string html;
  std::vector<std::string> links;  // original targets, by link index
};

RewrittenHtml RewriteLinks(std::string_view html, const RewriteOptions& options);
std::string AddOpenPixel(std::string_view html, std::string_view pixel_url);

// The HTML entities of an attribute value decoded (&amp; &lt; &gt; &quot; &apos; &#N; &#xH;);
// unknown or malformed entities are kept as written.
std::string DecodeHtmlAttribute(std::string_view value);

// An http(s) URL (the scheme in any letter case) with no control character: what the rewriter
// tracks, and so what a click may be redirected to (never into a Location header otherwise).
bool IsTrackableUrl(std::string_view url);

}  // namespace rapport::tracking
