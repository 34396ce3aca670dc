#include "delivery/inbound/maildir_inbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace rapport::delivery {

namespace fs = std::filesystem;

namespace {
constexpr uintmax_t kMaxMessageBytes = 4 * 1024 * 1024;

bool File(const fs::path& from, const fs::path& cur, std::string_view flags) {
  std::error_code ec;
  fs::rename(from, cur / (from.filename().string() + ":2," + std::string(flags)), ec);
  if (ec) spdlog::warn("inbound maildir: cannot file {}: {}", from.filename().string(), ec.message());
  return !ec;
}
}  // namespace

Status MaildirInbox::EnsureDirectories() const {
  for (const char* sub : {"tmp", "new", "cur"}) {
    std::error_code ec;
    fs::path p = fs::path(dir_) / sub;
    fs::create_directories(p, ec);
    if (ec) return Error::Unavailable("cannot create " + p.string() + ": " + ec.message());
    fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  return {};
}

Result<InboxScan> MaildirInbox::Scan(const Handler& handler, size_t max) const {
  fs::path new_dir = fs::path(dir_) / "new", cur = fs::path(dir_) / "cur";
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(new_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string().front() != '.') files.push_back(it->path());
  }
  if (ec) return Error::Unavailable("cannot list " + new_dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());  // maildir names start with the delivery time
  if (files.size() > max) files.resize(max);
  InboxScan scan;
  for (const fs::path& f : files) {
    uintmax_t size = fs::file_size(f, ec);
    if (ec) continue;  // gone meanwhile
    if (size > kMaxMessageBytes) {
      spdlog::warn("inbound maildir: {} is over 4 MiB; not read", f.filename().string());
      scan.refused += File(f, cur, "FS");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) {
      ++scan.retry;
      continue;
    }
    Status st = handler(ss.str());
    if (st.ok()) {
      scan.handled += File(f, cur, "S");
    } else if (st.error().code == ErrorCode::kUnavailable || st.error().code == ErrorCode::kInternal) {
      ++scan.retry;
    } else {
      spdlog::info("inbound maildir: {} refused: {}", f.filename().string(), st.error().message);
      scan.refused += File(f, cur, "FS");
    }
  }
  return scan;
}

}  // namespace rapport::delivery
