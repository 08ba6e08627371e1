//===- GhostObjects.cpp - objects rewritten for the patch link --------------===//
//
// Pass 5 of a thin link: a copy of each rebuilt object in which ghost sections
// are renamed and lose their relocations, and .eh_frame loses the FDEs of
// ghost code.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

/// Ghost sections keep their bytes out of the patch and their relocations
/// out of the link; FDEs describing ghost code go with them.
Error rewrite(PatchContext &C, Rebuilt &R) {
  std::unique_ptr<WritableMemoryBuffer> Copy =
      WritableMemoryBuffer::getNewUninitMemBuffer(R.Buffer->getBufferSize());
  memcpy(Copy->getBufferStart(), R.Buffer->getBufferStart(),
         R.Buffer->getBufferSize());
  auto Obj = ELFFile<ELFT>::create(
      StringRef(Copy->getBufferStart(), Copy->getBufferSize()));
  if (!Obj)
    return Obj.takeError();
  auto SecsOrErr = Obj->sections();
  if (!SecsOrErr)
    return SecsOrErr.takeError();
  ArrayRef<Elf_Shdr> Secs = *SecsOrErr;
  // Section headers live in the copy: edit them through a mutable pointer.
  auto *Shdrs = reinterpret_cast<Elf_Shdr *>(
      Copy->getBufferStart() + Obj->getHeader().e_shoff);

  auto IsGhost = [&](unsigned Index) {
    auto It = R.Plans.find(Index);
    return It != R.Plans.end() && It->second.F == Fate::Ghost;
  };
  ArrayRef<Elf_Sym> Syms;
  for (const Elf_Shdr &S : Secs)
    if (S.sh_type == ELF::SHT_SYMTAB) {
      auto SymsOrErr = Obj->symbols(&S);
      if (!SymsOrErr)
        return SymsOrErr.takeError();
      Syms = *SymsOrErr;
    }

  for (size_t I = 0; I < Secs.size(); ++I) {
    const Elf_Shdr &S = Secs[I];
    if (S.sh_type != ELF::SHT_RELA || S.sh_info >= Secs.size())
      continue;
    unsigned Target = S.sh_info;
    if (IsGhost(Target) ||
        (R.Plans.count(Target) && R.Plans[Target].F == Fate::Discard)) {
      Shdrs[I].sh_size = 0;
      continue;
    }
    auto TargetName = Obj->getSectionName(Secs[Target]);
    if (!TargetName)
      return TargetName.takeError();
    if (*TargetName != ".eh_frame")
      continue;
    // Drop every relocation of an FDE whose pc_begin is ghost code: lld
    // ignores FDEs without relocations. CIE relocations (personality) stay.
    auto EhOrErr = Obj->getSectionContents(Secs[Target]);
    if (!EhOrErr)
      return EhOrErr.takeError();
    ArrayRef<uint8_t> Eh = *EhOrErr;
    auto Checked = Obj->relas(S); // bounds of the relocation section
    if (!Checked)
      return Checked.takeError();
    auto *Relas = reinterpret_cast<Elf_Rela *>(Copy->getBufferStart() + S.sh_offset);
    size_t N = Checked->size();
    // The first relocation at each offset: an FDE's pc_begin is at +8.
    DenseMap<uint64_t, size_t> AtOffset;
    for (size_t K = 0; K < N; ++K)
      AtOffset.try_emplace(Relas[K].r_offset, K);
    std::vector<std::pair<uint64_t, uint64_t>> DeadFdes; // in offset order
    for (uint64_t Off = 0; Off + 8 <= Eh.size();) {
      uint32_t Len = support::endian::read32le(Eh.data() + Off);
      if (Len == 0 || Len == 0xffffffff)
        break;
      uint32_t Id = support::endian::read32le(Eh.data() + Off + 4);
      uint64_t End = Off + 4 + Len;
      if (Id != 0)
        if (auto K = AtOffset.find(Off + 8); K != AtOffset.end()) {
          uint32_t SI = Relas[K->second].getSymbol(false);
          if (SI < Syms.size() && IsGhost(Syms[SI].st_shndx))
            DeadFdes.push_back({Off, End});
        }
      Off = End;
    }
    auto InDeadFde = [&](uint64_t Offset) {
      auto It = llvm::upper_bound(DeadFdes, Offset, [](uint64_t O, const auto &F) {
        return O < F.first;
      });
      return It != DeadFdes.begin() && Offset < std::prev(It)->second;
    };
    size_t Kept = 0;
    for (size_t K = 0; K < N; ++K)
      if (!InDeadFde(Relas[K].r_offset))
        Relas[Kept++] = Relas[K];
    Shdrs[I].sh_size = Kept * sizeof(Elf_Rela);
  }
  // Ghosts get unique names (".hpghost.<object>.<index>"): a linker script
  // selects input sections by name, and an object may hold several sections
  // of one name (one per COMDAT group). The new names go in a section-name
  // table appended to the file; the section headers stay where they are.
  unsigned ObjIndex = &R - C.Objects.data();
  const Elf_Shdr &OldNames = Secs[Obj->getHeader().e_shstrndx];
  auto OldStrsOrErr = Obj->getSectionContents(OldNames);
  if (!OldStrsOrErr)
    return OldStrsOrErr.takeError();
  ArrayRef<uint8_t> OldStrs = *OldStrsOrErr;
  std::string Names(reinterpret_cast<const char *>(OldStrs.data()), OldStrs.size());
  for (auto &[Index, P] : R.Plans) {
    if (P.F == Fate::Discard) {
      // Left out of the link by the script's /DISCARD/.
      Shdrs[Index].sh_name = Names.size();
      Names += (".hpdiscard." + Twine(ObjIndex) + "." + Twine(Index)).str();
      Names.push_back('\0');
    }
    if (P.F != Fate::Ghost)
      continue;
    Shdrs[Index].sh_name = Names.size();
    Names += (".hpghost." + Twine(ObjIndex) + "." + Twine(Index)).str();
    Names.push_back('\0');
  }
  Shdrs[Obj->getHeader().e_shstrndx].sh_offset = Copy->getBufferSize();
  Shdrs[Obj->getHeader().e_shstrndx].sh_size = Names.size();

  R.PatchedPath = (C.WorkDir + "/" + Twine(ObjIndex) + "-" +
                   sys::path::filename(R.Path))
                      .str();
  return writeFileAtomically(R.PatchedPath, [&](raw_ostream &OS) {
    OS.write(Copy->getBufferStart(), Copy->getBufferSize());
    OS << Names;
  });
}

} // namespace patchlink
} // namespace hotpatch
