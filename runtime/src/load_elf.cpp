// load_elf.cpp - step 3 of applying a patch, first half (see
// patch_loader.cpp): the patch's ELF image. An x86-64 ET_DYN without an
// interpreter, whose every PT_LOAD lies in the patch window of the image it
// was made for (below the executable, or in a library's patch area) and is
// not both writable and executable; then its sections, symbols and line
// table, read and checked against its segments (patch_checks.cpp).
//
// The image is read from the file, not yet mapped: every offset and size
// is bounded by the image's size without a sum that could wrap.
#include "load_context.h"

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <string>

namespace hotpatch_rt {
namespace {

// The patch area of a shared library (hotpatch/patch_format.h), as runtime
// addresses; false if it has none.
bool arena_of(const Image &image, uintptr_t &begin, uintptr_t &end) {
  void *h = dlopen(image.name.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!h)
    return false;
  // A handle's lookup starts with the library itself.
  auto *b = static_cast<char *>(dlsym(h, HOTPATCH_ARENA_BEGIN));
  auto *e = static_cast<char *>(dlsym(h, HOTPATCH_ARENA_END));
  dlclose(h);
  begin = reinterpret_cast<uintptr_t>(b);
  end = reinterpret_cast<uintptr_t>(e);
  return b && e && begin < end && begin >= image.begin && end <= image.end &&
         begin % 4096 == 0;
}

} // namespace

hotpatch_status check_elf(LoadContext &c) {
  if (c.header.image_size < sizeof(ElfW(Ehdr)))
    return c.refuse(HOTPATCH_BAD_PATCH, "the ELF image is truncated");
  memcpy(&c.ehdr, c.image, sizeof c.ehdr);
  if (memcmp(c.ehdr.e_ident, ELFMAG, SELFMAG) || c.ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
      c.ehdr.e_machine != EM_X86_64 || c.ehdr.e_type != ET_DYN)
    return c.refuse(HOTPATCH_BAD_PATCH, "the image is not an x86-64 ELF patch");
  if (c.ehdr.e_phoff > c.header.image_size ||
      uint64_t(c.ehdr.e_phnum) * sizeof(ElfW(Phdr)) > c.header.image_size - c.ehdr.e_phoff)
    return c.refuse(HOTPATCH_BAD_PATCH, "program headers outside the image");
  // Every segment in the image's patch window (below the program, or a
  // library's patch area); the patch's own range is then that of its
  // segments (earlier patches lie below it).
  uint64_t window_lo = HOTPATCH_PATCH_BIAS - HOTPATCH_PATCH_GAP - HOTPATCH_PATCH_WINDOW;
  uint64_t window_hi = HOTPATCH_PATCH_BIAS - HOTPATCH_PATCH_GAP;
  if (!c.base.is_main) {
    uintptr_t b, e;
    if (!arena_of(c.base, b, e))
      return c.refuse(HOTPATCH_BAD_PATCH, c.image_name() + " has no patch area: link it with "
                                                           "thinlink and the hotpatch runtime "
                                                           "(hotpatch_enable() does)");
    window_lo = b - c.base.load + HOTPATCH_PATCH_BIAS;
    window_hi = e - c.base.load + HOTPATCH_PATCH_BIAS;
    c.arena = true;
  }
  c.band_lo = window_lo;
  c.band_hi = window_hi;
  c.range_lo = window_hi;
  c.range_hi = window_lo;
  for (int i = 0; i < c.ehdr.e_phnum; ++i) {
    ElfW(Phdr) p;
    memcpy(&p, c.image + c.ehdr.e_phoff + i * sizeof p, sizeof p);
    if (p.p_type == PT_INTERP)
      return c.refuse(HOTPATCH_BAD_PATCH, "the image asks for an interpreter");
    if (p.p_type == PT_DYNAMIC)
      c.dynamic = p;
    if (p.p_type != PT_LOAD)
      continue;
    if (p.p_vaddr < window_lo || p.p_vaddr > window_hi || p.p_memsz > window_hi - p.p_vaddr ||
        p.p_filesz > p.p_memsz || p.p_offset > c.header.image_size ||
        p.p_filesz > c.header.image_size - p.p_offset)
      return c.refuse(HOTPATCH_BAD_PATCH, "a segment lies outside the patches' window");
    c.range_lo = std::min<uint64_t>(c.range_lo, p.p_vaddr);
    c.range_hi = std::max<uint64_t>(c.range_hi, p.p_vaddr + p.p_memsz);
    if ((p.p_flags & PF_W) && (p.p_flags & PF_X))
      return c.refuse(HOTPATCH_BAD_PATCH, "a segment is writable and executable");
    c.loads.push_back(p);
  }
  if (c.loads.empty())
    return c.refuse(HOTPATCH_BAD_PATCH, "the image has nothing to load");
  std::string err = read_patch_image(c.image, c.header.image_size, c.loads, c.elf);
  if (err.empty())
    err = check_segments(c.elf, c.loads, c.range_lo, c.range_hi);
  if (err.empty())
    err = read_line_table(c.image, c.elf, c.loads, c.lines);
  if (!err.empty())
    return c.refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
  return HOTPATCH_OK;
}

} // namespace hotpatch_rt
