// Cleans up after a test process however it ends: a watchdog is a shell, in its own session,
// that reads its stdin until end of file and then runs a cleanup command. Its stdin is a pipe
// whose write end only this process holds (close-on-exec, so no other child inherits it), so
// end of file comes when this process ends, whether it returns, aborts or is killed. Disarm()
// ends the watchdog without cleaning up (the caller cleaned up itself). Header-only.
//
// For what outlives a test binary on its own: a daemonized PostgreSQL server, or an smtp-sink
// that changed user (which clears PR_SET_PDEATHSIG).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace rapport::testing {

class Watchdog {
 public:
  Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() { Disarm(); }

  // Arms the watchdog to run `cleanup` (a /bin/sh command) once this process ends; `prepare`, if
  // given, runs as the watchdog starts (to note what `cleanup` checks). False if it could not
  // start (then nothing is armed).
  bool Arm(const std::string& cleanup, const std::string& prepare = "") {
    Disarm();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    std::string script = (prepare.empty() ? "" : prepare + "; ") + "cat >/dev/null; " + cleanup;
    pid_t pid = ::fork();
    if (pid == 0) {  // only async-signal-safe calls until exec
      ::setsid();    // a signal to this process's group does not take the watchdog along
      ::dup2(fds[0], 0);
      int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) {
        ::dup2(null, 1);
        ::dup2(null, 2);
      }
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    if (pid < 0) {
      ::close(fds[1]);
      return false;
    }
    pid_ = pid;
    pipe_ = fds[1];  // held open, never written, until Disarm() or the end of this process
    return true;
  }

  void Disarm() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (pipe_ >= 0) {
      ::close(pipe_);
      pipe_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int pipe_ = -1;
};

}  // namespace rapport::testing
