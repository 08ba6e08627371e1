// server_linux.cpp - the runtime's control socket: where it listens and how
// its clients are served (the requests: control_protocol.cpp; the contract:
// hotpatch/control_protocol.h).
//
// When libhotpatch is loaded it listens on a Unix socket in the abstract
// namespace, "@hotpatch/<uid>/<pid>", or, when another socket has that
// name, "@hotpatch/<uid>/<pid>.<random>": a name can be squatted by anyone,
// so it must never be the only one we can take. Every peer is checked with
// SO_PEERCRED to be this user. An abstract socket is no file: it goes away
// with the process (nothing stale is left behind by a crash), and there is
// no directory another user could create first to stop us listening.
// HOTPATCH_DISABLE=1 in the environment turns all of it off: no thread, no
// socket, nothing.
//
// No client can stop or delay another, nor the program:
//  - each connection is served on a thread of its own, at most kMaxClients
//    at once (a client beyond that is told the process is busy), so a silent
//    or slow client holds only its own thread;
//  - a request must arrive whole within kRequestMs and its reply be taken
//    within kReplyMs, whatever the client sends in between;
//  - replies are sent with MSG_NOSIGNAL: a client that went away raises no
//    SIGPIPE, whose default action would end the program.
// Applies are serialised by the patch loader itself.
//
// After fork() the child listens on a socket of its own, named after its
// own pid, from the fork handler on: it keeps the patches its parent had
// applied (they are in its memory) and takes later ones. The parent's
// listening socket and its clients' connections are closed in the child.
#include "hotpatch/hotpatch.h"
#include "hotpatch/control_protocol.h"
#include "internal.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <pthread.h>
#include <string>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

namespace {

constexpr int kMaxClients = 16;
constexpr int kRequestMs = HOTPATCH_CONTROL_REQUEST_MS;
constexpr int kReplyMs = HOTPATCH_CONTROL_REPLY_MS;
constexpr size_t kMaxRequest = HOTPATCH_CONTROL_MAX_REQUEST;

bool g_enabled = false;
char g_socket_path[108] = ""; // "@" and the abstract name, for people
int g_listen_fd = -1;
// Connections being served: fd + 1, 0 when free.
std::atomic<int> g_clients[kMaxClients];

int64_t now_ms() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// Waits for `events` on fd until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0)
      return false;
    pollfd p = {fd, events, 0};
    int r = poll(&p, 1, int(left));
    if (r > 0)
      return true;
    if (r == 0 || errno != EINTR)
      return false;
  }
}

// One line, or what came before the client closed; false if it was too
// slow to send it.
bool read_request(int fd, std::string &request) {
  int64_t deadline = now_ms() + kRequestMs;
  char buf[256];
  while (request.size() < kMaxRequest) {
    if (!wait_for(fd, POLLIN, deadline))
      return false;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return true;
    request.append(buf, size_t(n));
    size_t nl = request.find('\n');
    if (nl != std::string::npos) {
      request.resize(nl);
      return true;
    }
  }
  return true;
}

void send_reply(int fd, const std::string &reply, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  size_t done = 0;
  while (done < reply.size()) {
    // MSG_NOSIGNAL: a client that closed before reading its reply must not
    // raise SIGPIPE, whose default action ends the program.
    ssize_t n = send(fd, reply.data() + done, reply.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline))
      continue;
    return;
  }
}

void *serve_client(void *arg) {
  int slot = int(reinterpret_cast<intptr_t>(arg));
  int fd = g_clients[slot].load() - 1;
  std::string request;
  std::string reply =
      read_request(fd, request)
          ? hotpatch_rt::handle_request(request)
          : "error timeout: send the whole request line within " +
                std::to_string(kRequestMs / 1000) + " s";
  send_reply(fd, reply + "\n", kReplyMs);
  // Untracked before closed: a child forked in between must never close
  // this number once it may name another file.
  g_clients[slot].store(0);
  close(fd);
  return nullptr;
}

