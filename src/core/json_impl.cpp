// The one translation unit that compiles Boost.JSON (Debian's Boost 1.81 ships it header-only).
#include <boost/json/src.hpp>
