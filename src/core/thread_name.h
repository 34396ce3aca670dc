// Names the calling thread for the operator's tools (top -H, ps -L, perf --sort comm, gdb):
// Linux keeps the first 15 bytes of the name. Best effort: a failure is ignored.
#pragma once

#include <string_view>

namespace rapport {

void NameThisThread(std::string_view name);

}  // namespace rapport
