// fuzz_patch_loader.cpp - libFuzzer target: the patch loader, in process,
// against a real image.
//
// This fuzzer is itself a hot-patchable program (loader/build.sh links it
// with thinlink; its hot code is test/patch_target/v1.cpp) and the seed is a real patch
// of it (test/patch_target/v2.cpp): every input is applied by hotpatch_apply_file to
// the running fuzzer, exactly as a patch sent to a program would be.
//
// Two things keep the fuzzer useful:
//  - the checksum is recomputed for every input before it is applied (a
//    fixup, not a mutator: libFuzzer's own mutations stay as they are), so
//    that mutants get past step 1 and reach the checks that matter;
//  - the runtime is built with HOTPATCH_FUZZING, whose loader stops after
//    step 6 (everything checked, mapped, relocated and its unwind tables
//    registered) and undoes it all: no initialiser runs and nothing is
//    published, so every input meets the same program, and code bytes,
//    which no loader can verify, are never executed.
// A crash or a sanitizer report is a bug in the loader.
#include "hotpatch/hotpatch.h"
#include "hotpatch/patch_format.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

int fuzz_target_anchor();

namespace {

int g_fd = -1;
char g_path[64];

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // The patch is read from a file: a memory file, rewritten per input.
  g_fd = memfd_create("hotpatch-fuzz", MFD_CLOEXEC);
  if (g_fd < 0) {
    perror("memfd_create");
    abort();
  }
  snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> patch(data, data + size);
  if (size >= sizeof(hotpatch_patch_header)) {
    uint64_t sum = hotpatch_patch_checksum(patch.data() + sizeof(hotpatch_patch_header),
                                           size - sizeof(hotpatch_patch_header));
    memcpy(patch.data() + offsetof(hotpatch_patch_header, checksum), &sum, sizeof sum);
  }
  if (ftruncate(g_fd, 0) != 0 || pwrite(g_fd, patch.data(), size, 0) != ssize_t(size))
    abort();
  hotpatch_apply_result r;
  hotpatch_status st = hotpatch_apply_file(g_path, &r);
  static const bool show = getenv("HOTPATCH_FUZZ_SHOW") != nullptr;
  if (show) // what the loader said of each input, to see how far it got
    fprintf(stderr, "%s: %s\n", hotpatch_status_string(st), hotpatch_last_error());
  // Never published: the program runs its own code, whatever the input.
  if (st == HOTPATCH_OK || hotpatch_patch_count() != 0 || fuzz_target_anchor() != 2) {
    fprintf(stderr, "patch published by the dry-run loader (%s)\n", hotpatch_status_string(st));
    abort();
  }
  return 0;
}
