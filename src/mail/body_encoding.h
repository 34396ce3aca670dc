// Content-Transfer-Encoding for text bodies: choosing one and writing the encoded body.
//
// Bodies are taken as UTF-8 text with any line ends (CRLF, bare LF or bare CR); they are written
// in canonical form: every line ends in CRLF, including the last one (a final line end is added
// when the text has none). No output line exceeds 76 characters for quoted-printable and base64,
// or 78 for 7bit.
//
// The choice (ChooseTransferEncoding):
//  - 7bit: printable ASCII and TAB only, every line at most 78 octets, no line starting with
//    "From " (mbox writers would mangle it) and no "--=_" (our boundaries start so);
//  - quoted-printable: otherwise, when it is the shorter encoding (mostly-ASCII text);
//  - base64: otherwise.
// Quoted-printable output never contains "=_" nor a line starting with '.' or "From ", and
// base64 output never contains '_' or '-', so a boundary "=_..." cannot occur in any encoded body.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rapport::mail {

enum class TransferEncoding { k7bit, kQuotedPrintable, kBase64 };

// "7bit", "quoted-printable", "base64".
std::string_view TransferEncodingName(TransferEncoding e);

TransferEncoding ChooseTransferEncoding(std::string_view body);

// Appends `body` in canonical form encoded with `encoding`; the output ends with CRLF unless
// the body is empty.
void AppendEncodedBody(std::string& out, std::string_view body, TransferEncoding encoding);

// `body` with every line end made CRLF and a final CRLF added when missing (empty stays empty).
std::string CanonicalizeLineEnds(std::string_view body);

}  // namespace rapport::mail
