// load_relocations.cpp - step 5 of applying a patch (see
// patch_loader.cpp): the dynamic relocations, applied in the mapped patch.
//
// The dynamic section's tables are checked as a whole first (every
// relocation section the image carries is one the dynamic section names;
// GOT and PLT relocations fill entries of their own; no two relocations
// write one place), then each relocation: it has a type, writes an aligned
// pointer in the patch's writable data, finds there what the link wrote,
// and points into the patch, the program or an earlier patch.
// Symbols the patch does not define come from the process (dlsym), as in a
// shared library. In a library's patch, the library's exported symbols are
// bound as the dynamic linker bound the library's own references (the
// global scope first, then the library), and thread-locals are the
// library's (its TLS module).
#include "load_context.h"

#include <algorithm>
#include <dlfcn.h>
#include <string>
#include <utility>
#include <vector>

namespace hotpatch_rt {
namespace {

// The patch's tables, read in place: inside a segment and aligned for
// their type (the mapping and the bias are page-aligned, so a link
// address's alignment is its runtime address's).
template <class T>
const T *at(const LoadContext &c, uint64_t link_addr, size_t count = 1) {
  if (link_addr % alignof(T) || !c.in_segment(link_addr, count * sizeof(T)))
    return nullptr;
  return reinterpret_cast<const T *>(c.runtime(link_addr));
}

// One relocation, checked and applied: `symtab`, `strtab` and `strsz` are
// what the dynamic section says.
hotpatch_status apply_relocation(const LoadContext &c, const ElfW(Rela) &r, uint64_t symtab,
                                 uint64_t strtab, uint64_t strsz) {
  uint32_t type = ELF64_R_TYPE(r.r_info);
  if (type == R_X86_64_NONE) // never in a linked image: a relocation lost its type
    return c.refuse(HOTPATCH_BAD_PATCH, "a relocation has no type: rebuild the patch");
  if (!c.in_segment(r.r_offset, 8, PF_W))
    return c.refuse(HOTPATCH_BAD_PATCH, "a relocation writes outside the patch's writable data");
  if (r.r_offset % 8) // a linker places every pointer it relocates aligned
    return c.refuse(HOTPATCH_BAD_PATCH,
                    "a relocation writes a misaligned pointer: rebuild the patch");
  auto *where = reinterpret_cast<uint64_t *>(c.runtime(r.r_offset));
  if (type == R_X86_64_RELATIVE) {
    if (ELF64_R_SYM(r.r_info) != 0) // the linker writes none: the info word was damaged
      return c.refuse(HOTPATCH_BAD_PATCH,
                      "a RELATIVE relocation names a symbol: rebuild the patch");
    if (!c.known_target(r.r_addend))
      return c.refuse(HOTPATCH_BAD_PATCH, "a relocation points outside the patch, the program "
                                          "and the patches before it: rebuild the patch");
    // The link wrote the addend at the place as well (--apply-dynamic-
    // relocs): a place or an addend changed alone no longer agree.
    if (*where != uint64_t(r.r_addend))
      return c.refuse(HOTPATCH_BAD_PATCH, "a relocation's place does not hold its addend: "
                                          "rebuild the patch");
    *where = c.runtime(r.r_addend);
    return HOTPATCH_OK;
  }
  bool tls = type == R_X86_64_DTPMOD64 || type == R_X86_64_DTPOFF64;
  if (type == R_X86_64_TPOFF64)
    return c.refuse(HOTPATCH_BAD_PATCH, "it reaches a thread-local of a library with the "
                                        "initial-exec model, which a patch cannot; build "
                                        "the library without -ftls-model=initial-exec");
  if (tls && c.base.is_main)
    return c.refuse(HOTPATCH_BAD_PATCH, "a patch of the program has a TLS module relocation: "
                                        "rebuild the patch");
  if (type != R_X86_64_64 && type != R_X86_64_GLOB_DAT && type != R_X86_64_JUMP_SLOT && !tls)
    return c.refuse(HOTPATCH_BAD_PATCH, "unsupported relocation type " + std::to_string(type));
  uint32_t index = ELF64_R_SYM(r.r_info);
  const ElfW(Sym) *sym = at<ElfW(Sym)>(c, symtab + index * sizeof(ElfW(Sym)));
  if (!sym || sym->st_name >= strsz)
    return c.refuse(HOTPATCH_BAD_PATCH, "a relocation names a symbol outside the patch");
  // A name starts a string of the table (a linker shares no tails there).
  const char *start = sym->st_name ? at<char>(c, strtab + sym->st_name - 1) : nullptr;
  if (sym->st_name && (!start || *start != 0))
    return c.refuse(HOTPATCH_BAD_PATCH, "a symbol's name starts inside another name: rebuild the "
                                        "patch");
  if (tls) {
    // The library's own thread-locals: its module, offsets in its block.
    if (index != 0 && (sym->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym->st_info) != STT_TLS))
      return c.refuse(HOTPATCH_BAD_PATCH, "it reaches a thread-local that its library does not "
                                          "define, which a patch cannot");
    if (c.base.tls_modid == 0)
      return c.refuse(HOTPATCH_BAD_PATCH, "it reaches thread-locals, but " + c.image_name() +
                                              " has none: rebuild the patch against it");
    *where = type == R_X86_64_DTPMOD64 ? c.base.tls_modid
                                       : (index ? sym->st_value : 0) + r.r_addend;
    return HOTPATCH_OK;
  }
  // What the link wrote at the place (--apply-dynamic-relocs): the
  // symbol's link value plus the addend, or for a PLT entry's slot the
  // address of the PLT code that first jumps through it.
  uint64_t link_value = (sym->st_shndx != SHN_UNDEF ? sym->st_value : 0) +
                        (type == R_X86_64_64 ? uint64_t(r.r_addend) : 0);
  // In a library's patch (linked -shared) a library symbol the dynamic
  // linker binds is preemptible: the link wrote only the addend there.
  bool preemptible = sym->st_shndx != SHN_UNDEF && c.in_library_proper(sym->st_value);
  uint64_t preemptible_value = type == R_X86_64_64 ? uint64_t(r.r_addend) : 0;
  if (type == R_X86_64_JUMP_SLOT
          ? !c.in_segment(*where, 1, PF_X)
          : *where != link_value && !(preemptible && *where == preemptible_value))
    return c.refuse(HOTPATCH_BAD_PATCH, "a relocation's place does not hold what the link wrote "
                                        "there: rebuild the patch");
  uint64_t value;
  if (sym->st_shndx != SHN_UNDEF) {
    if (!c.known_target(sym->st_value))
      return c.refuse(HOTPATCH_BAD_PATCH, "a relocation's symbol lies outside the patch, the "
                                          "program and the patches before it: rebuild the patch");
    value = c.runtime(sym->st_value);
    if (c.in_library_proper(sym->st_value)) {
      const char *name = at<char>(c, strtab + sym->st_name);
      if (!name)
        return c.refuse(HOTPATCH_BAD_PATCH, "symbol names lie outside the patch");
      value = c.bound(name, value);
    }
  } else {
    const char *name = at<char>(c, strtab + sym->st_name);
    if (!name)
      return c.refuse(HOTPATCH_BAD_PATCH, "symbol names lie outside the patch");
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p && ELF64_ST_BIND(sym->st_info) != STB_WEAK)
      return c.refuse(HOTPATCH_UNRESOLVED,
                      std::string("it needs '") + name +
                          "', which no library loaded in the program defines: link "
                          "the library that provides it into the program and restart");
    value = reinterpret_cast<uint64_t>(p);
  }
  *where = value + (type == R_X86_64_64 ? r.r_addend : 0);
  return HOTPATCH_OK;
}

} // namespace

