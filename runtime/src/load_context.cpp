// load_context.cpp - what the steps of applying a patch ask of their
// context (see load_context.h): the refusal message, and where a
// patch-link address lies.
#include "load_context.h"

#include <dlfcn.h>

namespace hotpatch_rt {

hotpatch_status LoadContext::refuse(hotpatch_status st, const std::string &why) const {
  set_error_message(std::string("patch '") + path + "' refused: " + why +
                    "; the program keeps running its current code");
  return st;
}

bool LoadContext::known_target(uint64_t link) const {
  for (const ElfW(Phdr) &p : loads)
    if (link >= p.p_vaddr && link - p.p_vaddr <= p.p_memsz)
      return true;
  if (in_base(link))
    return true;
  uintptr_t at = runtime(link);
  for (const PatchPages &m : earlier)
    if (at >= m.begin && at <= m.end)
      return true;
  return false;
}

bool LoadContext::in_base(uint64_t link) const {
  uint64_t lo = base.begin - base.load + HOTPATCH_PATCH_BIAS;
  uint64_t hi = base.end - base.load + HOTPATCH_PATCH_BIAS;
  return link >= lo && link <= hi;
}

bool LoadContext::in_library_proper(uint64_t link) const {
  return !base.is_main && in_base(link) && !(link >= band_lo && link < band_hi);
}

uintptr_t LoadContext::bound(const char *name, uintptr_t own) const {
  if (base.is_main)
    return own;
  void *p = dlsym(RTLD_DEFAULT, name);
  return p ? reinterpret_cast<uintptr_t>(p) : own;
}

std::string LoadContext::image_name() const {
  return base.is_main ? std::string("the program") : "'" + base.name + "'";
}

} // namespace hotpatch_rt
