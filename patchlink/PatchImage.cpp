//===- PatchImage.cpp - the linked patch, reduced to what is loaded -------===//
#include "PatchImage.h"

#include "hotpatch/patch_format.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Compression.h"

#include <vector>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

using ELFT = ELF64LE;

static Error bad(const Twine &What) {
  return createStringError(inconvertibleErrorCode(), "the linked patch " + What);
}

/// A debug section compressed as an ELF SHF_COMPRESSED section (zstd, the
/// header then the frame), which GDB and LLDB inflate when they read the
/// patch's object; "" to keep it as it is: already compressed, too small
/// to gain, or one of the two the runtime moves to the running addresses
/// (.debug_addr, .debug_line), which must stay readable to it.
static std::string compressDebugSection(StringRef Name, uint64_t Flags, StringRef Bytes) {
  if ((Flags & ELF::SHF_COMPRESSED) || Name == ".debug_addr" || Name == ".debug_line" ||
      Bytes.size() < 256 || !compression::zstd::isAvailable())
    return "";
  SmallVector<uint8_t, 0> Frame;
  compression::zstd::compress(arrayRefFromStringRef(Bytes), Frame,
                              compression::zstd::DefaultCompression);
  ELFT::Chdr H;
  memset(&H, 0, sizeof H);
  H.ch_type = ELF::ELFCOMPRESS_ZSTD;
  H.ch_size = Bytes.size();
  H.ch_addralign = 1;
  if (sizeof H + Frame.size() >= Bytes.size())
    return "";
  std::string Out(reinterpret_cast<const char *>(&H), sizeof H);
  Out.append(reinterpret_cast<const char *>(Frame.data()), Frame.size());
  return Out;
}

