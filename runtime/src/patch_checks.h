// patch_checks.h - what the patch loader checks in a patch's ELF image beyond
// its header and program headers: the section table against the segments,
// the symbols that say where functions and slots start, the relocation
// tables against the dynamic section, and the unwind tables. Internal to the
// runtime.
//
// Every check returns "" when the image passes, or what is wrong in words
// fit for the refusal message. No address or size in the image is trusted
// until a check has bounded it.
#ifndef HOTPATCH_RT_PATCH_CHECKS_H
#define HOTPATCH_RT_PATCH_CHECKS_H

#include <cstdint>
#include <elf.h>
#include <link.h>
#include <string>
#include <vector>

#include "hotpatch/patch_format.h"

namespace hotpatch_rt {

struct ImageSection {
  std::string name;
  ElfW(Shdr) hdr;
};

struct ImageSymbol {
  uint64_t addr; // patch-link address
  std::string name;
  uint64_t size = 0;
};

// The section table and symbol table of a patch image, read once.
struct PatchImage {
  std::vector<ImageSection> sections;
  std::vector<ImageSymbol> functions; // STT_FUNC defined in the patch's code, by address
  std::vector<ImageSymbol> slots;     // "<f>.hotpatch.slot" in its writable data, by address
};

// Reads the section and symbol tables of `image` (`size` bytes), whose
// loadable segments are `loads` (already checked to lie in the patch window).
std::string read_patch_image(const char *image, uint64_t size,
                             const std::vector<ElfW(Phdr)> &loads, PatchImage &out);

// Every allocated section in [range_lo, range_hi), the span of the
// segments, lies in a segment whose permissions
// match it (code executable, writable data writable, all readable), and no
// two segments overlap or share a page with different permissions.
std::string check_segments(const PatchImage &image, const std::vector<ElfW(Phdr)> &loads,
                           uint64_t range_lo, uint64_t range_hi);

// The patch's source lines (hotpatch/patch_format.h, HOTPATCH_LINES_SECTION):
// rows by address in its code, each naming a path in `files`.
struct LineTable {
  std::vector<hotpatch_line> rows;
  std::string files;
};

// Reads the line table of `image`, if it has one: rows ascending, each in
// an executable segment (a row of line 0 may end one), naming a path of the
// table. An image without one gives an empty table.
std::string read_line_table(const char *image, const PatchImage &img,
                            const std::vector<ElfW(Phdr)> &loads, LineTable &out);

// The names of the functions starting at `addr` (empty if none does).
std::vector<const ImageSymbol *> functions_at(const PatchImage &image, uint64_t addr);

// What the dynamic section says about relocations.
struct DynamicRelocs {
  bool present = false; // the image has a PT_DYNAMIC segment
  uint64_t rela = 0, relasz = 0, relaent = 0, jmprel = 0, pltrelsz = 0;
  uint64_t symtab = 0, strtab = 0, strsz = 0, syment = 0;
  int64_t pltrel = -1;
  std::string unsupported; // a tag this runtime does not apply, if any
};

// Every relocation section the image carries is one the dynamic section
// names, so that all of them are applied; no unsupported kind is used; and
// the symbol and string tables the dynamic section names are the image's
// .dynsym and its strings, the ones its relocation sections name.
std::string check_relocations(const PatchImage &image, const DynamicRelocs &dyn);

// Every GOT relocation (GLOB_DAT) fills an entry of the GOT and every PLT
// relocation (JUMP_SLOT) one of the PLT's GOT after its three reserved
// words: a GOT relocation moved onto a reserved word (which holds 0, as the
// entry of an undefined symbol does) would leave its own entry empty. Not
// every GOT entry has a relocation: the thread pointer offsets of the
// program's own thread-locals are constants of the link.
std::string check_got(const PatchImage &image, const std::vector<const ElfW(Rela) *> &relocs);

// The .eh_frame sections to register, each checked record by record in the
// mapped patch: lengths inside the section, the x86-64 CIE, every FDE naming
// a CIE before it and covering code of this patch, exception tables in the
// patch or the program, call frame instructions known and in range, and a
// zero terminator after the last record inside the mapping.
// `mapped(link, size)` gives the mapped bytes of a patch-link range, or
// nullptr outside the mapping; `in_code(link, size)` says whether a range is
// code of this patch; `known(link, size)` whether it lies in the patch, the
// program or an earlier patch (unchanged exception tables stay where they
// were). `covered` gets the code ranges the FDEs describe.
struct UnwindTable {
  uint64_t link_addr;
};
struct CodeRange {
  uint64_t begin, size; // patch-link addresses an FDE covers
};
std::string check_unwind(const PatchImage &image,
                         const unsigned char *(*mapped)(const void *ctx, uint64_t, uint64_t),
                         bool (*in_code)(const void *ctx, uint64_t, uint64_t),
                         bool (*known)(const void *ctx, uint64_t, uint64_t), const void *ctx,
                         std::vector<UnwindTable> &out, std::vector<CodeRange> &covered);

// Registers unwind tables with the unwinder; deregisters them again when
// destroyed unless kept (a patch refused after registration).
class UnwindRegistration {
public:
  UnwindRegistration() = default;
  UnwindRegistration(const UnwindRegistration &) = delete;
  UnwindRegistration &operator=(const UnwindRegistration &) = delete;
  ~UnwindRegistration();
  void add(void *eh_frame);
  void keep() { keep_ = true; }

private:
  std::vector<void *> frames_;
  bool keep_ = false;
};

} // namespace hotpatch_rt

#endif // HOTPATCH_RT_PATCH_CHECKS_H
