// load_updates.cpp - step 3 of applying a patch, second half (see
// patch_loader.cpp): every slot update and initialiser, against the patch's
// own symbols and against what the runtime knows.
//
// A slot update's slot is one the program's images registered, or one an
// earlier patch defined, and belongs to the function the update names (a
// library's interposable slot as the dynamic linker bound it); its new body
// starts a function of that name in the patch's code. A vtable update
// copies data of the patch over a vtable in the image's relocated read-only
// data. No flag bit is unknown. Initialisers start functions of the patch.
// Only the header and the segment table are needed: nothing is mapped yet.
#include "hotpatch/slot_table.h"
#include "load_context.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace hotpatch_rt {
namespace {

std::string hex_number(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The function whose slot is at `slot` (a runtime address): a slot the
// program's images registered, or one an earlier patch defined; nullptr
// for any other address.
const char *slot_owner(const LoadContext &c, uintptr_t slot) {
  auto it = std::lower_bound(c.slots.begin(), c.slots.end(), slot,
                             [](const RegisteredSlot &s, uintptr_t a) {
                               return s.slot < a;
                             });
  if (it != c.slots.end() && it->slot == slot)
    return it->name;
  return patch_slot_owner(slot);
}

// Is a function of this patch named `name` (or its body) at `link_addr`?
bool function_start(const LoadContext &c, uint64_t link_addr, const char *name) {
  for (const ImageSymbol *f : functions_at(c.elf, link_addr))
    if (!name || f->name == name || f->name == std::string(name) + ".hotpatch.body")
      return true;
  return false;
}

// [link, link + size) lies in the image the patch was made for, outside
// its patch area.
bool in_library_or_program(const LoadContext &c, uint64_t link, uint64_t size) {
  uint64_t lo = c.base.begin - c.base.load + HOTPATCH_PATCH_BIAS;
  uint64_t hi = c.base.end - c.base.load + HOTPATCH_PATCH_BIAS;
  return link >= lo && link <= hi && size <= hi - link &&
         !(c.arena && link < c.band_hi && link + size > c.band_lo);
}

// A vtable rewritten in place: the new contents are data of this patch,
// and the running vtable lies in the image's relocated read-only data,
// which is where vtables are and where no program state is.
hotpatch_status check_vtable(const LoadContext &c, const hotpatch_patch_update &u,
                             const char *name) {
  uint64_t size = u.old_body;
  if (size == 0 || size % 8 || size > (1u << 20) || u.slot % 8 || u.new_body % 8)
    return c.refuse(HOTPATCH_BAD_PATCH, std::string("the vtable update of '") + name +
                                            "' has a bad size or alignment: rebuild the patch");
  if (!c.in_segment(u.new_body, size, PF_R) || c.in_segment(u.new_body, 1, PF_X))
    return c.refuse(HOTPATCH_BAD_PATCH, std::string("the new vtable of '") + name +
                                            "' is not data of the patch: rebuild the patch");
  if (!in_library_or_program(c, u.slot, size))
    return c.refuse(HOTPATCH_BAD_PATCH, std::string("the vtable '") + name + "' is not in " +
                                            c.image_name() + ": rebuild the patch");
  uintptr_t at = c.runtime(u.slot);
  if (c.base.relro_begin == c.base.relro_end || at < c.base.relro_begin ||
      at - c.base.relro_begin > c.base.relro_end - c.base.relro_begin ||
      size > c.base.relro_end - at)
    return c.refuse(HOTPATCH_BAD_PATCH, std::string("the vtable '") + name + "' of " +
                                            c.image_name() +
                                            " is not in its relocated read-only data: "
                                            "rebuild the patch");
  return HOTPATCH_OK;
}

} // namespace

hotpatch_status check_updates(LoadContext &c) {
  for (uint32_t i = 0; i < c.header.init_count; ++i)
    if (!c.in_segment(c.inits[i], 1, PF_X) || !function_start(c, c.inits[i], nullptr))
      return c.refuse(HOTPATCH_BAD_PATCH, "an initialiser is not the start of a function of the "
                                          "patch: rebuild the patch");
  c.slots = registered_slots();
  const uint32_t known = HOTPATCH_UPDATE_NEW_FUNCTION | HOTPATCH_UPDATE_NOT_HOT |
                         HOTPATCH_UPDATE_INTERPOSABLE | HOTPATCH_UPDATE_VTABLE;
  c.slot_at.assign(c.header.update_count, 0);
  for (uint32_t i = 0; i < c.header.update_count; ++i) {
    const hotpatch_patch_update &u = c.updates[i];
    if (u.name >= c.header.strings_size)
      return c.refuse(HOTPATCH_BAD_PATCH, "a slot update has no name");
    const char *name = c.strings + u.name;
    if (!memchr(name, 0, c.header.strings_size - u.name))
      return c.refuse(HOTPATCH_BAD_PATCH, "a function name is not terminated");
    if (u.flags & ~known)
      return c.refuse(HOTPATCH_BAD_PATCH,
                      std::string("the update of '") + name + "' has unknown flags " +
                          hex_number(u.flags & ~known) +
                          ": rebuild the patch with the matching thinlink");
    if (u.flags & HOTPATCH_UPDATE_VTABLE) {
      if (u.flags != HOTPATCH_UPDATE_VTABLE)
        return c.refuse(HOTPATCH_BAD_PATCH, std::string("the vtable update of '") + name +
                                                "' has other flags: rebuild the patch");
      hotpatch_status st = check_vtable(c, u, name);
      if (st != HOTPATCH_OK)
        return st;
      continue;
    }
    if (!c.in_segment(u.new_body, 1, PF_X) || !function_start(c, u.new_body, name))
      return c.refuse(HOTPATCH_BAD_PATCH, std::string("the new body of '") + name +
                                              "' is not the start of a function of that name in "
                                              "the patch's code: rebuild the patch");
    if (u.flags & HOTPATCH_UPDATE_NOT_HOT) {
      if (u.slot != 0)
        return c.refuse(HOTPATCH_BAD_PATCH, std::string("'") + name +
                                                "' is marked as having no slot but names one: "
                                                "rebuild the patch");
      continue;
    }
    uintptr_t slot = c.runtime(u.slot);
    if ((u.flags & HOTPATCH_UPDATE_INTERPOSABLE) && c.in_library_proper(u.slot))
      slot = c.bound((std::string(name) + HOTPATCH_SLOT_SUFFIX).c_str(), slot);
    c.slot_at[i] = slot;
    const char *owner = slot_owner(c, slot);
    if (!owner || strcmp(owner, name) != 0)
      return c.refuse(HOTPATCH_BAD_PATCH,
                      std::string("the slot of '") + name + "' (at " + hex_number(slot) +
                          ") is not " + (owner ? "its slot but that of '" + std::string(owner) + "'"
                                               : std::string("a slot of this program or of an "
                                                             "earlier patch")) +
                          ": rebuild the patch against this program");
  }
  return HOTPATCH_OK;
}

} // namespace hotpatch_rt
