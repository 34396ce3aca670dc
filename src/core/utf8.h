// UTF-8 validity, shared by every parser of outside text (addresses, headers, template filters),
// and the encoding of one code point (HTML character references: compose/, tracking/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rapport {

// True when `s` is well-formed UTF-8: no stray continuation bytes, no truncated sequences, no
// overlong forms, no surrogates, nothing above U+10FFFF. Pure.
bool IsValidUtf8(std::string_view s);

// Appends `code_point` as UTF-8; NUL, surrogates and anything above U+10FFFF become U+FFFD.
void AppendUtf8(std::string& out, uint32_t code_point);

}  // namespace rapport
