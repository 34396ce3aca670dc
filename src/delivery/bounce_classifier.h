// What a failed delivery attempt means: the DeliveryFailure (core/outbox.h) of one reply. Pure,
// thread-safe, allocation-free.
//
// The inputs are the basic reply code (0 when there was no reply), the RFC 3463 enhanced status
// code when the server gave one ("5.1.1"), the reply text and the protocol step that answered.
// The rules, in order:
//  1. 2xx: kNone. Code 0 (no reply) or a code outside 4xx/5xx: kConnection.
//  2. The enhanced code decides when it is specific: x.1.1-x.1.6, x.1.9-x.1.10 the recipient's
//     address (x.1.7, x.1.8: the sender's); x.2.2 mailbox full; x.2.1 disabled; x.2.3, x.3.4
//     too large; x.5.x protocol; x.6.x content; x.7.x policy, or sender authentication for the
//     codes that name it (x.7.8, x.7.20-x.7.27 but x.7.25) or a text about SPF/DKIM/DMARC;
//     4.7.28 / x.4.5 / 4.3.2 / 421 throttled.
//  3. A generic or absent enhanced code (x.0.0, x.1.0, x.2.0, x.3.0, x.4.x, x.5.0, x.7.0, x.7.9)
//     leaves it to the text, matched case-insensitively against what Gmail, Outlook, Yahoo and
//     the common MTAs say: block lists and spam first (a "blocked" reply may also name the
//     recipient), then size, content, sender authentication, full and disabled mailboxes, and
//     last "no such user", "user unknown", "mailbox unavailable / not found / does not exist",
//     "recipient rejected", "doesn't have a ... account". 552 without a code means mailbox full at
//     RCPT and too large after the data (RFC 5321).
//  4. 4xx replies are kThrottled, kMailboxFull or kTransient (all deferred; the class only
//     counts). What is left: kTransient for 4xx, kOther for 5xx (a permanent failure that is not the
//     address's: the contact stays mailable).
//  5. The step bounds the result: a reply to the greeting, EHLO, STARTTLS or AUTH is never about
//     the recipient (an address class there becomes kOther), and a reply to MAIL FROM that names
//     an address is about the sender (kSenderAuth).
// Only kRecipientAddress bounces a contact, so the rules lean towards "not the address" when a
// reply is ambiguous: a wrongly failed message costs one message, a wrongly bounced contact all
// their future mail.
#pragma once

#include <string_view>

#include "core/outbox.h"
#include "delivery/transport.h"

namespace rapport::delivery {

DeliveryFailure ClassifyReply(int code, std::string_view enhanced_code, std::string_view text,
                              SmtpStep step = SmtpStep::kUnknown);

}  // namespace rapport::delivery