// Hands a connection to a thread of its own, or tells the client the
// process is busy.
void dispatch(int fd) {
  for (int i = 0; i < kMaxClients; ++i) {
    int expected = 0;
    if (!g_clients[i].compare_exchange_strong(expected, fd + 1))
      continue;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&thread, &attr, serve_client, reinterpret_cast<void *>(intptr_t(i)));
    pthread_attr_destroy(&attr);
    if (err == 0)
      return;
    g_clients[i].store(0);
    break;
  }
  send_reply(fd, "error busy: " + std::to_string(kMaxClients) +
                     " clients are being served; try again\n", 100);
  close(fd);
}

void *listen_loop(void *) {
  for (;;) {
    int fd = accept4(g_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        usleep(50 * 1000); // out of descriptors or memory: later
        continue;
      }
      return nullptr;
    }
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()) {
      close(fd); // only this user may patch this process
      continue;
    }
    dispatch(fd);
  }
}

// 64 random bits in hex, for a name nobody could have taken in advance.
bool random_suffix(char (&out)[17]) {
  uint64_t r;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != ssize_t(sizeof r))
    return false;
  snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(r));
  return true;
}

// Binds `fd` to the abstract name `name` (without its NUL); false with errno.
bool bind_abstract(int fd, const char *name) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n + 1 > sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  memcpy(addr.sun_path + 1, name, n);
  // The name is exactly these bytes: the length, not a NUL, ends it.
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + n);
  return bind(fd, reinterpret_cast<sockaddr *>(&addr), len) == 0;
}

// Creates this process's socket and its listener thread.
void start_listening() {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  char name[96];
  snprintf(name, sizeof name, HOTPATCH_CONTROL_NAME_FORMAT, static_cast<unsigned>(getuid()),
           static_cast<int>(getpid()));
  bool bound = bind_abstract(fd, name);
  // Taken: by another user who wants to keep us from listening, or by a
  // process of the same pid in another pid namespace. A random name then.
  size_t base = strlen(name);
  char suffix[17];
  for (int attempt = 0; !bound && errno == EADDRINUSE && attempt < 8; ++attempt) {
    if (!random_suffix(suffix))
      break;
    snprintf(name + base, sizeof name - base, ".%s", suffix);
    bound = bind_abstract(fd, name);
  }
  if (!bound || listen(fd, 16) != 0) {
    fprintf(stderr, "hotpatch: warning: cannot listen for patches on @%s: %s\n", name,
            strerror(errno));
    close(fd);
    return;
  }
  g_listen_fd = fd;
  snprintf(g_socket_path, sizeof g_socket_path, "@%s", name);
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, listen_loop, nullptr) != 0) {
    g_socket_path[0] = '\0';
    g_listen_fd = -1;
    close(fd);
  }
  pthread_attr_destroy(&attr);
}

void before_fork() {
  hotpatch_rt::loader_fork_prepare();
  hotpatch_rt::registry_fork_prepare();
  hotpatch_rt::events_fork_prepare();
}

void after_fork_parent() {
  hotpatch_rt::events_fork_done();
  hotpatch_rt::registry_fork_done();
  hotpatch_rt::loader_fork_done();
}

// The child has only the thread that forked: the parent's listener and
// client threads are not in it, but their descriptors are.
void after_fork_child() {
  after_fork_parent();
  if (!g_enabled)
    return;
  for (std::atomic<int> &c : g_clients)
    if (int fd = c.exchange(0))
      close(fd - 1);
  if (g_listen_fd >= 0)
    close(g_listen_fd);
  g_listen_fd = -1;
  g_socket_path[0] = '\0';
  start_listening();
}

__attribute__((constructor)) void start_server() {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  const char *off = getenv("HOTPATCH_DISABLE");
  if (off && *off && strcmp(off, "0") != 0)
    return;
  g_enabled = true;
  start_listening();
}

} // namespace

HOTPATCH_API const char *hotpatch_socket_path(void) { return g_socket_path; }
