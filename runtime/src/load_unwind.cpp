// load_unwind.cpp - step 6 of applying a patch, its unwind tables (see
// patch_loader.cpp): checked where they are mapped, then registered so that
// exceptions unwind through patched frames.
//
// The tables are checked in the mapped patch, where the unwinder will read
// them, after relocation and before the patch becomes read-only, record by
// record (patch_unwind.cpp). A function whose running version the unwinder
// knows must be covered whole by them. A patch refused after they are
// registered deregisters them before it is unmapped (LoadContext::unwind).
#include "load_context.h"

#include <algorithm>
#include <string>
#include <vector>

// libgcc's lookup of the FDE that covers `pc` (bases: three pointers out).
extern "C" const void *_Unwind_Find_FDE(void *pc, void *bases);

namespace hotpatch_rt {

hotpatch_status check_mapped_unwind(LoadContext &c) {
  auto mapped = [](const void *ctx, uint64_t link, uint64_t size) -> const unsigned char * {
    auto *self = static_cast<const LoadContext *>(ctx);
    uintptr_t b = reinterpret_cast<uintptr_t>(self->mapping.addr);
    uintptr_t at = self->runtime(link);
    if (at < b || at - b > self->mapping.size || size > self->mapping.size - (at - b))
      return nullptr;
    return reinterpret_cast<const unsigned char *>(at);
  };
  auto in_code = [](const void *ctx, uint64_t link, uint64_t size) {
    return static_cast<const LoadContext *>(ctx)->in_segment(link, size, PF_X);
  };
  // Exception tables that did not change stay in the program (or in the
  // patch that last changed them).
  auto known = [](const void *ctx, uint64_t link, uint64_t) {
    return static_cast<const LoadContext *>(ctx)->known_target(link);
  };
  std::vector<CodeRange> covered;
  std::string err = check_unwind(c.elf, mapped, in_code, known, &c, c.unwind_tables, covered);
  if (!err.empty())
    return c.refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
  // A function whose running version the unwinder knows must not lose
  // its unwind information: an exception through it would end the
  // program.
  for (uint32_t i = 0; i < c.header.update_count; ++i) {
    const hotpatch_patch_update &u = c.updates[i];
    if (u.flags & (HOTPATCH_UPDATE_NOT_HOT | HOTPATCH_UPDATE_VTABLE))
      continue;
    void *running = __atomic_load_n(reinterpret_cast<void **>(c.slot_at[i]), __ATOMIC_ACQUIRE);
    void *bases[3];
    if (!running || !_Unwind_Find_FDE(running, bases))
      continue;
    uint64_t size = 0;
    for (const ImageSymbol *f : functions_at(c.elf, u.new_body))
      size = std::max(size, f->size);
    bool whole = false;
    for (const CodeRange &r : covered)
      whole |= u.new_body >= r.begin && u.new_body - r.begin < r.size &&
               size <= r.size - (u.new_body - r.begin);
    if (!whole)
      return c.refuse(HOTPATCH_BAD_PATCH, std::string("its unwind table does not cover '") +
                                              (c.strings + u.name) +
                                              "', whose running version has one: rebuild the "
                                              "patch");
  }
  return HOTPATCH_OK;
}

void register_unwind(LoadContext &c) {
  for (const UnwindTable &t : c.unwind_tables)
    c.unwind.add(reinterpret_cast<void *>(c.runtime(t.link_addr)));
}

} // namespace hotpatch_rt
