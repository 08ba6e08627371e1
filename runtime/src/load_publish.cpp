// load_publish.cpp - steps 7 and 8 of applying a patch (see
// patch_loader.cpp): the patch becomes the program's.
//
// The pages of the vtables it rewrites are made writable before its
// initialisers run and read-only again after. Then everything that
// allocates is recorded (applied_patches.h) and the mapping kept; only
// stores that cannot fail follow: one release store per slot, and a
// vtable's entries one by one. Last, debuggers, profilers and
// hotpatch_describe_address() learn the new functions
// (debug_registration.cpp).
#include "debug_registration.h"
#include "load_context.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace hotpatch_rt {
namespace {

// Gives the pages of every vtable to rewrite `prot`: writable for the
// copy (they are read-only after relocation), read-only again after.
// False, with the error set and every page read-only, if one cannot be.
bool protect_vtables(const LoadContext &c, int prot) {
  for (uint32_t i = 0; i < c.header.update_count; ++i) {
    const hotpatch_patch_update &u = c.updates[i];
    if (!(u.flags & HOTPATCH_UPDATE_VTABLE))
      continue;
    uintptr_t b = c.runtime(u.slot) & ~uintptr_t(4095);
    uintptr_t e = (c.runtime(u.slot) + u.old_body + 4095) & ~uintptr_t(4095);
    if (mprotect(reinterpret_cast<void *>(b), e - b, prot) != 0 && prot != PROT_READ) {
      c.refuse(HOTPATCH_MAP_FAILED, std::string("cannot make the vtable '") +
                                        (c.strings + u.name) + "' writable: " + strerror(errno));
      protect_vtables(c, PROT_READ);
      return false;
    }
  }
  return true;
}

} // namespace

bool open_vtables(LoadContext &c) { return protect_vtables(c, PROT_READ | PROT_WRITE); }

void close_vtables(LoadContext &c) { protect_vtables(c, PROT_READ); }

void publish(LoadContext &c) {
  {
    // Everything that can fail (allocate) comes first; once the mapping
    // is kept, only stores that cannot fail follow.
    RecordingPatches recording;
    AppliedPatches &records = recording.records();
    ++records.chains[c.base.build_id];
    for (const ImageSymbol &slot : c.elf.slots)
      records.slots[c.runtime(slot.addr)] = slot.name;
    for (uint32_t i = 0; i < c.header.update_count; ++i)
      if (!(c.updates[i].flags & HOTPATCH_UPDATE_VTABLE))
        records.newest[c.strings + c.updates[i].name] =
            reinterpret_cast<void *>(c.runtime(c.updates[i].new_body));
    records.pages.push_back({reinterpret_cast<uintptr_t>(c.mapping.addr),
                             reinterpret_cast<uintptr_t>(c.mapping.addr) + c.mapping.size});
    c.mapping.keep = true;
    c.unwind.keep();
  }
  for (uint32_t i = 0; i < c.header.update_count; ++i) {
    const hotpatch_patch_update &u = c.updates[i];
    if (u.flags & HOTPATCH_UPDATE_VTABLE) {
      // Entry by entry: a virtual call made meanwhile finds the old
      // function or the new one, never a torn pointer.
      auto *to = reinterpret_cast<uint64_t *>(c.runtime(u.slot));
      auto *from = reinterpret_cast<const uint64_t *>(c.runtime(u.new_body));
      for (uint64_t w = 0; w < u.old_body / 8; ++w)
        __atomic_store_n(&to[w], from[w], __ATOMIC_RELEASE);
      continue;
    }
    if (u.flags & HOTPATCH_UPDATE_NOT_HOT)
      continue;
    __atomic_store_n(reinterpret_cast<void **>(c.slot_at[i]),
                     reinterpret_cast<void *>(c.runtime(u.new_body)), __ATOMIC_RELEASE);
    ++c.published;
  }
  count_published();
}

void describe_to_debuggers(const LoadContext &c) {
  std::vector<DebugFunction> fns;
  // A hot function's new body is named after the function, as the
  // user knows it ("step(int)", not its ".hotpatch.body").
  const std::string body = ".hotpatch.body";
  for (const ImageSymbol &f : c.elf.functions) {
    std::string name = f.name;
    if (name.size() > body.size() &&
        name.compare(name.size() - body.size(), body.size(), body) == 0)
      name.resize(name.size() - body.size());
    fns.push_back({c.runtime(f.addr), f.size, name});
  }
  uintptr_t code_begin = UINTPTR_MAX, code_end = 0;
  for (const ElfW(Phdr) &p : c.loads)
    if (p.p_flags & PF_X) {
      code_begin = std::min<uintptr_t>(code_begin, c.runtime(p.p_vaddr));
      code_end = std::max<uintptr_t>(code_end, c.runtime(p.p_vaddr + p.p_memsz));
    }
  const char *eh = nullptr;
  uintptr_t eh_addr = 0;
  size_t eh_size = 0;
  for (const ImageSection &s : c.elf.sections)
    if (s.name == ".eh_frame" && (s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_size &&
        c.in_segment(s.hdr.sh_addr, s.hdr.sh_size)) {
      eh_addr = c.runtime(s.hdr.sh_addr);
      eh = reinterpret_cast<const char *>(eh_addr);
      eh_size = s.hdr.sh_size;
    }
  std::string image = c.base.name;
  if (c.base.is_main) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    image = n > 0 ? std::string(exe, n) : "the program";
  }
  // Debug sections stay in the file (never mapped); checked to lie in it.
  std::vector<DebugSection> dwarf;
  for (const ImageSection &s : c.elf.sections)
    if (!(s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_type == SHT_PROGBITS &&
        s.name.compare(0, 7, ".debug_") == 0 && s.hdr.sh_size)
      dwarf.push_back({s.name, c.image + s.hdr.sh_offset, static_cast<size_t>(s.hdr.sh_size),
                       (s.hdr.sh_flags & SHF_COMPRESSED) != 0});
  if (code_begin < code_end)
    register_patch_debug_info(c.header.chain_index, image, std::move(fns), code_begin,
                              code_end, eh, eh_addr, eh_size, dwarf, c.lines, c.runtime(0));
}

} // namespace hotpatch_rt
