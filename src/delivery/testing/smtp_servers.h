// Test helpers (header-only, for *_test.cpp files): start real SMTP servers as subprocesses on
// loopback — Postfix's smtp-sink and tests/smtp/scripted_server.py (python3-aiosmtpd) — and a
// temporary directory. A server that cannot start is a test failure, never a skip: Start*()
// return an empty optional with the reason in `error`, and tests ASSERT on it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../../../tests/support/watchdog.h"
#include "source_dir.h"

namespace rapport::delivery::testing {

inline std::string SourceDir() { return RAPPORT_SOURCE_DIR; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rapport-delivery-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A child process with a pipe on its stdin (closed to ask it to stop) and one on its stdout.
class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { Stop(); }

  bool Start(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return false;
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    // Killed if this process ends without Stop() (a test binary that aborts); only if the pid
    // is still this child's, not a later process's that reuses it: the watchdog notes the
    // child's start time (field 22 of /proc/PID/stat, set at fork) as it starts and compares.
    const std::string pid = std::to_string(pid_);
    const std::string start_time = "$(sed 's/.*) //' /proc/" + pid + "/stat | cut -d' ' -f20)";
    watchdog_.Arm("[ -n \"$started\" ] && [ \"" + start_time + "\" = \"$started\" ] && kill -9 " + pid,
                  "started=" + start_time);
    return true;
  }

  // Reads stdout until a line starting with `prefix` (within `timeout`); returns the line.
  std::optional<std::string> WaitForLine(const std::string& prefix, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buf;
    ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
    while (std::chrono::steady_clock::now() < deadline) {
      char c[256];
      ssize_t n = ::read(stdout_, c, sizeof c);
      if (n > 0) {
        buf.append(c, n);
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
          std::string line = buf.substr(0, nl);
          buf.erase(0, nl + 1);
          if (line.rfind(prefix, 0) == 0) return line;
        }
      } else if (n == 0) {
        return std::nullopt;  // exited
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return std::nullopt;
  }

  pid_t pid() const { return pid_; }

  bool Running() {
    if (pid_ <= 0) return false;
    int status;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

  void Stop() {
    if (pid_ <= 0) return;
    watchdog_.Disarm();
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int status;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::kill(pid_, SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  rapport::testing::Watchdog watchdog_;
};

// Postfix's smtp-sink on 127.0.0.1:port. `extra` are more options ("-d", "DIR/%M.").
struct SmtpSink {
  Process process;
  int port = 0;
  std::string error;

  bool Start(const std::vector<std::string>& extra = {}) {
    std::string root = SourceDir() + "/.deps/postfix";
    std::string bin = root + "/usr/sbin/smtp-sink";
    if (::access(bin.c_str(), X_OK) != 0) {
      error = bin + " is missing: run scripts/setup";
      return false;
    }
    for (int tries = 0; tries < 5; ++tries) {
      port = FreePort();
      std::vector<std::string> argv = {bin, "-u", "nobody"};
      argv.insert(argv.end(), extra.begin(), extra.end());
      argv.push_back("127.0.0.1:" + std::to_string(port));
      argv.push_back("1000");
      if (!process.Start(argv, {"LD_LIBRARY_PATH=" + root + "/usr/lib/postfix"})) continue;
      for (int i = 0; i < 200; ++i) {
        if (CanConnect(port)) return true;
        if (!process.Running()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      process.Stop();
    }
    error = "smtp-sink did not start";
    return false;
  }
};

// tests/smtp/scripted_server.py with the given options.
struct ScriptedServer {
  Process process;
  int port = 0;
  std::string error;

  bool Start(const std::vector<std::string>& options) {
    std::vector<std::string> argv = {"/usr/bin/python3", SourceDir() + "/tests/smtp/scripted_server.py"};
    argv.insert(argv.end(), options.begin(), options.end());
    if (!process.Start(argv)) {
      error = "cannot start python3";
      return false;
    }
    auto line = process.WaitForLine("READY ", std::chrono::seconds(15));
    if (!line) {
      error = "scripted_server.py did not print READY (is python3-aiosmtpd installed?)";
      return false;
    }
    port = std::stoi(line->substr(6));
    return true;
  }
};

// A self-signed certificate for 127.0.0.1 / localhost made with the openssl CLI.
inline bool MakeSelfSignedCert(const std::string& dir, std::string& cert, std::string& key) {
  cert = dir + "/cert.pem";
  key = dir + "/key.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
                    "' -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                    " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  return out;
}

}  // namespace rapport::delivery::testing
