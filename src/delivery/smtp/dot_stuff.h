// Preparing message bytes for the SMTP DATA phase (RFC 5321 §4.5.2), pure and fast.
//
// AppendDotStuffed appends `data` to `out` with every line that starts with '.' given an extra
// '.', bare LF turned into CRLF, a final CRLF added when missing, and the ".\r\n" terminator.
// It copies runs between line ends with memcpy, so it costs little more than one copy.
// HasEightBitBytes tells whether the message needs BODY=8BITMIME. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace rapport::delivery {

void AppendDotStuffed(std::string_view data, std::string& out);
// True when `data` can be sent as it is, followed by ".\r\n": every line ends in CRLF (the
// last one included) and none starts with '.'. Lets the client skip the copy.
bool IsTransparent(std::string_view data);
bool HasEightBitBytes(std::string_view data);

// Both questions in one pass over the bytes (8 at a time), as the client asks them per message.
struct MessageShape {
  bool transparent = false;  // IsTransparent()
  bool eight_bit = false;    // HasEightBitBytes()
};
MessageShape InspectMessage(std::string_view data);

}  // namespace rapport::delivery
