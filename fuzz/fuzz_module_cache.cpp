// fuzz_module_cache.cpp - libFuzzer target: the HotpatchModuleCache reader
// (cache/CacheView.h, cache/ModuleCache.cpp), the lookups a thin link makes
// and the dump of what it accepted. The cache is read from a memory file, as
// a thin link reads it from disk.
//
// Most inputs get a correct file size and checksum written into their header
// before they are read (a cache with a forged checksum must not crash the
// reader either); every eighth is read as it is, so the header checks are
// fuzzed too.
#include "CacheFormat.h"
#include "CacheView.h"
#include "ModuleCache.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/xxhash.h"

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
  namespace cf = cacheformat;
  std::vector<uint8_t> Bytes(data, data + size);
  if (size > cf::HeaderSize && (size % 8) != 7) {
    llvm::support::endian::write64le(Bytes.data() + cf::OffFileSize, size);
    llvm::support::endian::write64le(
        Bytes.data() + cf::OffChecksum,
        llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(Bytes).drop_front(cf::OffTableCount)));
  }
  if (ftruncate(g_fd, 0) != 0 ||
      pwrite(g_fd, Bytes.data(), Bytes.size(), 0) != ssize_t(Bytes.size()))
    abort();
  auto V = CacheView::open(g_path);
  if (!V) {
    llvm::consumeError(V.takeError());
    return 0;
  }
  // What a thin link asks.
  const CacheView &View = **V;
  for (uint32_t I = 0; I < View.numSymbols() && I < 64; ++I)
    View.symbolsNamed(View.symbol(I).Name);
  for (uint32_t I = 0; I < View.numInputs() && I < 64; ++I)
    View.objectsAt(View.input(I, true).Path);
  for (uint32_t I = 0; I < View.numSlots() && I < 64; ++I)
    View.slotAt(View.slot(I).SlotAddress);
  for (uint32_t I = 0; I < View.numLayouts() && I < 64; ++I)
    View.layoutOf(View.layout(I).first);
  View.hasFile("a.cpp");
  ModuleCache C = View.decode();
  dumpModuleCache(C, llvm::nulls());
  dumpModuleCacheJSON(C, llvm::nulls());
  return 0;
}