Expected<std::string> compactPatchImage(StringRef Elf, StringRef Lines) {
  auto Obj = ELFFile<ELFT>::create(Elf);
  if (!Obj)
    return Obj.takeError();
  const ELFT::Ehdr &H = Obj->getHeader();
  auto PhdrsOrErr = Obj->program_headers();
  if (!PhdrsOrErr)
    return PhdrsOrErr.takeError();
  auto SecsOrErr = Obj->sections();
  if (!SecsOrErr)
    return SecsOrErr.takeError();
  std::vector<ELFT::Phdr> Phdrs(PhdrsOrErr->begin(), PhdrsOrErr->end());
  ArrayRef<ELFT::Shdr> Secs = *SecsOrErr;

  std::string Out(sizeof(ELFT::Ehdr) + Phdrs.size() * sizeof(ELFT::Phdr), '\0');
  auto Align = [&](size_t A) {
    while (Out.size() % A)
      Out.push_back('\0');
  };
  // The loaded segments' bytes, each moved to a new offset.
  struct Moved {
    uint64_t OldOffset, Size, NewOffset;
  };
  std::vector<Moved> Loads;
  for (const ELFT::Phdr &P : Phdrs) {
    if (P.p_type != ELF::PT_LOAD || !P.p_filesz)
      continue;
    if (P.p_offset > Elf.size() || P.p_filesz > Elf.size() - P.p_offset)
      return bad("has a segment outside the file");
    Align(16);
    Loads.push_back({P.p_offset, P.p_filesz, Out.size()});
    Out.append(Elf.data() + P.p_offset, P.p_filesz);
  }
  auto NewOffset = [&](uint64_t Off, uint64_t Size) -> std::optional<uint64_t> {
    for (const Moved &M : Loads)
      if (Off >= M.OldOffset && Off + Size <= M.OldOffset + M.Size)
        return Off - M.OldOffset + M.NewOffset;
    return std::nullopt;
  };
  for (ELFT::Phdr &P : Phdrs) {
    if (!P.p_filesz) {
      P.p_offset = 0;
      continue;
    }
    std::optional<uint64_t> N = NewOffset(P.p_offset, P.p_filesz);
    if (!N)
      return bad("has a segment whose bytes are in no loaded segment");
    P.p_offset = *N;
    if (P.p_type == ELF::PT_LOAD)
      P.p_align = 16;
  }
  auto InLoad = [&](const ELFT::Shdr &S) {
    if (!(S.sh_flags & ELF::SHF_ALLOC))
      return false;
    for (const ELFT::Phdr &P : Phdrs)
      if (P.p_type == ELF::PT_LOAD && S.sh_addr >= P.p_vaddr &&
          S.sh_addr + S.sh_size <= P.p_vaddr + P.p_memsz)
        return true;
    return false;
  };

  // The sections kept: those inside a loaded segment, then a new symbol
  // table, its strings and the section names.
  std::vector<unsigned> NewIndex(Secs.size(), 0);
  std::vector<ELFT::Shdr> Kept(1);
  memset(&Kept[0], 0, sizeof(ELFT::Shdr));
  auto OldNames = Obj->getSectionStringTable(Secs);
  if (!OldNames)
    return OldNames.takeError();
  std::string ShStr(1, '\0');
  auto AddName = [&](StringRef N) {
    uint32_t Off = ShStr.size();
    ShStr += N.str();
    ShStr.push_back('\0');
    return Off;
  };
  for (size_t I = 1; I < Secs.size(); ++I) {
    const ELFT::Shdr &S = Secs[I];
    auto Name = Obj->getSectionName(S, *OldNames);
    if (!Name)
      return Name.takeError();
    if (!(S.sh_flags & ELF::SHF_ALLOC) && Name->starts_with(".debug_") &&
        S.sh_type == ELF::SHT_PROGBITS && S.sh_size) {
      // Debug info travels in the file, never in the mapped pages: the
      // runtime hands it to debuggers (debug_registration.cpp).
      if (S.sh_offset > Elf.size() || S.sh_size > Elf.size() - S.sh_offset)
        return bad("has section '" + *Name + "' outside the file");
      ELFT::Shdr N = S;
      N.sh_name = AddName(*Name);
      Align(8);
      N.sh_offset = Out.size();
      N.sh_link = 0;
      N.sh_info = 0;
      StringRef Bytes(Elf.data() + S.sh_offset, S.sh_size);
      std::string Packed = compressDebugSection(*Name, S.sh_flags, Bytes);
      if (!Packed.empty()) {
        N.sh_flags |= ELF::SHF_COMPRESSED;
        N.sh_addralign = 8;
        N.sh_size = Packed.size();
        Out += Packed;
      } else {
        Out.append(Bytes.data(), Bytes.size());
      }
      NewIndex[I] = Kept.size();
      Kept.push_back(N);
      continue;
    }
    if (!InLoad(S))
      continue;
    ELFT::Shdr N = S;
    N.sh_name = AddName(*Name);
    if (S.sh_type != ELF::SHT_NOBITS && S.sh_size) {
      std::optional<uint64_t> Off = NewOffset(S.sh_offset, S.sh_size);
      if (!Off)
        return bad("has section '" + *Name + "' outside its segment's bytes");
      N.sh_offset = *Off;
    } else {
      N.sh_offset = 0;
    }
    NewIndex[I] = Kept.size();
    Kept.push_back(N);
  }
  for (size_t I = 1; I < Kept.size(); ++I) {
    // Links between kept sections (.dynsym -> .dynstr, .rela.dyn -> .dynsym).
    Kept[I].sh_link = Kept[I].sh_link < Secs.size() ? NewIndex[Kept[I].sh_link] : 0;
    if (Kept[I].sh_flags & ELF::SHF_INFO_LINK)
      Kept[I].sh_info = Kept[I].sh_info < Secs.size() ? NewIndex[Kept[I].sh_info] : 0;
  }

  // Symbols the patch defines, locals first.
  std::vector<ELFT::Sym> Locals(1), Globals;
  memset(&Locals[0], 0, sizeof(ELFT::Sym));
  std::string Str(1, '\0');
  for (const ELFT::Shdr &S : Secs) {
    if (S.sh_type != ELF::SHT_SYMTAB)
      continue;
    auto Syms = Obj->symbols(&S);
    auto Strs = Obj->getStringTableForSymtab(S);
    if (!Syms || !Strs)
      return bad("has a broken symbol table");
    for (const ELFT::Sym &Sym : Syms->drop_front()) {
      if (Sym.st_shndx == ELF::SHN_UNDEF || Sym.st_shndx >= Secs.size() ||
          !NewIndex[Sym.st_shndx] || Sym.getType() == ELF::STT_SECTION ||
          Sym.getType() == ELF::STT_FILE)
        continue;
      auto Name = Sym.getName(*Strs);
      if (!Name)
        return Name.takeError();
      ELFT::Sym N = Sym;
      N.st_name = Str.size();
      Str += Name->str();
      Str.push_back('\0');
      N.st_shndx = NewIndex[Sym.st_shndx];
      (Sym.getBinding() == ELF::STB_LOCAL ? Locals : Globals).push_back(N);
    }
  }
  unsigned FirstGlobal = Locals.size();
  Locals.insert(Locals.end(), Globals.begin(), Globals.end());

  // The names of the three sections come first: the section-name table is
  // complete before it is written.
  uint32_t SymTabName = AddName(".symtab"), StrTabName = AddName(".strtab"),
           ShStrTabName = AddName(".shstrtab");
  uint32_t LinesName = Lines.empty() ? 0 : AddName(HOTPATCH_LINES_SECTION);
  auto AddSection = [&](uint32_t Name, uint32_t Type, StringRef Data, uint64_t EntSize,
                        uint64_t AddrAlign) {
    Align(8);
    ELFT::Shdr N;
    memset(&N, 0, sizeof N);
    N.sh_name = Name;
    N.sh_type = Type;
    N.sh_offset = Out.size();
    N.sh_size = Data.size();
    N.sh_entsize = EntSize;
    N.sh_addralign = AddrAlign;
    Out.append(Data.data(), Data.size());
    Kept.push_back(N);
    return Kept.size() - 1;
  };
  size_t SymTab = AddSection(
      SymTabName, ELF::SHT_SYMTAB,
      StringRef(reinterpret_cast<const char *>(Locals.data()), Locals.size() * sizeof(ELFT::Sym)),
      sizeof(ELFT::Sym), 8);
  size_t StrTab = AddSection(StrTabName, ELF::SHT_STRTAB, Str, 0, 1);
  Kept[SymTab].sh_link = StrTab;
  Kept[SymTab].sh_info = FirstGlobal;
  if (!Lines.empty())
    AddSection(LinesName, ELF::SHT_PROGBITS, Lines, 0, 8);
  size_t ShStrTab = AddSection(ShStrTabName, ELF::SHT_STRTAB, ShStr, 0, 1);

  Align(8);
  ELFT::Ehdr NH = H;
  NH.e_phoff = sizeof(ELFT::Ehdr);
  NH.e_shoff = Out.size();
  NH.e_shnum = Kept.size();
  NH.e_shstrndx = ShStrTab;
  Out.append(reinterpret_cast<const char *>(Kept.data()), Kept.size() * sizeof(ELFT::Shdr));
  memcpy(Out.data(), &NH, sizeof NH);
  memcpy(Out.data() + sizeof NH, Phdrs.data(), Phdrs.size() * sizeof(ELFT::Phdr));
  return Out;
}

} // namespace hotpatch
