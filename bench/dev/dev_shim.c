/* dev_shim.c - where `hotpatch dev`'s time goes after a save, without
 * touching it.
 *
 * Part of the dev-loop benchmark: run_dev.py preloads this library
 * (LD_PRELOAD) into `hotpatch dev` for a few extra edits and reads back a
 * timeline. It logs, with CLOCK_MONOTONIC milliseconds (the clock the
 * driver's own timestamps use), to the file named by HOTPATCH_DEV_SHIM_LOG:
 *
 *   start                  the library is initialised
 *   inotify <bytes>        a read() of the inotify descriptor returned events
 *   spawn <pid> <argv0> <argv1>
 *                          posix_spawn/posix_spawnp/fork started a child
 *                          (the compiler, ninja -t deps, the program)
 *   reaped <pid>           waitpid/wait4 returned that child
 *   connect <path>         connect() to a Unix socket (a control socket)
 *   close <path>           that socket closed (its reply has been read)
 *   open <path>            open() of a path under HOTPATCH_DEV_SHIM_WATCH
 *   rename <path>          rename() to a path under HOTPATCH_DEV_SHIM_WATCH
 *   say <text>             a write to stdout of a "[hotpatch]" line
 *
 * It removes LD_PRELOAD from the environment in its constructor, so the
 * compiler, ninja and the program that `hotpatch dev` starts run without
 * it. Each record is one write(2) of one line: it costs microseconds.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int inotify_fd = -1;
static const char *watch;
static size_t watch_len;
#define MAX_FD 1024
static char *sock_path[MAX_FD];

static void record(const char *fmt, ...) {
  if (log_fd < 0)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[1200];
  int n = snprintf(line, sizeof line, "%.3f ", ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  (void)!syscall(SYS_write, log_fd, line, (size_t)n);
}

__attribute__((constructor)) static void shim_init(void) {
  const char *log = getenv("HOTPATCH_DEV_SHIM_LOG");
  watch = getenv("HOTPATCH_DEV_SHIM_WATCH");
  watch_len = watch ? strlen(watch) : 0;
  if (!log)
    return;
  log_fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  unsetenv("LD_PRELOAD"); /* the children run without the shim */
  record("start");
}

#define REAL(name, type) \
  static __typeof__(type) real_##name; \
  if (!real_##name) \
    real_##name = (type)dlsym(RTLD_NEXT, #name)

static int watched(const char *path) {
  return watch_len && path && strncmp(path, watch, watch_len) == 0;
}

static const char *base(const char *p) {
  const char *s = p ? strrchr(p, '/') : NULL;
  return s ? s + 1 : (p ? p : "");
}

int inotify_init1(int flags) {
  REAL(inotify_init1, int (*)(int));
  int fd = real_inotify_init1(flags);
  inotify_fd = fd;
  return fd;
}

ssize_t read(int fd, void *buf, size_t n) {
  REAL(read, ssize_t (*)(int, void *, size_t));
  ssize_t r = real_read(fd, buf, n);
  if (fd == inotify_fd && r > 0)
    record("inotify %zd", r);
  return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write, ssize_t (*)(int, const void *, size_t));
  if (fd == 1 && n >= 10 && memcmp(buf, "[hotpatch]", 10) == 0) {
    char text[80];
    size_t k = n < sizeof text - 1 ? n : sizeof text - 1;
    memcpy(text, buf, k);
    text[k] = 0;
    for (size_t i = 0; i < k; ++i)
      if (text[i] == '\n')
        text[i] = ' ';
    record("say %s", text);
  }
  return real_write(fd, buf, n);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  REAL(posix_spawn, spawn_fn);
  int r = real_posix_spawn(pid, path, fa, attr, argv, envp);
  if (r == 0)
    record("spawn %d %s %s", (int)*pid, base(path), argv[0] && argv[1] ? argv[1] : "");
  return r;
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  REAL(posix_spawnp, spawn_fn);
  int r = real_posix_spawnp(pid, file, fa, attr, argv, envp);
  if (r == 0)
    record("spawn %d %s %s", (int)*pid, base(file), argv[0] && argv[1] ? argv[1] : "");
  return r;
}

pid_t fork(void) {
  REAL(fork, pid_t (*)(void));
  pid_t p = real_fork();
  if (p > 0)
    record("spawn %d fork -", (int)p);
  return p;
}

pid_t waitpid(pid_t pid, int *status, int options) {
  REAL(waitpid, pid_t (*)(pid_t, int *, int));
  pid_t r = real_waitpid(pid, status, options);
  if (r > 0)
    record("reaped %d", (int)r);
  return r;
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  REAL(wait4, pid_t (*)(pid_t, int *, int, struct rusage *));
  pid_t r = real_wait4(pid, status, options, ru);
  if (r > 0)
    record("reaped %d", (int)r);
  return r;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  REAL(connect, int (*)(int, const struct sockaddr *, socklen_t));
  if (addr && addr->sa_family == AF_UNIX && fd >= 0 && fd < MAX_FD) {
    const struct sockaddr_un *u = (const struct sockaddr_un *)addr;
    free(sock_path[fd]);
    sock_path[fd] = strdup(u->sun_path);
    record("connect %s", u->sun_path);
  }
  return real_connect(fd, addr, len);
}

int close(int fd) {
  REAL(close, int (*)(int));
  if (fd >= 0 && fd < MAX_FD && sock_path[fd]) {
    record("close %s", sock_path[fd]);
    free(sock_path[fd]);
    sock_path[fd] = NULL;
  }
  return real_close(fd);
}

static int open_impl(const char *sym, const char *path, int flags, mode_t mode) {
  int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
  if (watched(path))
    record("open %s", path);
  return real(path, flags, mode);
}

int open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return open_impl("open", path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return open_impl("open64", path, flags, mode);
}

int rename(const char *from, const char *to) {
  REAL(rename, int (*)(const char *, const char *));
  int r = real_rename(from, to);
  if (watched(to))
    record("rename %s", to);
  return r;
}
