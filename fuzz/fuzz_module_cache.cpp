// fuzz_module_cache.cpp - libFuzzer target: the HotpatchModuleCache reader
// (cache/ModuleCache.cpp), and the dump of what it accepted. The cache is
// read from a memory file, as a thin link reads it from disk.
#include "ModuleCache.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

using namespace hotpatch;

namespace {
int g_fd = -1;
char g_path[64];
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  g_fd = memfd_create("hotpatch-fuzz-cache", MFD_CLOEXEC);
  if (g_fd < 0)
    abort();
  snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(g_fd, 0) != 0 || pwrite(g_fd, data, size, 0) != ssize_t(size))
    abort();
  llvm::Expected<ModuleCache> C = readModuleCache(g_path);
  if (!C) {
    llvm::consumeError(C.takeError());
    return 0;
  }
  dumpModuleCache(*C, llvm::nulls());
  dumpModuleCacheJSON(*C, llvm::nulls());
  return 0;
}
