// RFC 2047 encoded words in UTF-8 for header values that cannot be written as they are
// (non-ASCII text, "=?", long unbreakable runs): Q or B, whichever is shorter, each word at most
// 75 characters, never splitting a UTF-8 sequence, base64 words cut on 3-byte boundaries (some
// readers join adjacent words before decoding). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rapport::mail {

// Appends `text` (valid UTF-8) as RFC 2047 encoded words to `out`, where the current line is
// `column` characters long; folds with CRLF SP between words and updates `column`. `phrase`
// restricts Q encoding to the characters allowed in a phrase (RFC 2047 section 5 (3)).
// Exposed for the fuzzer and the tests.
void AppendEncodedWords(std::string& out, std::string_view text, size_t& column, bool phrase);

}  // namespace rapport::mail
