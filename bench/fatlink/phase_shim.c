/* phase_shim.c - where a link's wall time goes, without touching the linker.
 *
 * Part of the fat-link benchmark: run_fatlink.py preloads this library
 * (LD_PRELOAD) into ld.lld and thinlink for a few extra links and reads back
 * a timeline. It logs, with CLOCK_MONOTONIC milliseconds (the clock the
 * driver's own timestamps use), to the file named by HOTPATCH_PHASE_LOG:
 *
 *   start           when the preloaded library is initialised (after the
 *                   dynamic loader has loaded and relocated the program)
 *   open <path>     every open() of a path that starts with
 *                   HOTPATCH_PHASE_OUTPUT: lld's temporary output, the
 *                   output read back by thinlink, thinlink's cache file
 *   rename <path>   every rename(): lld committing the output, thinlink
 *                   committing the cache
 *   _exit           the process leaves through _exit/_Exit (ld.lld does,
 *                   without freeing anything)
 *   fini            this library's destructor, during exit() after main
 *                   returned (thinlink does): static destructors are run
 *
 * Each record is one write(2) of one line, so the log costs microseconds.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static const char *watch;
static size_t watch_len;

static void record(const char *what, const char *path) {
  if (log_fd < 0)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[1200];
  int n = snprintf(line, sizeof line, "%.3f %s %s\n",
                   ts.tv_sec * 1e3 + ts.tv_nsec / 1e6, what, path ? path : "");
  if (n > 0 && (size_t)n < sizeof line)
    (void)!write(log_fd, line, (size_t)n);
}

__attribute__((constructor)) static void phase_init(void) {
  const char *log = getenv("HOTPATCH_PHASE_LOG");
  watch = getenv("HOTPATCH_PHASE_OUTPUT");
  watch_len = watch ? strlen(watch) : 0;
  if (!log)
    return;
  int (*real_open)(const char *, int, ...) =
      (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
  log_fd = real_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  record("start", NULL);
}

static int watched(const char *path) {
  return watch_len && path && strncmp(path, watch, watch_len) == 0;
}

static int open_impl(const char *sym, const char *path, int flags, mode_t mode) {
  int (*real)(const char *, int, ...) =
      (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
  if (watched(path))
    record("open", path);
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
  int (*real)(const char *, const char *) =
      (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  int r = real(from, to);
  record("rename", to);
  return r;
}

__attribute__((destructor)) static void phase_fini(void) { record("fini", NULL); }

void _exit(int code) {
  void (*real)(int) = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
  record("_exit", NULL);
  real(code);
  __builtin_unreachable();
}

void _Exit(int code) {
  void (*real)(int) = (void (*)(int))dlsym(RTLD_NEXT, "_Exit");
  record("_exit", NULL);
  real(code);
  __builtin_unreachable();
}
