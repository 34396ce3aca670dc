#include "app/dkim_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mail/dkim.h"

namespace rapport {
namespace {

// Writes `data` to a new file with mode 0600; fails if the file exists.
bool WritePrivateFile(const std::string& path, const std::string& data, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  if (!ok) *error = path + ": " + std::strerror(errno);
  if (::close(fd) != 0 && ok) {
    *error = path + ": " + std::strerror(errno);
    ok = false;
  }
  if (!ok) ::unlink(path.c_str());
  return ok;
}

// A TOML basic string's contents.
std::string TomlEscape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r.push_back('\\');
    r.push_back(c);
  }
  return r;
}

}  // namespace

int RunDkimKeygen(const std::string& domain, const std::string& selector, const std::string& algorithm,
                  const std::string& out_key_file, std::FILE* out, std::FILE* err) {
  auto alg = mail::ParseDkimAlgorithm(algorithm);
  if (!alg) {
    std::fprintf(err, "dkim keygen: unknown algorithm '%s' (use rsa or ed25519)\n", algorithm.c_str());
    return 2;
  }
  if (out_key_file.empty()) {
    std::fprintf(err, "dkim keygen: an output key file is required\n");
    return 2;
  }
  auto pem = mail::GenerateDkimKeyPem(*alg);
  if (!pem.ok()) {
    std::fprintf(err, "dkim keygen: %s\n", pem.error().message.c_str());
    return 1;
  }
  // Validates domain and selector and checks the key signs before anything is written.
  auto key = mail::DkimKeyFromPem(domain, selector, *pem, *alg);
  if (!key.ok()) {
    std::fprintf(err, "dkim keygen: %s: %s\n", key.error().field.c_str(), key.error().message.c_str());
    return key.error().field == "key_file" ? 1 : 2;
  }
  auto record = mail::DkimDnsRecord(*key);
  if (!record.ok()) {
    std::fprintf(err, "dkim keygen: %s\n", record.error().message.c_str());
    return 1;
  }
  std::string error;
  if (!WritePrivateFile(out_key_file, *pem, &error)) {
    std::fprintf(err, "dkim keygen: cannot write the key: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(out,
               "%s\n\n# rapport.toml\n[[dkim]]\ndomain = \"%s\"\nselector = \"%s\"\n"
               "key_file = \"%s\"\nalgorithm = \"%s\"\n",
               record->c_str(), domain.c_str(), selector.c_str(), TomlEscape(out_key_file).c_str(),
               std::string(mail::DkimAlgorithmName(*alg)).c_str());
  return 0;
}

}  // namespace rapport
