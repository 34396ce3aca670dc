// The maildir transport, rapport's embedded default: every message becomes one .eml file under
// a directory (e.g. ./var/outbox), written atomically: into DIR/tmp/, fsync'd, then renamed into
// DIR/new/ (and the directory fsync'd), as maildir delivery does. Nothing leaves the machine.
//
// URL: "maildir:PATH" or "maildir://PATH" (relative or absolute). The file starts with
// "X-Rapport-Envelope-From:" and one "X-Rapport-Envelope-To:" line per recipient, then the
// message bytes unchanged. Outcomes: 250 "2.0.0 written to PATH" for every recipient, or code 0
// with the OS error (temporary) when the write fails. Thread-safe (file names are unique per
// process: time, pid, a counter). A message from the outbox has its id in the file name
// ("<secs>.<usecs>P<pid>Q<n>M<id>.eml", a reader may append ":2,<flags>" in cur/), so that
// EraseCopies finds every copy of an erased contact's messages in tmp/, new/ and cur/.
#pragma once

#include <atomic>
#include <string>

#include "delivery/transport.h"
#include "delivery/transport_registry.h"

namespace rapport::delivery {

class MaildirTransport final : public Transport {
 public:
  explicit MaildirTransport(std::string directory);
  std::vector<SendResult> Send(std::span<const OutgoingMessage> batch) override;
  std::string Describe() const override { return "maildir:" + directory_; }
  Status EraseCopies(std::span<const int64_t> message_ids) override;
  const std::string& directory() const { return directory_; }

 private:
  SendResult WriteOne(const OutgoingMessage& m);

  std::string directory_;
  std::atomic<uint64_t> counter_{0};
};

// The outbox message id a maildir file's name carries ("...M<id>.eml", "...M<id>.eml:2,S"), or 0.
int64_t MaildirMessageId(std::string_view file_name);

// Registers "maildir" (URLs as above).
void RegisterMaildirTransport(TransportRegistry& registry);

}  // namespace rapport::delivery
