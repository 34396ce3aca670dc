#include "delivery/maildir/maildir_transport.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <unordered_set>

#include "delivery/transport_registry.h"

namespace rapport::delivery {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) == 0 || errno == EEXIST) return true;
  return false;
}

// mkdir -p
bool MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!MakeDir(path.substr(0, i))) return false;
    }
  }
  return true;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

MaildirTransport::MaildirTransport(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
}

SendResult MaildirTransport::WriteOne(const OutgoingMessage& m) {
  auto fail = [&](const std::string& error) { return UniformResult(m, 0, "", error, "maildir"); };
  for (const auto& a : m.envelope.rcpt_to) {
    if (a.find_first_of("\r\n") != std::string::npos) {
      return UniformResult(m, 553, "5.1.3", "recipient has CR or LF (rejected locally)", "maildir",
                           SmtpStep::kLocal);
    }
  }
  if (m.envelope.rcpt_to.empty())
    return UniformResult(m, 553, "5.5.4", "no recipient (rejected locally)", "maildir", SmtpStep::kLocal);
  if (m.envelope.mail_from.find_first_of("\r\n") != std::string::npos) {
    // The sender's address, not the recipient's: 5.1.7 fails the message, never bounces the contact.
    return UniformResult(m, 553, "5.1.7", "sender has CR or LF (rejected locally)", "maildir",
                         SmtpStep::kLocal);
  }
  std::string tmp_dir = directory_ + "/tmp", new_dir = directory_ + "/new";
  if (!MakeDirs(tmp_dir) || !MakeDirs(new_dir) || !MakeDir(directory_ + "/cur")) {
    return fail(Errno("creating " + directory_));
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string name =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()) + "." +
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000) + "P" +
      std::to_string(::getpid()) + "Q" + std::to_string(++counter_) +
      (m.message_id > 0 ? std::string("M") + std::to_string(m.message_id) : std::string()) + ".eml";
  std::string tmp_path = tmp_dir + "/" + name, new_path = new_dir + "/" + name;
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return fail(Errno("creating " + tmp_path));
  std::string head = "X-Rapport-Envelope-From: " + m.envelope.mail_from + "\r\n";
  for (const auto& r : m.envelope.rcpt_to) head += "X-Rapport-Envelope-To: " + r + "\r\n";
  bool ok = WriteAll(fd, head) && WriteAll(fd, m.data) && ::fsync(fd) == 0;
  std::string error = ok ? "" : Errno("writing " + tmp_path);
  if (::close(fd) != 0 && ok) {
    ok = false;
    error = Errno("closing " + tmp_path);
  }
  if (ok && ::rename(tmp_path.c_str(), new_path.c_str()) != 0) {
    ok = false;
    error = Errno("renaming into " + new_dir);
  }
  if (!ok) {
    ::unlink(tmp_path.c_str());
    return fail(error);
  }
  if (!FsyncDir(new_dir)) return fail(Errno("syncing " + new_dir));
  return UniformResult(m, 250, "2.0.0", "written to " + new_path, "maildir");
}

int64_t MaildirMessageId(std::string_view name) {
  size_t eml = name.rfind(".eml");
  if (eml == std::string_view::npos) return 0;
  size_t m = name.rfind('M', eml);
  if (m == std::string_view::npos || m + 1 >= eml) return 0;
  int64_t id = 0;
  for (size_t i = m + 1; i < eml; ++i) {
    if (name[i] < '0' || name[i] > '9' || id > (INT64_MAX - 9) / 10) return 0;
    id = id * 10 + (name[i] - '0');
  }
  return id;
}

Status MaildirTransport::EraseCopies(std::span<const int64_t> message_ids) {
  if (message_ids.empty()) return {};
  std::unordered_set<int64_t> ids(message_ids.begin(), message_ids.end());
  std::vector<std::string> synced;
  for (const char* sub : {"/tmp", "/new", "/cur"}) {
    std::string dir = directory_ + sub;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (errno == ENOENT) continue;
      return Error::Unavailable(Errno("reading " + dir));
    }
    bool removed = false;
    std::string failure;
    while (dirent* e = ::readdir(d)) {
      if (!ids.contains(MaildirMessageId(e->d_name))) continue;
      std::string path = dir + "/" + e->d_name;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        failure = Errno("removing " + path);
        break;
      }
      removed = true;
    }
    ::closedir(d);
    if (!failure.empty()) return Error::Unavailable(failure);
    if (removed && !FsyncDir(dir)) return Error::Unavailable(Errno("syncing " + dir));
  }
  return {};
}

std::vector<SendResult> MaildirTransport::Send(std::span<const OutgoingMessage> batch) {
  std::vector<SendResult> out;
  out.reserve(batch.size());
  for (const auto& m : batch) out.push_back(WriteOne(m));
  return out;
}

void RegisterMaildirTransport(TransportRegistry& registry) {
  registry.Register("maildir", [](std::string_view url) -> Result<std::unique_ptr<Transport>> {
    std::string_view path = url.substr(url.find(':') + 1);
    if (path.substr(0, 2) == "//") path.remove_prefix(2);
    if (path.empty()) return Error::Invalid("url", "maildir: needs a directory");
    return std::unique_ptr<Transport>(std::make_unique<MaildirTransport>(std::string(path)));
  });
}

}  // namespace rapport::delivery
