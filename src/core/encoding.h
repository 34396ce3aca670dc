// Byte-level helpers every module shares: RFC 5322 atext, hexadecimal and base64 (RFC 4648).
// Pure functions; thread-safe. The alphabets are exported so that the hot loops of the MIME
// writer (mail/body_encoding.cpp) share them rather than keep copies.
#pragma once

#include <string>
#include <string_view>

namespace rapport {

inline constexpr char kHexDigitsLower[] = "0123456789abcdef";
inline constexpr char kHexDigitsUpper[] = "0123456789ABCDEF";
inline constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// RFC 5322 §3.2.3 atext: ALPHA, DIGIT and !#$%&'*+-/=?^_`{|}~ (ASCII only).
bool IsAtext(unsigned char c);

// The value of a hexadecimal digit (either case), or -1.
int HexDigitValue(char c);

// Appends two hex digits per byte (lower case unless `upper`).
void AppendHex(std::string& out, std::string_view bytes, bool upper = false);
std::string Hex(std::string_view bytes, bool upper = false);

enum class Base64Alphabet { kStandard, kUrl };

// Appends `bytes` as base64 on one line: the standard alphabet with '=' padding, or the URL-safe
// alphabet without padding (RFC 4648 §5, as in signed link tokens).
void AppendBase64(std::string& out, std::string_view bytes,
                  Base64Alphabet alphabet = Base64Alphabet::kStandard);
std::string Base64(std::string_view bytes, Base64Alphabet alphabet = Base64Alphabet::kStandard);

}  // namespace rapport
