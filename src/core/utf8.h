// UTF-8 validity, shared by every parser of outside text (addresses, headers, template filters).
#pragma once

#include <string_view>

namespace rapport {

// True when `s` is well-formed UTF-8: no stray continuation bytes, no truncated sequences, no
// overlong forms, no surrogates, nothing above U+10FFFF. Pure.
bool IsValidUtf8(std::string_view s);

}  // namespace rapport
