// server_linux.cpp - the runtime's control socket.
//
// When libhotpatch is loaded it listens on a Unix socket,
// /tmp/hotpatch-<uid>/<pid>.sock, in a directory only this user can enter
// (0700, checked to be ours), with the socket itself 0600, and every peer
// checked with SO_PEERCRED to be this user. HOTPATCH_DISABLE=1 in the
// environment turns all of it off: no thread, no socket, nothing.
//
// Protocol (version 1), one request per connection, one line each way:
//   "hello"         -> "hotpatch 1 <pid> <build-id hex> <patches applied>"
//   "apply <path>"  -> "ok <chain index> <functions> <check ms> <map ms> <total ms>"
//                   or "error <status>: <message>"
//   "event <name> [message]" -> "ok", after the event hooks ran; names:
//                   patch-starting, patch-applied, rebuild-starting,
//                   rebuild-failed, restart-needed, shutdown
#include "hotpatch/hotpatch.h"
#include "hotpatch/patch_format.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

std::string hotpatch_rt_build_id_hex(); // patch_loader.cpp

namespace {

char g_socket_path[108] = "";
pid_t g_socket_owner = 0; // a forked child must not remove its parent's socket
int g_listen_fd = -1;


std::string handle(const std::string &request) {
  if (request == "hello") {
    std::string id = hotpatch_rt_build_id_hex();
    return "hotpatch 1 " + std::to_string(getpid()) + " " + (id.empty() ? "-" : id) + " " +
           std::to_string(hotpatch_patch_count());
  }
  if (request.compare(0, 6, "apply ") == 0) {
    hotpatch_apply_result r{};
    hotpatch_status st = hotpatch_apply_file(request.c_str() + 6, &r);
    if (st != HOTPATCH_OK)
      return std::string("error ") + hotpatch_status_string(st) + ": " + hotpatch_last_error();
    char buf[160];
    snprintf(buf, sizeof buf, "ok %u %u %.3f %.3f %.3f", r.chain_index, r.functions, r.check_ms,
             r.map_ms, r.total_ms);
    return buf;
  }
  if (request.compare(0, 6, "event ") == 0) {
    static const struct { const char *name; hotpatch_event event; } names[] = {
        {"patch-starting", HOTPATCH_EVENT_PATCH_STARTING},
        {"patch-applied", HOTPATCH_EVENT_PATCH_APPLIED},
        {"rebuild-starting", HOTPATCH_EVENT_REBUILD_STARTING},
        {"rebuild-failed", HOTPATCH_EVENT_REBUILD_FAILED},
        {"restart-needed", HOTPATCH_EVENT_RESTART_NEEDED},
        {"shutdown", HOTPATCH_EVENT_SHUTDOWN}};
    std::string rest = request.substr(6);
    std::string name = rest.substr(0, rest.find(' '));
    std::string message = rest.size() > name.size() ? rest.substr(name.size() + 1) : "";
    for (const auto &n : names)
      if (name == n.name) {
        hotpatch_post_event(n.event, message.c_str());
        return "ok";
      }
    return "error unknown event '" + name + "'";
  }
  return "error unknown request: expected 'hello', 'apply <path>' or 'event <name>'";
}

void serve_one(int fd) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid())
    return; // only this user may patch this process
  // A client that never finishes its line must not block the listener.
  timeval timeout = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string request;
  char c;
  while (request.size() < 4096 && read(fd, &c, 1) == 1 && c != '\n')
    request += c;
  std::string reply = handle(request) + "\n";
  size_t done = 0;
  while (done < reply.size()) {
    // MSG_NOSIGNAL: a client that closed before reading its reply must not
    // raise SIGPIPE, whose default action ends the program.
    ssize_t n = send(fd, reply.data() + done, reply.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += n;
  }
}

void *serve(void *) {
  for (;;) {
    int fd = accept4(g_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return nullptr;
    }
    serve_one(fd);
    close(fd);
  }
}

void remove_socket() {
  if (g_socket_path[0] && getpid() == g_socket_owner)
    unlink(g_socket_path);
}

__attribute__((constructor)) void start_server() {
  const char *off = getenv("HOTPATCH_DISABLE");
  if (off && *off && strcmp(off, "0") != 0)
    return;
  char dir[64];
  snprintf(dir, sizeof dir, HOTPATCH_SOCKET_DIR_FORMAT, static_cast<unsigned>(getuid()));
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return;
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 077)) {
    fprintf(stderr, "hotpatch: warning: %s is not a private directory of this user; "
                    "the runtime does not listen for patches\n", dir);
    return;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%d.sock", dir, static_cast<int>(getpid()));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  unlink(addr.sun_path); // a stale socket of an earlier process with this pid
  if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
      chmod(addr.sun_path, 0600) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return;
  }
  g_listen_fd = fd;
  memcpy(g_socket_path, addr.sun_path, sizeof g_socket_path);
  g_socket_owner = getpid();
  atexit(remove_socket);
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, serve, nullptr) != 0) {
    remove_socket();
    g_socket_path[0] = '\0';
    close(fd);
  }
  pthread_attr_destroy(&attr);
}

} // namespace

HOTPATCH_API const char *hotpatch_socket_path(void) { return g_socket_path; }

namespace {
struct EventHook {
  hotpatch_event_hook fn;
  void *user;
};
pthread_mutex_t g_event_mutex = PTHREAD_MUTEX_INITIALIZER;
EventHook g_event_hooks[32];
unsigned g_event_hook_count = 0;
} // namespace

HOTPATCH_API hotpatch_status hotpatch_add_event_hook(hotpatch_event_hook hook, void *user) {
  if (!hook)
    return HOTPATCH_INVALID_ARGUMENT;
  pthread_mutex_lock(&g_event_mutex);
  bool full = g_event_hook_count == 32;
  if (!full)
    g_event_hooks[g_event_hook_count++] = {hook, user};
  pthread_mutex_unlock(&g_event_mutex);
  return full ? HOTPATCH_INVALID_ARGUMENT : HOTPATCH_OK;
}

HOTPATCH_API void hotpatch_post_event(hotpatch_event event, const char *message) {
  EventHook hooks[32];
  pthread_mutex_lock(&g_event_mutex);
  unsigned n = g_event_hook_count;
  std::copy(g_event_hooks, g_event_hooks + n, hooks);
  pthread_mutex_unlock(&g_event_mutex);
  for (unsigned i = 0; i < n; ++i)
    hooks[i].fn(event, message ? message : "", hooks[i].user);
}
