// socket_sweep.cpp - removes the control sockets of processes that are gone,
// so that the socket directory does not fill with the sockets of programs
// that were killed (SIGKILL, a crash, _exit) before they could remove their
// own.
//
// A socket "<pid>.sock" is stale when its process is dead, or when the pid
// is alive but nothing listens on it any more (the process exec'd another
// program, or the pid was reused). The runtime publishes a socket under its
// final name only once it listens (bind to "<pid>.tmp", listen, rename), so
// a live listener never answers ECONNREFUSED. "<pid>.tmp" is removed only
// when its process is dead: a live one may be about to rename it.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace hotpatch_rt {
namespace {

bool process_gone(pid_t pid) {
  // EPERM: the pid now belongs to another user, so our process is gone.
  return kill(pid, 0) != 0 && (errno == ESRCH || errno == EPERM);
}

bool nobody_listens(const std::string &path) {
  sockaddr_un addr;
  if (path.size() >= sizeof addr.sun_path)
    return false;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return false;
  bool refused = connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 &&
                 errno == ECONNREFUSED;
  close(fd);
  return refused;
}

} // namespace

void sweep_stale_sockets(const char *dir, pid_t self) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  while (dirent *e = readdir(d)) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    bool sock = !strcmp(end, ".sock"), tmp = !strcmp(end, ".tmp");
    if (end == e->d_name || pid <= 0 || pid == self || (!sock && !tmp))
      continue;
    std::string path = std::string(dir) + "/" + e->d_name;
    if (process_gone(pid_t(pid)) || (sock && nobody_listens(path)))
      unlink(path.c_str());
  }
  closedir(d);
}

} // namespace hotpatch_rt
