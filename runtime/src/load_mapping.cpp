// load_mapping.cpp - step 4 of applying a patch (see patch_loader.cpp):
// the patch's pages, mapped at the fixed distance from the image it was
// made for, and its segments copied in; and in step 6 each segment's final
// protection.
//
// Below the executable the pages are mapped with MAP_FIXED_NOREPLACE, never
// over anything; in a library's patch area they replace the library's own
// reserved pages, never those of an earlier patch. Until the patch is
// published its Mapping removes them again (or gives them back to the
// area): no slot points into them yet.
#include "load_context.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>

namespace hotpatch_rt {

Mapping::~Mapping() {
  if (!addr || keep)
    return;
  if (in_arena)
    mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  else
    munmap(addr, size);
}

hotpatch_status map_segments(LoadContext &c) {
  c.earlier = applied_pages();
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const ElfW(Phdr) &p : c.loads) {
    lo = std::min<uint64_t>(lo, p.p_vaddr & ~uint64_t(4095));
    hi = std::max<uint64_t>(hi, (p.p_vaddr + p.p_memsz + 4095) & ~uint64_t(4095));
  }
  void *want = reinterpret_cast<void *>(c.runtime(lo));
  int how = MAP_FIXED_NOREPLACE;
  if (c.arena) {
    // The library's own reserved pages: replaced, but never those of a
    // patch already there.
    uintptr_t b = c.runtime(lo), e = c.runtime(hi);
    for (const PatchPages &m : c.earlier)
      if (b < m.end && m.begin < e)
        return c.refuse(HOTPATCH_MAP_FAILED, "it would be mapped over an earlier patch of " +
                                                 c.image_name() + ": rebuild the patch");
    how = MAP_FIXED;
    c.mapping.in_arena = true;
  }
  void *got = mmap(want, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | how,
                   -1, 0);
  if (got == MAP_FAILED)
    return c.refuse(HOTPATCH_MAP_FAILED, std::string("cannot map the patch at ") +
                                             std::to_string(reinterpret_cast<uintptr_t>(want)) +
                                             ": " + strerror(errno));
  c.mapping.addr = got;
  c.mapping.size = hi - lo;
  if (got != want) // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
    return c.refuse(HOTPATCH_MAP_FAILED, "the patch's address range is taken");
  for (const ElfW(Phdr) &p : c.loads)
    memcpy(reinterpret_cast<void *>(c.runtime(p.p_vaddr)), c.image + p.p_offset, p.p_filesz);
  return HOTPATCH_OK;
}

hotpatch_status protect_segments(LoadContext &c) {
  for (const ElfW(Phdr) &p : c.loads) {
    int prot = (p.p_flags & PF_R ? PROT_READ : 0) | (p.p_flags & PF_W ? PROT_WRITE : 0) |
               (p.p_flags & PF_X ? PROT_EXEC : 0);
    uintptr_t b = c.runtime(p.p_vaddr) & ~uintptr_t(4095);
    uintptr_t e = (c.runtime(p.p_vaddr + p.p_memsz) + 4095) & ~uintptr_t(4095);
    if (mprotect(reinterpret_cast<void *>(b), e - b, prot) != 0)
      return c.refuse(HOTPATCH_MAP_FAILED, std::string("mprotect failed: ") + strerror(errno));
  }
  return HOTPATCH_OK;
}

} // namespace hotpatch_rt