hotpatch_status relocate(LoadContext &c) {
  if (!c.dynamic.p_type) {
    std::string err = check_relocations(c.elf, {});
    return err.empty() ? HOTPATCH_OK : c.refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
  }
  DynamicRelocs d;
  uint64_t symtab = 0, strtab = 0, strsz = 0;
  size_t n = c.dynamic.p_memsz / sizeof(ElfW(Dyn));
  const ElfW(Dyn) *dyn = at<ElfW(Dyn)>(c, c.dynamic.p_vaddr, n);
  if (!dyn)
    return c.refuse(HOTPATCH_BAD_PATCH, "the dynamic section lies outside the patch");
  d.present = true;
  for (size_t i = 0; i < n && dyn[i].d_tag != DT_NULL; ++i) {
    switch (dyn[i].d_tag) {
    case DT_RELA: d.rela = dyn[i].d_un.d_ptr; break;
    case DT_RELASZ: d.relasz = dyn[i].d_un.d_val; break;
    case DT_RELAENT: d.relaent = dyn[i].d_un.d_val; break;
    case DT_JMPREL: d.jmprel = dyn[i].d_un.d_ptr; break;
    case DT_PLTRELSZ: d.pltrelsz = dyn[i].d_un.d_val; break;
    case DT_PLTREL: d.pltrel = dyn[i].d_un.d_val; break;
    case DT_SYMTAB: symtab = d.symtab = dyn[i].d_un.d_ptr; break;
    case DT_STRTAB: strtab = d.strtab = dyn[i].d_un.d_ptr; break;
    case DT_STRSZ: strsz = d.strsz = dyn[i].d_un.d_val; break;
    case DT_SYMENT: d.syment = dyn[i].d_un.d_val; break;
    case DT_REL: case DT_RELSZ: d.unsupported = "REL relocations"; break;
    case DT_RELR: case DT_RELRSZ: d.unsupported = "RELR relocations"; break;
    case DT_TEXTREL: d.unsupported = "relocations of its code"; break;
    }
  }
  std::string err = check_relocations(c.elf, d);
  if (!err.empty())
    return c.refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
  uint64_t rela = d.rela, relasz = d.relasz, jmprel = d.jmprel, pltrelsz = d.pltrelsz;
  // The tables as a whole first, then each relocation: a place two
  // relocations write would otherwise be seen already relocated.
  std::vector<const ElfW(Rela) *> relocs;
  std::vector<uint64_t> targets, entries;
  for (auto [table, size] : {std::pair<uint64_t, uint64_t>{rela, relasz}, {jmprel, pltrelsz}}) {
    if (!size)
      continue;
    const ElfW(Rela) *r = at<ElfW(Rela)>(c, table, size / sizeof(ElfW(Rela)));
    if (!r)
      return c.refuse(HOTPATCH_BAD_PATCH, "relocations lie outside the patch");
    for (size_t i = 0; i < size / sizeof(ElfW(Rela)); ++i) {
      relocs.push_back(&r[i]);
      targets.push_back(r[i].r_offset);
      uint32_t type = ELF64_R_TYPE(r[i].r_info);
      if (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT)
        entries.push_back(uint64_t(type) << 32 | ELF64_R_SYM(r[i].r_info));
    }
  }
  std::string got_err = check_got(c.elf, relocs);
  if (!got_err.empty())
    return c.refuse(HOTPATCH_BAD_PATCH, got_err + ": rebuild the patch");
  // A linker makes one GOT entry and one PLT entry per symbol: two bound
  // to one symbol mean one relocation's symbol was changed.
  std::sort(entries.begin(), entries.end());
  if (std::adjacent_find(entries.begin(), entries.end()) != entries.end())
    return c.refuse(HOTPATCH_BAD_PATCH, "two GOT or PLT entries are bound to the same symbol: "
                                        "rebuild the patch");
  // Each relocation writes a pointer of its own: two that overlap mean
  // one was moved onto another's.
  std::sort(targets.begin(), targets.end());
  for (size_t i = 1; i < targets.size(); ++i)
    if (targets[i] - targets[i - 1] < 8)
      return c.refuse(HOTPATCH_BAD_PATCH,
                      "two relocations write the same place: rebuild the patch");
  for (const ElfW(Rela) *r : relocs) {
    hotpatch_status st = apply_relocation(c, *r, symtab, strtab, strsz);
    if (st != HOTPATCH_OK)
      return st;
  }
  return HOTPATCH_OK;
}

} // namespace hotpatch_rt
