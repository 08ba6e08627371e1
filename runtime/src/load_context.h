// load_context.h - what the steps of applying a patch share, and the steps.
// Internal to the runtime.
//
// hotpatch_apply_file (patch_loader.cpp, where the protocol is written out)
// runs the steps in order over one LoadContext, one file each:
//
//   load_header.cpp       1-2  the file's header, sizes and checksum; the
//                              image the patch was made for, its chain
//   load_elf.cpp          3    the ELF image: header, segments in the patch
//                              window, sections, symbols, line table
//   load_updates.cpp      3    slot updates, vtable updates, initialisers
//   load_mapping.cpp      4, 6 the mapping; the segments' final protection
//   load_relocations.cpp  5    the dynamic relocations, symbols bound as
//                              the process binds them
//   load_unwind.cpp       6    unwind tables checked where they are
//                              mapped, then registered
//   load_publish.cpp      7-8  vtables opened, the patch recorded and
//                              published, debuggers told
//
// Each step that can refuse returns HOTPATCH_OK or the status of a
// refusal, whose message it has set (LoadContext::refuse). The context
// holds the file as read and what the steps learnt of it; no address or
// size in it is trusted until a step has bounded it.
#ifndef HOTPATCH_RT_LOAD_CONTEXT_H
#define HOTPATCH_RT_LOAD_CONTEXT_H

#include "hotpatch/hotpatch.h"
#include "hotpatch/patch_format.h"
#include "applied_patches.h"
#include "internal.h"
#include "patch_checks.h"

#include <cstdint>
#include <elf.h>
#include <link.h>
#include <string>
#include <vector>

namespace hotpatch_rt {

/// An applied-but-unpublished mapping that undoes itself unless kept
/// (load_mapping.cpp).
struct Mapping {
  void *addr = nullptr;
  size_t size = 0;
  bool keep = false;
  bool in_arena = false; // a library's patch area: give the pages back to it
  Mapping() = default;
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  ~Mapping();
};

struct LoadContext {
  explicit LoadContext(const char *patch_path) : path(patch_path) {}
  LoadContext(const LoadContext &) = delete;
  LoadContext &operator=(const LoadContext &) = delete;

  // Sets the refusal message of this patch and returns `st`.
  hotpatch_status refuse(hotpatch_status st, const std::string &why) const;

  // The running address of a patch-link address.
  uintptr_t runtime(uint64_t link_addr) const {
    return base.load + link_addr - HOTPATCH_PATCH_BIAS;
  }

  // Written so that no sum can wrap: every address in a patch file is
  // untrusted until it is shown to lie inside one of its own segments.
  bool in_segment(uint64_t link_addr, uint64_t size, unsigned need_flags = 0) const {
    for (const ElfW(Phdr) &p : loads)
      if (link_addr >= p.p_vaddr && link_addr - p.p_vaddr <= p.p_memsz &&
          size <= p.p_memsz - (link_addr - p.p_vaddr) &&
          (p.p_flags & need_flags) == need_flags)
        return true;
    return false;
  }

  // A patch-link address a relocation may point at: this patch, the
  // program's own image, or an earlier patch (ends included: one past an
  // array is a valid pointer).
  bool known_target(uint64_t link) const;
  // A patch-link address in the image the patch was made for.
  bool in_base(uint64_t link) const;
  // A library's own code and data (not its patch area, where patches
  // define symbols the dynamic linker has never seen).
  bool in_library_proper(uint64_t link) const;
  // Where the dynamic linker bound a library's exported symbol `name` for
  // the library itself: the global scope first (the executable may define
  // it too), then the library. `own` is the library's own definition.
  uintptr_t bound(const char *name, uintptr_t own) const;
  // "the program", or the library's name in quotes.
  std::string image_name() const;

  const char *path;
  unsigned published = 0; // slots published
  // The file and its parts (load_header.cpp).
  std::string file;
  hotpatch_patch_header header;
  const hotpatch_patch_update *updates = nullptr;
  const uint64_t *inits = nullptr;
  const char *strings = nullptr;
  const char *image = nullptr;
  Image base; // the image the patch was made for
  // The ELF image (load_elf.cpp).
  ElfW(Ehdr) ehdr;
  ElfW(Phdr) dynamic = {};
  std::vector<ElfW(Phdr)> loads;
  uint64_t band_lo = 0, band_hi = 0; // the patch window
  bool arena = false; // the patch goes in its library's patch area
  uint64_t range_lo = 0, range_hi = 0; // the span of the segments
  PatchImage elf;
  LineTable lines;
  // The updates (load_updates.cpp).
  std::vector<RegisteredSlot> slots;
  std::vector<uintptr_t> slot_at; // each update's slot, as the process binds it
  // The mapping (load_mapping.cpp) and its unwind tables (load_unwind.cpp).
  std::vector<PatchPages> earlier; // the pages of the patches applied before
  std::vector<UnwindTable> unwind_tables;
  Mapping mapping;
  // Destroyed before the mapping: a refused patch's tables leave the
  // unwinder before its pages go.
  UnwindRegistration unwind;
};

// Steps 1-2 (load_header.cpp).
hotpatch_status check_header(LoadContext &c);
// Step 3 (load_elf.cpp, load_updates.cpp).
hotpatch_status check_elf(LoadContext &c);
hotpatch_status check_updates(LoadContext &c);
// Step 4 and the protection of step 6 (load_mapping.cpp).
hotpatch_status map_segments(LoadContext &c);
hotpatch_status protect_segments(LoadContext &c);
// Step 5 (load_relocations.cpp).
hotpatch_status relocate(LoadContext &c);
// Step 6 (load_unwind.cpp).
hotpatch_status check_mapped_unwind(LoadContext &c);
void register_unwind(LoadContext &c);
// Steps 7-8 (load_publish.cpp).
bool open_vtables(LoadContext &c);
void close_vtables(LoadContext &c);
void publish(LoadContext &c);
void describe_to_debuggers(const LoadContext &c);

} // namespace hotpatch_rt

#endif // HOTPATCH_RT_LOAD_CONTEXT_H
