// patch_checks.cpp - a patch image's sections, symbols and relocation
// tables, checked against its segments (see patch_checks.h).
#include "patch_checks.h"

#include <algorithm>
#include <cstring>

namespace hotpatch_rt {
namespace {

// [off, off + len) lies in [0, size), without a sum that could wrap.
bool within(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

bool ends_with(const std::string &s, const char *suffix) {
  size_t n = strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The segment that holds all of [addr, addr + size), or nullptr.
const ElfW(Phdr) *segment_of(const std::vector<ElfW(Phdr)> &loads, uint64_t addr, uint64_t size) {
  for (const ElfW(Phdr) &p : loads)
    if (addr >= p.p_vaddr && within(addr - p.p_vaddr, size, p.p_memsz))
      return &p;
  return nullptr;
}

// A NUL-terminated string at `off` of a string table, or nullptr.
const char *string_at(const char *table, uint64_t table_size, uint64_t off) {
  if (off >= table_size || !memchr(table + off, 0, table_size - off))
    return nullptr;
  return table + off;
}

std::string read_symbols(const char *image, uint64_t size, const ElfW(Shdr) &symtab,
                         const std::vector<ImageSection> &sections,
                         const std::vector<ElfW(Phdr)> &loads, PatchImage &out) {
  if (symtab.sh_entsize != sizeof(ElfW(Sym)) || symtab.sh_link >= sections.size())
    return "its symbol table is malformed";
  const ElfW(Shdr) &strtab = sections[symtab.sh_link].hdr;
  if (strtab.sh_type != SHT_STRTAB)
    return "its symbol table names no string table";
  const char *names = image + strtab.sh_offset;
  for (uint64_t i = 0; i < symtab.sh_size / sizeof(ElfW(Sym)); ++i) {
    ElfW(Sym) sym;
    memcpy(&sym, image + symtab.sh_offset + i * sizeof sym, sizeof sym);
    int type = ELF64_ST_TYPE(sym.st_info);
    if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF ||
        sym.st_shndx >= sections.size())
      continue;
    const char *name = string_at(names, strtab.sh_size, sym.st_name);
    if (!name)
      return "a symbol's name lies outside its string table";
    uint64_t flags = sections[sym.st_shndx].hdr.sh_flags;
    const ElfW(Phdr) *seg = segment_of(loads, sym.st_value, type == STT_OBJECT ? 8 : 1);
    if (!seg)
      continue; // the program's own symbols, at their running addresses
    if (type == STT_FUNC && (flags & SHF_EXECINSTR) && (seg->p_flags & PF_X))
      out.functions.push_back({sym.st_value, name, sym.st_size});
    std::string n = name;
    if (type == STT_OBJECT && (flags & SHF_WRITE) && (seg->p_flags & PF_W) &&
        sym.st_size == 8 && sym.st_value % 8 == 0 && ends_with(n, ".hotpatch.slot"))
      out.slots.push_back({sym.st_value, n.substr(0, n.size() - strlen(".hotpatch.slot"))});
  }
  (void)size;
  return "";
}

} // namespace

std::string read_patch_image(const char *image, uint64_t size,
                             const std::vector<ElfW(Phdr)> &loads, PatchImage &out) {
  ElfW(Ehdr) eh;
  memcpy(&eh, image, sizeof eh);
  if (eh.e_shoff == 0 || eh.e_shnum == 0)
    return "the image has no section table";
  if (eh.e_shentsize != sizeof(ElfW(Shdr)) ||
      !within(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(ElfW(Shdr)), size) ||
      eh.e_shstrndx >= eh.e_shnum)
    return "its section table lies outside the image";
  std::vector<ElfW(Shdr)> hdrs(eh.e_shnum);
  memcpy(hdrs.data(), image + eh.e_shoff, hdrs.size() * sizeof(ElfW(Shdr)));
  for (const ElfW(Shdr) &s : hdrs)
    if (s.sh_type != SHT_NOBITS && !within(s.sh_offset, s.sh_size, size))
      return "a section's contents lie outside the image";
  const ElfW(Shdr) &names = hdrs[eh.e_shstrndx];
  if (names.sh_type != SHT_STRTAB)
    return "its section names are not a string table";
  for (const ElfW(Shdr) &s : hdrs) {
    const char *name = string_at(image + names.sh_offset, names.sh_size, s.sh_name);
    if (!name)
      return "a section's name lies outside the section names";
    out.sections.push_back({name, s});
  }
  for (const ImageSection &s : out.sections)
    if (s.hdr.sh_type == SHT_SYMTAB) {
      std::string err = read_symbols(image, size, s.hdr, out.sections, loads, out);
      if (!err.empty())
        return err;
    }
  auto by_addr = [](const ImageSymbol &a, const ImageSymbol &b) { return a.addr < b.addr; };
  std::sort(out.functions.begin(), out.functions.end(), by_addr);
  std::sort(out.slots.begin(), out.slots.end(), by_addr);
  return "";
}

std::string read_line_table(const char *image, const PatchImage &img,
                            const std::vector<ElfW(Phdr)> &loads, LineTable &out) {
  const ImageSection *sec = nullptr;
  for (const ImageSection &s : img.sections)
    if (s.name == HOTPATCH_LINES_SECTION) {
      if (sec)
        return "it has two line tables";
      sec = &s;
    }
  if (!sec)
    return "";
  const ElfW(Shdr) &h = sec->hdr; // its contents lie in the image (read_patch_image)
  if (h.sh_type != SHT_PROGBITS || (h.sh_flags & SHF_ALLOC))
    return "its line table is not a section of data that is not loaded";
  hotpatch_lines_header lh;
  if (h.sh_size < sizeof lh)
    return "its line table is truncated";
  memcpy(&lh, image + h.sh_offset, sizeof lh);
  if (uint64_t(lh.row_count) * sizeof(hotpatch_line) + lh.files_size != h.sh_size - sizeof lh)
    return "its line table's size does not match its rows and files";
  const char *files = image + h.sh_offset + sizeof lh + uint64_t(lh.row_count) * sizeof(hotpatch_line);
  if (lh.files_size && files[lh.files_size - 1] != 0)
    return "its line table's last file name is not terminated";
  out.files.assign(files, lh.files_size);
  out.rows.resize(lh.row_count);
  memcpy(out.rows.data(), image + h.sh_offset + sizeof lh, out.rows.size() * sizeof(hotpatch_line));
  for (size_t i = 0; i < out.rows.size(); ++i) {
    const hotpatch_line &r = out.rows[i];
    if (i && r.addr < out.rows[i - 1].addr)
      return "its line table is not sorted by address";
    if (r.line && r.file >= lh.files_size)
      return "a row of its line table names no file";
    bool in_code = false;
    for (const ElfW(Phdr) &p : loads)
      if ((p.p_flags & PF_X) && r.addr >= p.p_vaddr &&
          (r.line ? r.addr - p.p_vaddr < p.p_memsz : r.addr - p.p_vaddr <= p.p_memsz))
        in_code = true;
    if (!in_code)
      return "a row of its line table lies outside its code";
  }
  return "";
}

std::string check_segments(const PatchImage &image, const std::vector<ElfW(Phdr)> &loads,
                           uint64_t range_lo, uint64_t range_hi) {
  std::vector<ElfW(Phdr)> sorted = loads;
  std::sort(sorted.begin(), sorted.end(),
            [](const ElfW(Phdr) &a, const ElfW(Phdr) &b) { return a.p_vaddr < b.p_vaddr; });
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    const ElfW(Phdr) &a = sorted[i], &b = sorted[i + 1];
    uint64_t a_end = a.p_vaddr + a.p_memsz; // both lie in the window: no wrap
    if (a_end > b.p_vaddr)
      return "two of its segments overlap";
    if (a.p_flags != b.p_flags && ((a_end + 4095) & ~uint64_t(4095)) > (b.p_vaddr & ~uint64_t(4095)))
      return "two of its segments share a page but need different permissions";
  }
  for (const ImageSection &s : image.sections) {
    const ElfW(Shdr) &h = s.hdr;
    if (!(h.sh_flags & SHF_ALLOC) || h.sh_size == 0 || (h.sh_flags & SHF_TLS))
      continue;
    // Sections of the program (at its addresses, far above the patch) and
    // of earlier patches (below it) are not loaded from the patch.
    if (h.sh_addr >= range_hi || (h.sh_addr < range_lo && h.sh_addr + h.sh_size <= range_lo))
      continue;
    const ElfW(Phdr) *seg = segment_of(loads, h.sh_addr, h.sh_size);
    if (!seg)
      return "its section '" + s.name + "' lies in no segment";
    if ((h.sh_flags & SHF_WRITE) && !(seg->p_flags & PF_W))
      return "its section '" + s.name + "' holds writable data but its segment is not writable";
    if ((h.sh_flags & SHF_EXECINSTR) && !(seg->p_flags & PF_X))
      return "its section '" + s.name + "' holds code but its segment is not executable";
    if (!(seg->p_flags & PF_R))
      return "its section '" + s.name + "' lies in a segment that is not readable";
    if (h.sh_type != SHT_NOBITS && !within(h.sh_addr - seg->p_vaddr, h.sh_size, seg->p_filesz))
      return "its section '" + s.name + "' has contents its segment does not load";
    if (h.sh_type != SHT_NOBITS &&
        (h.sh_offset < seg->p_offset || h.sh_offset - seg->p_offset != h.sh_addr - seg->p_vaddr))
      return "its section '" + s.name + "' is not where its segment loads it from";
  }
  return "";
}

std::vector<const ImageSymbol *> functions_at(const PatchImage &image, uint64_t addr) {
  std::vector<const ImageSymbol *> found;
  auto it = std::lower_bound(image.functions.begin(), image.functions.end(), addr,
                             [](const ImageSymbol &s, uint64_t a) { return s.addr < a; });
  for (; it != image.functions.end() && it->addr == addr; ++it)
    found.push_back(&*it);
  return found;
}

std::string check_relocations(const PatchImage &image, const DynamicRelocs &dyn) {
  if (!dyn.unsupported.empty())
    return "its dynamic section asks for " + dyn.unsupported + ", which this runtime does not apply";
  if (dyn.pltrel != -1 && dyn.pltrel != DT_RELA)
    return "its PLT relocations are not RELA relocations";
  if ((dyn.relaent && dyn.relaent != sizeof(ElfW(Rela))) || dyn.relasz % sizeof(ElfW(Rela)) ||
      dyn.pltrelsz % sizeof(ElfW(Rela)))
    return "its relocation tables are not arrays of Elf64_Rela";
  // The symbols relocations name are read through the dynamic section:
  // its tables must be the ones the section table describes.
  const ImageSection *dynsym = nullptr;
  if (dyn.symtab || dyn.strtab) {
    for (const ImageSection &s : image.sections)
      if (s.hdr.sh_type == SHT_DYNSYM && (s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_addr == dyn.symtab)
        dynsym = &s;
    if (!dynsym || (dyn.syment && dyn.syment != sizeof(ElfW(Sym))) ||
        dynsym->hdr.sh_entsize != sizeof(ElfW(Sym)))
      return "the symbol table its dynamic section names is not its .dynsym section";
    const ElfW(Shdr) *str = dynsym->hdr.sh_link < image.sections.size()
                                ? &image.sections[dynsym->hdr.sh_link].hdr
                                : nullptr;
    if (!str || str->sh_type != SHT_STRTAB || str->sh_addr != dyn.strtab ||
        str->sh_size != dyn.strsz)
      return "the string table its dynamic section names is not its symbols' string table";
  }
  for (const ImageSection &s : image.sections) {
    const ElfW(Shdr) &h = s.hdr;
    if (!(h.sh_flags & SHF_ALLOC) || h.sh_size == 0)
      continue;
    if (h.sh_type == SHT_REL || h.sh_type == SHT_RELR)
      return "its section '" + s.name + "' holds relocations of a kind this runtime does not apply";
    if (h.sh_type != SHT_RELA)
      continue;
    if (!dyn.present)
      return "it carries relocations ('" + s.name + "') but no dynamic segment to find them";
    bool named = (h.sh_addr == dyn.rela && h.sh_size == dyn.relasz) ||
                 (h.sh_addr == dyn.jmprel && h.sh_size == dyn.pltrelsz);
    if (!named)
      return "its relocations in '" + s.name + "' are not the ones its dynamic section names";
    if (h.sh_link && (!dynsym || h.sh_link >= image.sections.size() ||
                      &image.sections[h.sh_link] != dynsym))
      return "its relocations in '" + s.name + "' name another symbol table than its dynamic "
             "section's";
  }
  return "";
}

std::string check_got(const PatchImage &image, const std::vector<const ElfW(Rela) *> &relocs) {
  const ElfW(Shdr) *got = nullptr, *got_plt = nullptr;
  for (const ImageSection &s : image.sections)
    if ((s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_type == SHT_PROGBITS) {
      if (s.name == ".got")
        got = &s.hdr;
      else if (s.name == ".got.plt")
        got_plt = &s.hdr;
    }
  // An entry of `table` from its `skip`-th byte on.
  auto entry_of = [](const ElfW(Shdr) *table, uint64_t addr, uint64_t skip) {
    return table && addr >= table->sh_addr && addr - table->sh_addr >= skip &&
           within(addr - table->sh_addr, 8, table->sh_size) && (addr - table->sh_addr) % 8 == 0;
  };
  for (const ElfW(Rela) *r : relocs) {
    uint32_t type = ELF64_R_TYPE(r->r_info);
    if (type == R_X86_64_GLOB_DAT && !entry_of(got, r->r_offset, 0))
      return "a GOT relocation writes outside its GOT";
    if (type == R_X86_64_JUMP_SLOT && !entry_of(got_plt, r->r_offset, 24))
      return "a PLT relocation writes outside the entries of its PLT's GOT";
  }
  return "";
}

} // namespace hotpatch_rt
