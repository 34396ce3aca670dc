// A throwaway PostgreSQL 15 server for tests: initdb into a fresh temp dir, start postgres on a
// free port (Unix socket in that dir only, fsync=on), create databases, dump one (pg_dump), stop
// and delete it all.
//
// initdb refuses to run as root: as root the server runs as the `postgres` system user (or
// `rapport-test`, created with useradd --system when neither exists), through runuser, and the
// temp dir is handed to that user. Binaries come from $RAPPORT_PG_BIN or
// /usr/lib/postgresql/15/bin. Header-only so any test binary can include it.
// Thread-safety: Start/CreateDatabase/Stop from one thread (a test Environment).
//
// pg_ctl leaves the server running on its own, so a test binary that aborts or is killed would
// leave it behind: a Watchdog (tests/support/watchdog.h) stops the server and deletes the dir
// when this process ends without Stop().
#pragma once

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "../support/watchdog.h"

namespace rapport::testing {

class PgServer {
 public:
  // Starts a server; on failure returns null and sets *error to what went wrong (with the log).
  static std::unique_ptr<PgServer> Start(std::string* error) {
    std::unique_ptr<PgServer> s(new PgServer());
    if (!s->DoStart(error)) return nullptr;
    return s;
  }

  ~PgServer() { Stop(); }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A libpq URI for database `db` on this server.
  std::string Url(const std::string& db) const {
    return "postgresql:///" + db + "?host=" + Encode(dir_) + "&port=" + std::to_string(port_) +
           "&user=postgres";
  }

  bool CreateDatabase(const std::string& name, std::string* error) {
    PGconn* conn = PQconnectdb(Url("postgres").c_str());
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      // `name` is chosen by the test (identifier characters only), quoted as an identifier.
      char* ident = PQescapeIdentifier(conn, name.c_str(), name.size());
      PGresult* res = PQexec(conn, ("CREATE DATABASE " + std::string(ident)).c_str());
      PQfreemem(ident);
      ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      if (!ok) *error = PQresultErrorMessage(res);
      PQclear(res);
    } else {
      *error = PQerrorMessage(conn);
    }
    PQfinish(conn);
    return ok;
  }

  void Stop() {
    watchdog_.Disarm();  // stopping here
    if (started_) {
      Run(Bin("pg_ctl") + " -D " + dir_ + "/data -m immediate -w stop > " + dir_ + "/stop.log 2>&1");
      started_ = false;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // The plain-text dump of database `db` (identifier characters only) by pg_dump from the same
  // bin dir, over this server's socket: every row of every table as PostgreSQL gives it out
  // (bytea columns in hex). False with *error (pg_dump's output) on failure.
  bool Dump(const std::string& db, std::string* out, std::string* error) const {
    const std::string file = dir_ + "/dump-" + db + ".sql";
    const std::string log = dir_ + "/dump-" + db + ".log";
    // The redirections are this process's shell's: the files are ours even when pg_dump runs as
    // the server's user.
    const bool ok = Run(Bin("pg_dump") + " -h " + dir_ + " -p " + std::to_string(port_) +
                        " -U postgres --no-password -d " + db + " > " + file + " 2> " + log) == 0;
    if (ok)
      *out = ReadFile(file);
    else
      *error = "pg_dump failed:\n" + ReadFile(log);
    std::error_code ec;
    std::filesystem::remove(file, ec);
    std::filesystem::remove(log, ec);
    return ok;
  }

 private:
  PgServer() = default;

  static std::string Encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
        out.push_back(static_cast<char>(c));
      else {
        out.push_back('%');
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      }
    }
    return out;
  }

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    close(fd);
    return port;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string Bin(const std::string& tool) const {
    const char* env = std::getenv("RAPPORT_PG_BIN");
    std::string bin =
        (env && *env ? std::string(env) : std::string("/usr/lib/postgresql/15/bin")) + "/" + tool;
    return user_.empty() ? bin : "runuser -u " + user_ + " -- " + bin;
  }

  static int Run(const std::string& cmd) { return std::system(cmd.c_str()); }

  bool DoStart(std::string* error) {
    char tmpl[] = "/tmp/rapport-pg-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      *error = "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
    if (geteuid() == 0) {
      if (getpwnam("postgres") != nullptr) {
        user_ = "postgres";
      } else {
        if (getpwnam("rapport-test") == nullptr &&
            Run("useradd --system --no-create-home --shell /usr/sbin/nologin rapport-test") != 0) {
          *error = "running as root, and neither the postgres user exists nor could rapport-test be created";
          return false;
        }
        user_ = "rapport-test";
      }
      passwd* pw = getpwnam(user_.c_str());
      if (pw == nullptr || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        *error = "cannot hand " + dir_ + " to user " + user_;
        return false;
      }
    }
    if (Run(Bin("initdb") + " -D " + dir_ + "/data -A trust -U postgres --no-sync -E UTF8 --locale=C > " +
            dir_ + "/initdb.log 2>&1") != 0) {
      *error = "initdb failed:\n" + ReadFile(dir_ + "/initdb.log");
      return false;
    }
    for (int attempt = 0; attempt < 5 && !started_; ++attempt) {
      port_ = FreePort();
      if (port_ == 0) continue;
      std::string opts = "-k " + dir_ + " -p " + std::to_string(port_) +
                         " -c listen_addresses='' -c fsync=on -c max_connections=64";
      started_ = Run(Bin("pg_ctl") + " -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o \"" +
                     opts + "\" start > " + dir_ + "/pg_ctl.log 2>&1") == 0;
    }
    if (!started_) {
      *error = "postgres did not start:\n" + ReadFile(dir_ + "/pg_ctl.log") + ReadFile(dir_ + "/server.log");
      return false;
    }
    watchdog_.Arm(Bin("pg_ctl") + " -D " + dir_ + "/data -m immediate -w stop; rm -rf " + dir_);
    return true;
  }

  std::string dir_;
  std::string user_;
  int port_ = 0;
  bool started_ = false;
  Watchdog watchdog_;
};

}  // namespace rapport::testing
