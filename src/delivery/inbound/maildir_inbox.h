// The inbound maildir: where an MTA delivers the bounces and complaints sent to the VERP
// addresses (Postfix: a transport or an alias to a maildir; see docs/feedback.md). Each scan
// reads the messages in new/, oldest name first, hands each to the handler and files it in cur/
// so it is read once: "<name>:2,S" when handled, "<name>:2,FS" (flagged) when the handler
// refused it (not a report, not about a message of ours), so an operator can look. A handler
// failure that may pass (kUnavailable, kInternal: the store is busy or down) leaves the message
// in new/ for the next scan. Messages over 4 MiB are refused unread.
//
// Thread-compatible: one scanner at a time per directory (the serve command runs one).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace rapport::delivery {

struct InboxScan {
  int handled = 0;
  int refused = 0;
  int retry = 0;  // left in new/ for the next scan
};

class MaildirInbox {
 public:
  using Handler = std::function<Status(std::string_view raw)>;
  explicit MaildirInbox(std::string dir) : dir_(std::move(dir)) {}
  // Creates dir/{tmp,new,cur} (mode 0700) when missing.
  Status EnsureDirectories() const;
  // Reads at most `max` messages of new/. kUnavailable when new/ cannot be listed.
  Result<InboxScan> Scan(const Handler& handler, size_t max = 1000) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace rapport::delivery
