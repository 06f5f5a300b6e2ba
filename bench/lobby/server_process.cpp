// ServerProcess: fork + exec of this program in --serve mode, and what /proc says about it.

#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tickwire::bench {

const char* server_name(ServerKind kind) {
  switch (kind) {
    case ServerKind::raw_beast:
      return "raw Beast";
    case ServerKind::tickwire_lobby:
      return "Tickwire lobby";
    case ServerKind::tickwire_lobby_tls:
      return "lobby over TLS";
    case ServerKind::tickwire_lobby_redis:
      return "lobby on Redis";
  }
  return "?";
}

ServerProcess::ServerProcess(const std::string& program, ServerKind kind,
                             std::uint16_t redis_port) {
  int to_child[2];
  int from_child[2];
  // Close-on-exec: a second server started later must not inherit this one's stdin, or this one
  // would never see end of file when we close it (dup2 clears the flag on the child's 0 and 1).
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
    error_ = std::string("pipe: ") + std::strerror(errno);
    return;
  }
  const char* mode = kind == ServerKind::raw_beast            ? "raw"
                     : kind == ServerKind::tickwire_lobby     ? "lobby"
                     : kind == ServerKind::tickwire_lobby_tls ? "lobby-tls"
                                                              : "lobby-redis";
  const std::string redis_port_text = std::to_string(redis_port);
  pid_ = fork();
  if (pid_ < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    return;
  }
  if (pid_ == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    execl(program.c_str(), program.c_str(), "--serve", mode, "--redis-port",
          redis_port_text.c_str(), static_cast<char*>(nullptr));
    std::perror("exec");
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  stdin_fd_ = to_child[1];
  // "port <n>\n", or end of file if the child failed (it said why on stderr).
  std::string line;
  char c = 0;
  while (read(from_child[0], &c, 1) == 1 && c != '\n')
    line += c;
  close(from_child[0]);
  unsigned port = 0;
  if (std::sscanf(line.c_str(), "port %u", &port) == 1 && port > 0 && port < 65536) {
    port_ = static_cast<std::uint16_t>(port);
  } else {
    error_ = "the " + std::string(server_name(kind)) + " server did not start: '" + line + "'";
  }
}

ServerProcess::~ServerProcess() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

double ServerProcess::cpu_seconds() const {
  return process_cpu_seconds(pid_);
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The command name in parentheses may hold spaces: fields are counted after its ')'.
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // After ')': state is field 3; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::uint64_t ServerProcess::rss_kib() const {
  std::ifstream file("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace tickwire::bench
