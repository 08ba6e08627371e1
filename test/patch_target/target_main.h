// target_main.h - main() of the program the patch-check tests patch, shared
// by both versions (v1.cpp is linked, v2.cpp is the edit), so that a patch
// changes only the functions above it.
//
// With HOTPATCH_TARGET_NO_MAIN the same functions are linked into another
// program with a main of its own (the patch loader's fuzzer,
// fuzz/loader/build.sh), which calls fuzz_target_anchor() instead.
//
//   app <patch>    applies <patch> and shows what runs before and after
//   app --serve    reads one patch path a line and runs each in a forked
//                  child of this just-started program (the mutation
//                  campaign's fast path): the child's output, then a line
//                  "\1\2=exit N" or "\1\2=signal S"; a child still running after
//                  10 s is ended by SIGALRM
#ifdef HOTPATCH_TARGET_NO_MAIN
int fuzz_target_anchor() { return value() + (word() != nullptr); }
#else
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

// Annotated: it runs across the patch, so it inlines none of the functions
// it shows (in all mode an optimised hot caller may inline them, and a
// running caller keeps its old code).
HOTPATCH static void run_once(const char *path) {
  std::printf("before %d %s\n", value(), word());
  hotpatch_status st = hotpatch_apply_file(path, nullptr);
  std::printf("apply: %s: %s\n", hotpatch_status_string(st), hotpatch_last_error());
  std::printf("after %d %s\n", value(), word());
  try {
    thrower();
  } catch (int e) {
    std::printf("caught %d\n", e);
  }
  std::printf("patches %u\n", hotpatch_patch_count());
}

static int serve() {
  char path[4096];
  while (std::fgets(path, sizeof path, stdin)) {
    path[std::strcspn(path, "\n")] = 0;
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) {
      std::setvbuf(stdout, nullptr, _IONBF, 0); // what a crash leaves is seen
      alarm(10);
      run_once(path);
      std::exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
      std::printf("\1\2=exit %d\n", WEXITSTATUS(status));
    else
      std::printf("\1\2=signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !std::strcmp(argv[1], "--serve"))
    return serve();
  run_once(argc > 1 ? argv[1] : nullptr);
}
#endif
